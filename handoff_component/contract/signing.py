"""The HMAC signature every request between the processes carries, and its header names.

Rasa's side signs its calls to the service, the service signs its commands to the connector and
its outgoing webhooks; the receiving side verifies. Binding the timestamp into the signature and
refusing stale timestamps stops a captured request from being replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from handoff_component.contract.errors import SignatureError

SIGNATURE_HEADER = "X-Handoff-Signature"
TIMESTAMP_HEADER = "X-Handoff-Timestamp"
SIGNATURE_SCHEME = "sha256"
# A signed request older or newer than this is refused, so a captured request cannot be replayed
# later; five minutes tolerates ordinary clock drift between hosts.
MAX_SIGNATURE_SKEW_SECONDS = 300


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise SignatureError(None, "the shared secret is empty")
    return secret


def sign(secret: str | bytes, timestamp: str | int, body: bytes) -> str:
    """`sha256=<hex>` over `timestamp.body`: binding the timestamp stops replays of old bodies."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(_secret_bytes(secret), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def verify(
    secret: str | bytes,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
    max_skew: int = MAX_SIGNATURE_SKEW_SECONDS,
) -> None:
    """Raise `SignatureError` unless `signature` signs `timestamp.body` and is fresh."""
    if not timestamp:
        raise SignatureError(TIMESTAMP_HEADER, "missing timestamp header")
    if not signature:
        raise SignatureError(SIGNATURE_HEADER, "missing signature header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError(TIMESTAMP_HEADER, "timestamp must be integer seconds") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_skew:
        raise SignatureError(
            TIMESTAMP_HEADER, f"timestamp is more than {max_skew} s away from the server clock"
        )
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "replace")
    ):
        raise SignatureError(SIGNATURE_HEADER, "signature does not match the body")


def signed_headers(secret: str | bytes, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """Headers for a signed JSON request; both sides' clients use this."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
