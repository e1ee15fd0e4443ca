"""The HTTP API, one blueprint per resource; `app.py` registers them all."""
