"""A skip nobody can miss: a test of the production path that cannot run says so at once, in a
banner, and again at the end of the run, instead of passing silently (`tests/conftest.py` prints
the summary)."""

from __future__ import annotations

import sys
from typing import NoReturn

import pytest

skipped: list[str] = []


def skip_loudly(message: str) -> NoReturn:
    if message not in skipped:
        skipped.append(message)
        print(f"\n{'!' * 78}\n!!! {message}\n{'!' * 78}", file=sys.stderr)
    pytest.skip(message)
