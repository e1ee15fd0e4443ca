"""A trained Rasa model's NLU, one text at a time, for the command-line tools.

`python -m handoff_component score --model` and `rules test --model` parse text with the bot's
own model, without a running server. Both need the same care: Rasa logs to stdout while it loads
and parses, and their stdout is the result (JSON lines, a replay), so Rasa's output goes to
stderr and its logging is kept to warnings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from types import TracebackType
from typing import Any

from rasa.core.agent import Agent
from rasa.utils.common import configure_logging_and_warnings
from rasa.utils.log_utils import configure_structlog


class TrainedModel:
    """A loaded model and the event loop that runs its parses; close it (or use `with`)."""

    def __init__(self, path: str) -> None:
        configure_logging_and_warnings(logging.WARNING)
        configure_structlog(logging.WARNING)
        self._loop = asyncio.new_event_loop()
        try:
            with contextlib.redirect_stdout(sys.stderr):
                self._agent = Agent.load(path)
            if not self._agent.is_ready():
                raise ValueError("no model could be loaded from this path")
        except BaseException:
            self._loop.close()
            raise

    def parse(self, text: str) -> dict[str, Any]:
        """Rasa's parse data for `text`, as `/model/parse` answers it (with `handoff` when the
        pipeline has HandoffScorer)."""
        with contextlib.redirect_stdout(sys.stderr):
            return self._loop.run_until_complete(self._agent.parse_message(text))

    def close(self) -> None:
        self._loop.close()

    def __enter__(self) -> TrainedModel:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
