"""Commands from the service to Rasa's HandoffConnector: reply, typing, pause, resume.

Each command is signed like every cross-process call and retried a few times when no answer came
or the answer may change later (a 5xx, 429: `handoff_component.signed_http`). The result always
says what happened, so the caller can tell the attendant and mark a reply undelivered; nothing is
dropped silently. With no connector URL configured (tests, a service run on its own) the result
says `not_configured`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

from handoff_component import contract
from handoff_component.signed_http import Unreachable, encode_json, post_signed

logger = logging.getLogger(__name__)

DELIVERED = "delivered"
FAILED = "failed"
NOT_CONFIGURED = "not_configured"


@dataclass(frozen=True)
class CommandResult:
    status: str
    attempts: int = 0
    error: str | None = None
    answer: Any = None  # the connector's JSON answer when it took the command (else None)

    @property
    def ok(self) -> bool:
        return self.status == DELIVERED

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "attempts": self.attempts, "error": self.error}


class ConnectorClient:
    def __init__(
        self,
        base_url: str | None,
        secret: str,
        *,
        timeout_seconds: float = 5.0,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/" if base_url else None
        self.secret = secret
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.attempts = max(1, attempts)
        self.backoff_seconds = backoff_seconds
        self._session: aiohttp.ClientSession | None = None

    @property
    def configured(self) -> bool:
        return self.base_url is not None

    async def start(self) -> None:
        if self.configured and self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, path: str, command: Any) -> CommandResult:
        """POST one command (a contract dataclass) to `{base_url}{path}`."""
        if not self.configured:
            return CommandResult(NOT_CONFIGURED, 0, "no connector URL is configured")
        if path not in contract.CONNECTOR_COMMANDS:
            raise ValueError(f"unknown connector path {path!r}")
        await self.start()
        assert self._session is not None and self.base_url is not None
        body = encode_json(command.to_dict())
        url = self.base_url + path
        error = "not attempted"
        for attempt in range(1, self.attempts + 1):
            try:
                answer = await post_signed(self._session, url, body, self.secret)
            except Unreachable as exc:
                error = f"connector unreachable at {url}: {exc}"
            else:
                if answer.ok:
                    return CommandResult(DELIVERED, attempt, answer=_json_or_none(answer.text))
                error = f"connector answered {answer.status}: {_reason(answer.text)}"
                if answer.refused:
                    break  # the connector refused the command itself: retrying won't help
            if attempt < self.attempts:
                await asyncio.sleep(self.backoff_seconds * 2 ** (attempt - 1))
        logger.warning("connector command %s failed: %s", path, error)
        return CommandResult(FAILED, attempt, error)


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _reason(answer: str) -> str:
    """The connector's error message (it says what the customer's platform answered), else the
    start of whatever the body was; what the Inbox shows beside an undelivered reply."""
    try:
        error = json.loads(answer)["error"]
        return f"{str(error['message'])[:1000]} ({error['code']})"
    except (ValueError, KeyError, TypeError):
        return answer[:300]
