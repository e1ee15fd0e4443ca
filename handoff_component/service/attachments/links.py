"""Links to attachments for the customers' channels: unguessable, signed and expiring.

A customer's widget or a platform's servers fetch a file without an attendant's session, so the
link itself is the permission: `{public_base_url}/files/{id}?expires={unix}&signature={hex}`.
The id is random (24 bytes), the signature an HMAC-SHA256 of the id and the expiry under a key
derived from the service secret (never the secret itself, so no link signature can be replayed as
a request signature). A link past its expiry is refused (410), an altered one too (403).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

LINK_PATH = "/files"
_HEX_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


class LinkRefused(Exception):
    """A link that does not open its file; `status` is the HTTP answer (403 altered, 410 old)."""

    def __init__(self, status: int, message: str, field: str) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


@dataclass(frozen=True)
class AttachmentLinks:
    secret: str
    base_url: str
    ttl: timedelta

    def _key(self) -> bytes:
        return hmac.new(self.secret.encode(), b"handoff attachment links", hashlib.sha256).digest()

    def signature(self, file_id: str, expires: int) -> str:
        message = f"{file_id}\n{expires}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key(), message, hashlib.sha256).hexdigest()

    def url(self, file_id: str, now: datetime) -> tuple[str, datetime]:
        """The public link of `file_id`, valid for `ttl` from `now`, and when it expires."""
        expires_at = now + self.ttl
        expires = int(expires_at.timestamp())
        path = f"{LINK_PATH}/{quote(file_id, safe='')}"
        query = f"expires={expires}&signature={self.signature(file_id, expires)}"
        return f"{self.base_url}{path}?{query}", expires_at

    def check(
        self, file_id: str, expires: str | None, signature: str | None, now: datetime
    ) -> None:
        """`LinkRefused` unless the link was made here for this file and is still valid."""
        if not expires or not signature:
            raise LinkRefused(403, "the link lacks its expires or signature", "signature")
        if not expires.isascii() or not expires.lstrip("-").isdigit() or len(expires) > 20:
            raise LinkRefused(403, "the link's expires is not a number", "expires")
        expiry = int(expires)
        given = signature.strip().lower()
        if not _HEX_SIGNATURE.match(given):
            raise LinkRefused(
                403, "the link's signature is not one this service makes", "signature"
            )
        if not hmac.compare_digest(self.signature(file_id, expiry).encode(), given.encode()):
            raise LinkRefused(403, "the link's signature does not match: altered", "signature")
        if now.timestamp() >= expiry:
            raise LinkRefused(
                410, "the link has expired; ask the attendant to send the file again", "expires"
            )
