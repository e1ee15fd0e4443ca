"""Waiting for what gives no event to await: another process's port, its state, a row it wrote.

A test that can await an event (a queue, an asyncio.Event, a Playwright expectation) does that.
These two are for the rest: they poll a condition until it returns something truthy and return
it, or fail naming what was awaited. An exception the condition raises (a process that died,
say) ends the wait at once.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

POLL_INTERVAL_S = 0.05


def wait_until(
    condition: Callable[[], T],
    *,
    timeout: float = 10.0,
    what: str = "the condition",
    interval: float = POLL_INTERVAL_S,
) -> T:
    """Call `condition` until it returns something truthy; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


async def async_wait_until(
    condition: Callable[[], Awaitable[T] | T],
    *,
    timeout: float = 10.0,
    what: str = "the condition",
    interval: float = POLL_INTERVAL_S,
) -> T:
    """`wait_until` inside an event loop; `condition` may be a coroutine function."""
    deadline = time.monotonic() + timeout
    while True:
        value: Any = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def answers(url: str) -> bool:
    """Whether an HTTP GET of `url` gets a 2xx answer now (a process's health endpoint)."""
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
