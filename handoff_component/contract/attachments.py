"""A file shown to the customer by reference, in a transcript, a bot event or a reply.

A file an attendant uploaded travels the same way: the service stores its bytes and puts a signed,
expiring link to them in `url` (with the type it sniffed from the bytes and the size), so the
connector sends every attachment alike, whoever holds the file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from handoff_component.contract.errors import ContractError
from handoff_component.contract.limits import MAX_ATTACHMENTS, MAX_NAME_LENGTH, MAX_URL_LENGTH
from handoff_component.contract.reader import Reader


@dataclass(frozen=True)
class Attachment:
    """A file shown to the customer by reference: a URL the customer's channel can fetch."""

    url: str
    mime_type: str | None = None
    name: str | None = None
    # Bytes, when known (the service knows it for the files it stores).
    size: int | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "attachment") -> Attachment:
        reader = Reader(data, path)
        url = reader.string("url", max_length=MAX_URL_LENGTH)
        if not url.startswith(("https://", "http://")):
            raise ContractError(reader.name("url"), "must be an http(s) URL")
        attachment = cls(
            url=url,
            mime_type=reader.string("mime_type", required=False, max_length=100),
            name=reader.string("name", required=False, max_length=MAX_NAME_LENGTH),
            size=reader.integer("size", required=False, minimum=0),
        )
        reader.done()
        return attachment

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def read_attachments(reader: Reader) -> list[Attachment]:
    return reader.list_of(
        "attachments", Attachment.from_dict, required=False, max_length=MAX_ATTACHMENTS
    )
