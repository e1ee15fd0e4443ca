"""The two polling helpers every test shares (tests/waiting.py): they return what the condition
found, give up naming what was awaited, and stop at once when the condition raises."""

from __future__ import annotations

import itertools

import pytest

from tests.waiting import async_wait_until, wait_until


def test_wait_until_returns_the_first_truthy_value() -> None:
    counter = itertools.count()

    found = wait_until(lambda: next(counter) >= 3 and "ready", interval=0.001)

    assert found == "ready"


def test_wait_until_gives_up_naming_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.05 s waiting for the moon"):
        wait_until(lambda: None, timeout=0.05, what="the moon")


def test_an_error_in_the_condition_ends_the_wait_at_once() -> None:
    def dead() -> bool:
        raise RuntimeError("the process exited")

    with pytest.raises(RuntimeError, match="exited"):
        wait_until(dead, timeout=60)


async def test_async_wait_until_awaits_a_coroutine_condition() -> None:
    counter = itertools.count()

    async def probe() -> dict | None:
        return {"id": 7} if next(counter) >= 2 else None

    assert await async_wait_until(probe, interval=0.001) == {"id": 7}


async def test_async_wait_until_gives_up_naming_what_it_waited_for() -> None:
    async def never() -> None:
        return None

    with pytest.raises(AssertionError, match="waiting for a ticket"):
        await async_wait_until(never, timeout=0.05, what="a ticket")
