"""Signed JSON POSTs between the processes, and the one rule of which failures are worth retrying.

Three clients send them: Rasa's side to the service (`bot/service_client.py`), the service to
Rasa's HandoffConnector (`service/connector_client.py`) and the service to a team's webhook
(`service/webhooks.py`). Each body is signed with `contract.signed_headers`, and all three read an
answer the same way: 2xx is done; a 5xx, 408 (timeout), 425 (too early) or 429 (too many
requests) may succeed later, so it is retried with backoff; any other 4xx is a refusal that
sending the same body again cannot change. Only the standard library, aiohttp and the contract are
imported here, so both sides can use it (tests/test_layers.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from handoff_component.contract.signing import signed_headers

# 4xx answers that say "not now" rather than "not this": the request may succeed later.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
# No answer this side reads is larger; a peer cannot make us hold more of one in memory.
MAX_ANSWER_BYTES = 1_000_000


def worth_retrying(status: int) -> bool:
    """Whether a non-2xx answer may turn out differently if the same request is sent again."""
    return not 400 <= status < 500 or status in RETRYABLE_CLIENT_ERRORS


def encode_json(payload: Any) -> bytes:
    """The body's bytes as signed and sent: compact JSON, anything else as its string."""
    return json.dumps(payload, separators=(",", ":"), default=str).encode()


class Unreachable(Exception):
    """No answer at all: connection refused, DNS, timeout, reset; worth retrying. The message
    names the error, not the URL (a webhook URL may carry a token): callers add what they show."""


@dataclass(frozen=True)
class Answer:
    """The peer's status and body (at most MAX_ANSWER_BYTES of it, as text)."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """The peer understood the request and said no: sending it again will not help."""
        return not self.ok and not worth_retrying(self.status)


async def post_signed(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    secret: str | bytes | None,
    headers: Mapping[str, str] | None = None,
) -> Answer:
    """POST `body` as JSON, signed with `secret` (unsigned when there is none: a team webhook
    without a secret); raises `Unreachable` when no answer came."""
    sent_headers = signed_headers(secret, body) if secret else {"Content-Type": "application/json"}
    sent_headers.update(headers or {})
    try:
        async with session.post(url, data=body, headers=sent_headers) as response:
            raw = await response.content.read(MAX_ANSWER_BYTES)
            status = response.status
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        raise Unreachable(f"{error.__class__.__name__} {error}".strip()) from error
    return Answer(status, raw.decode("utf-8", "replace"))
