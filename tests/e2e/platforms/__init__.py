"""Local stand-ins of the messaging platforms' HTTP APIs, for the channel tests
(`tests/e2e/test_messaging_platforms.py`). `local_platforms.py` starts them all."""
