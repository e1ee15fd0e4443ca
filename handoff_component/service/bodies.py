"""The request bodies of the attendants' API, read strictly with the contract's `Reader`.

Unknown fields, wrong types and oversized values are refused with the field named, before anything
is stored; the same rules as the Rasa-side payloads in `handoff_component.contract`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sanic import Request

from handoff_component.contract import (
    MAX_ATTACHMENTS,
    MAX_ID_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_URL_LENGTH,
    PRIORITIES,
    Attachment,
    ContractError,
    Reader,
    check_storable_text,
)
from handoff_component.service.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)

# Ids are 32-bit integer columns on PostgreSQL; a larger number in a path, query or body would
# fail in the driver (a 500) instead of being the plain "no such thing" it is.
MAX_ID = 2**31 - 1


def check_path_ids(request: Request) -> None:
    """Request middleware: an id in the path beyond any stored id is a 404, not a driver error."""
    for name, value in (request.match_info or {}).items():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            raise NotFound(f"{name} {value} does not exist", field=name)


def check_query_text(request: Request) -> None:
    """Request middleware: a query parameter no database can hold (NUL, a lone surrogate) is a
    400 naming it, before any route reads it (PostgreSQL refused it with a 500)."""
    for name, values in request.args.items():
        for value in values:
            try:
                check_storable_text(value, name)
            except ContractError as error:
                raise BadRequest(f"{name} {error.message}", field=name) from None


def path_text(request: Request, name: str) -> str:
    """A text segment of the path, percent-decoded once (sanic matches the raw path).

    `GET /api/conversations/a%20b/export` is the conversation `a b`; a literal `a%20b` is sent
    as `a%2520b`. Invalid UTF-8 or unstorable text is no conversation of ours: 404.
    """
    raw = request.match_info[name]
    try:
        text = unquote(raw, errors="strict")
        check_storable_text(text, name)
    except (UnicodeDecodeError, ContractError):
        raise NotFound(f"{name} {raw!r} does not exist", field=name) from None
    return text


def json_body(request: Request, *, allow_empty: bool = False) -> Any:
    """The parsed JSON body, or a 4xx that says what is wrong with it."""
    limit = request.app.ctx.settings.max_body_bytes
    raw = request.body or b""
    if len(raw) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    if not raw.strip():
        if allow_empty:
            return {}
        raise BadRequest("a JSON body is required")
    content_type = request.headers.get("content-type", "application/json")
    if "json" not in content_type.lower():
        raise UnsupportedMediaType(f"send application/json, not {content_type}")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(f"the body is not valid JSON: {error}") from None
    except RecursionError:
        raise BadRequest("the body is JSON nested too deeply to read") from None


@dataclass(frozen=True)
class Login:
    username: str
    password: str

    @classmethod
    def from_dict(cls, data: Any) -> Login:
        reader = Reader(data)
        login = cls(
            reader.string("username", max_length=100), reader.string("password", max_length=500)
        )
        reader.done()
        return login


@dataclass(frozen=True)
class UploadedFile:
    """A reply's attachment uploaded to the ticket first (`POST .../attachments`), by its id."""

    file_id: str

    @classmethod
    def from_dict(cls, data: Any, path: str) -> UploadedFile:
        reader = Reader(data, path)
        uploaded = cls(reader.string("file_id", max_length=64))
        reader.done()
        return uploaded


def _reply_attachment(data: Any, path: str) -> Attachment | UploadedFile:
    """`{"file_id": ...}` for an uploaded file, else a link (`{"url": ...}`) to one elsewhere."""
    if isinstance(data, dict) and "file_id" in data:
        return UploadedFile.from_dict(data, path)
    return Attachment.from_dict(data, path)


@dataclass(frozen=True)
class ReplyBody:
    text: str
    attachments: list[Attachment | UploadedFile]

    @classmethod
    def from_dict(cls, data: Any) -> ReplyBody:
        reader = Reader(data)
        body = cls(
            text=reader.string(
                "text", required=False, max_length=MAX_TEXT_LENGTH, allow_empty=True, default=""
            ),
            attachments=reader.list_of(
                "attachments", _reply_attachment, required=False, max_length=MAX_ATTACHMENTS
            ),
        )
        reader.done()
        if not body.text.strip() and not body.attachments:
            raise ContractError("text", "a reply needs text or an attachment")
        return body

    @property
    def file_ids(self) -> list[str]:
        return [a.file_id for a in self.attachments if isinstance(a, UploadedFile)]


@dataclass(frozen=True)
class TypingBody:
    typing: bool

    @classmethod
    def from_dict(cls, data: Any) -> TypingBody:
        reader = Reader(data)
        body = cls(typing=reader.boolean("typing"))
        reader.done()
        return body


@dataclass(frozen=True)
class TransferBody:
    attendant_id: int | None
    team_id: int | None
    note: str | None

    @classmethod
    def from_dict(cls, data: Any) -> TransferBody:
        reader = Reader(data)
        body = cls(
            attendant_id=reader.integer("attendant_id", required=False, minimum=1, maximum=MAX_ID),
            team_id=reader.integer("team_id", required=False, minimum=1, maximum=MAX_ID),
            note=reader.string("note", required=False, max_length=MAX_TEXT_LENGTH),
        )
        reader.done()
        if (body.attendant_id is None) == (body.team_id is None):
            raise ContractError("attendant_id", "give exactly one of attendant_id or team_id")
        return body


@dataclass(frozen=True)
class NoteBody:
    text: str

    @classmethod
    def from_dict(cls, data: Any) -> NoteBody:
        reader = Reader(data)
        body = cls(text=reader.string("text", max_length=MAX_TEXT_LENGTH))
        reader.done()
        return body


@dataclass(frozen=True)
class EmptyBody:
    """Actions without parameters (claim, close, reopen, resume) still refuse stray fields."""

    @classmethod
    def from_dict(cls, data: Any) -> EmptyBody:
        Reader(data).done()
        return cls()


@dataclass(frozen=True)
class TakeoverBody:
    conversation_id: str
    channel: str
    reason: str
    team_id: int | None
    priority: str

    @classmethod
    def from_dict(cls, data: Any) -> TakeoverBody:
        reader = Reader(data)
        body = cls(
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            reason=reader.string("reason", max_length=MAX_REASON_LENGTH),
            team_id=reader.integer("team_id", required=False, minimum=1, maximum=MAX_ID),
            priority=reader.string(
                "priority", required=False, choices=PRIORITIES, default="normal"
            ),
        )
        reader.done()
        return body


def _webhook_url(reader: Reader) -> str | None:
    url = reader.string("webhook_url", required=False, max_length=MAX_URL_LENGTH)
    if url is not None and not url.startswith(("http://", "https://")):
        raise ContractError(reader.name("webhook_url"), "must be an http(s) URL")
    return url


@dataclass(frozen=True)
class TeamBody:
    name: str
    display_name: str | None
    webhook_url: str | None
    webhook_secret: str | None

    @classmethod
    def from_dict(cls, data: Any) -> TeamBody:
        reader = Reader(data)
        name = reader.string("name", max_length=100)
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ContractError("name", "use letters, digits, '-' and '_' only")
        body = cls(
            name=name,
            display_name=reader.string("display_name", required=False),
            webhook_url=_webhook_url(reader),
            webhook_secret=reader.string("webhook_secret", required=False),
        )
        reader.done()
        return body


def team_patch(data: Any) -> dict[str, Any]:
    reader = Reader(data)
    values = {
        "display_name": reader.string("display_name", required=False),
        "webhook_url": _webhook_url(reader),
        "webhook_secret": reader.string("webhook_secret", required=False),
    }
    reader.done()
    return {k: v for k, v in values.items() if k in reader.data}


def _team_names(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ContractError(name, "must be a team name")
    check_storable_text(value, name)
    return value


@dataclass(frozen=True)
class AttendantBody:
    username: str
    display_name: str
    password: str
    role: str
    teams: list[str]

    @classmethod
    def from_dict(cls, data: Any) -> AttendantBody:
        reader = Reader(data)
        body = cls(
            username=reader.string("username", max_length=100),
            display_name=reader.string("display_name"),
            password=reader.string("password", max_length=500),
            role=reader.string(
                "role", required=False, choices=("attendant", "supervisor"), default="attendant"
            ),
            teams=reader.list_of("teams", _team_names, required=False, max_length=50),
        )
        reader.done()
        if len(body.password) < 8:
            raise ContractError("password", "must have at least 8 characters")
        return body


def attendant_patch(data: Any) -> tuple[dict[str, Any], list[str] | None]:
    reader = Reader(data)
    values = {
        "display_name": reader.string("display_name", required=False),
        "password": reader.string("password", required=False, max_length=500),
        "role": reader.string("role", required=False, choices=("attendant", "supervisor")),
        "active": reader.boolean("active", required=False),
    }
    team_names = (
        reader.list_of("teams", _team_names, required=False, max_length=50)
        if "teams" in reader.data
        else None
    )
    reader.done()
    values = {k: v for k, v in values.items() if v is not None}
    if "password" in values and len(values["password"]) < 8:
        raise ContractError("password", "must have at least 8 characters")
    return values, team_names


@dataclass(frozen=True)
class CannedReplyBody:
    title: str
    text: str

    @classmethod
    def from_dict(cls, data: Any, *, partial: bool = False) -> CannedReplyBody:
        reader = Reader(data)
        body = cls(
            title=reader.string("title", required=not partial),
            text=reader.string("text", required=not partial, max_length=MAX_TEXT_LENGTH),
        )
        reader.done()
        return body
