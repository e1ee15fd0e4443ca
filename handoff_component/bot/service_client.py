"""Signed HTTP calls from Rasa's side (action server, event broker) to the handoff service.

Both callers need the same three things: the contract's HMAC headers, a short timeout, and an
answer that says whether a failure is worth retrying (`handoff_component.signed_http`, the rule
the service's own clients follow too). It imports neither Rasa nor Sanic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from handoff_component.contract import checked_secret
from handoff_component.signed_http import Unreachable, encode_json, post_signed, worth_retrying


@dataclass(frozen=True)
class ServiceResponse:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """The service understood the request and said no: sending it again will not help."""
        return not self.ok and not worth_retrying(self.status)

    def error_message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            error = self.body["error"]
            return f"{self.status} {error.get('field') or ''}: {error.get('message')}".strip()
        return f"{self.status} {str(self.body)[:500]}"


class ServiceUnavailable(Exception):
    """The service could not be reached or failed (connection refused, timeout, 5xx)."""


class ServiceClient:
    """One base URL and one shared secret; a session per client, closed by `close()`."""

    def __init__(self, base_url: str, secret: str, timeout_s: float = 5.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"handoff service url must be http(s)://..., got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.secret = checked_secret("the shared secret (HANDOFF_SECRET)", secret)
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, path: str, payload: dict[str, Any]) -> ServiceResponse:
        """POST signed JSON; raises ServiceUnavailable on network errors and 5xx answers."""
        return await self.post_encoded(path, encode_json(payload))

    async def post_encoded(self, path: str, body: bytes) -> ServiceResponse:
        """`post` of a body already encoded as JSON (the event broker's, built from its outbox's
        stored JSON without decoding it)."""
        try:
            answer = await post_signed(
                self._session_for_loop(), self.base_url + path, body, self.secret
            )
        except Unreachable as error:
            raise ServiceUnavailable(f"{self.base_url}{path}: {error}") from error
        try:
            parsed: Any = json.loads(answer.text) if answer.text else None
        except (ValueError, RecursionError):
            parsed = answer.text
        result = ServiceResponse(answer.status, parsed)
        if answer.status >= 500:
            raise ServiceUnavailable(f"{self.base_url}{path}: {result.error_message()}")
        return result

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _session_for_loop(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session
