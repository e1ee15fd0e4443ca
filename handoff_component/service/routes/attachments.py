"""Attachments: attendants upload files to a ticket, the Inbox shows them, customers fetch them.

- `POST /api/tickets/{id}/attachments?name=photo.png`: the raw bytes as the body, the declared
  type as `Content-Type` (only a hint: the type is sniffed from the bytes). Allowed to whoever may
  reply to the ticket now. The body is read in chunks and refused once it passes the limit, so a
  request never costs more than `attachment_max_bytes` + one chunk of memory.
- `GET /api/tickets/{id}/attachments[/{file_id}]`: the ticket's files and their bytes, for
  attendants who see the ticket (the Inbox's thread and previews).
- `DELETE /api/tickets/{id}/attachments/{file_id}`: an upload removed before it was sent.
- `GET /files/{file_id}?expires=&signature=`: the link a customer's channel fetches (links.py),
  no session needed; an expired or altered link is refused.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw

from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor
from handoff_component.service import access
from handoff_component.service.attachments.file_types import shown_inline
from handoff_component.service.attachments.links import LinkRefused
from handoff_component.service.attachments.store import AttachmentStore, StoredFile, clean_name
from handoff_component.service.auth import current_viewer, signed_in
from handoff_component.service.bodies import EmptyBody, json_body
from handoff_component.service.errors import ApiError, BadRequest, Forbidden, NotFound

blueprint = Blueprint("attachments")

# A served file is never a page: no script, no plugin, no form, no framing. Only a PDF keeps the
# browser's viewer (a sandboxed document cannot show one); everything else is sandboxed too.
FILE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_UNSAFE_IN_QUOTES = re.compile(r"[^A-Za-z0-9 ._()\-]")


class Gone(ApiError):
    status = 410
    code = "gone"


def _store(request: Request) -> AttachmentStore:
    store: AttachmentStore = request.app.ctx.attachments
    return store


async def _may_reply(request: Request, ticket_id: int) -> int:
    """The attendant's id, if they may reply to the ticket now (the reply's own rules)."""
    viewer = current_viewer(request)
    tickets = request.app.ctx.tickets
    access.require_sight(viewer, await tickets.get(ticket_id), ticket_id)
    await tickets.check(ticket_id, lifecycle.Reply(), Actor.attendant(viewer.attendant_id), viewer)
    return viewer.attendant_id


async def _read_capped(request: Request, store: AttachmentStore, name: str) -> bytes:
    """The body, or the refusal as soon as it passes the limit (never more than limit + 1
    bytes are kept)."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > store.max_bytes:
        raise store.too_large(name)
    stream = request.stream
    assert stream is not None, "a streaming route"
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = await stream.read()
        if chunk is None:
            break
        keep = store.max_bytes + 1 - total
        chunks.append(chunk[:keep])
        total += min(len(chunk), keep)
        if total > store.max_bytes:
            raise store.too_large(name)
    return b"".join(chunks)


@blueprint.get("/api/attachments/limits")
@signed_in
async def limits(request: Request) -> HTTPResponse:
    return json(_store(request).limits())


@blueprint.post("/api/tickets/<ticket_id:int>/attachments", stream=True)
@signed_in
async def upload(request: Request, ticket_id: int) -> HTTPResponse:
    unknown = sorted(set(request.args) - {"name"})
    if unknown:
        raise BadRequest(f"unknown query parameter {unknown[0]!r}", field=unknown[0])
    store = _store(request)
    name = clean_name(request.args.get("name"))
    attendant_id = await _may_reply(request, ticket_id)
    content = await _read_capped(request, store, name)
    declared = request.headers.get("content-type")
    stored = await store.add(ticket_id, attendant_id, name, declared, content)
    return json({"attachment": stored.to_json()}, status=201)


@blueprint.get("/api/tickets/<ticket_id:int>/attachments")
@signed_in
async def list_attachments(request: Request, ticket_id: int) -> HTTPResponse:
    viewer = current_viewer(request)
    access.require_sight(viewer, await request.app.ctx.tickets.get(ticket_id), ticket_id)
    files = await _store(request).of_ticket(ticket_id)
    return json({"attachments": [f.to_json() for f in files]})


@blueprint.get("/api/tickets/<ticket_id:int>/attachments/<file_id:str>")
@signed_in
async def attachment_content(request: Request, ticket_id: int, file_id: str) -> HTTPResponse:
    viewer = current_viewer(request)
    access.require_sight(viewer, await request.app.ctx.tickets.get(ticket_id), ticket_id)
    store = _store(request)
    stored = await store.get(file_id, ticket_id)
    return file_response(stored, await store.content(stored), cache="private, max-age=300")


@blueprint.delete("/api/tickets/<ticket_id:int>/attachments/<file_id:str>")
@signed_in
async def remove_attachment(request: Request, ticket_id: int, file_id: str) -> HTTPResponse:
    EmptyBody.from_dict(json_body(request, allow_empty=True))
    await _may_reply(request, ticket_id)
    await _store(request).delete_unsent(ticket_id, file_id)
    return HTTPResponse(status=204)


@blueprint.get("/files/<file_id:str>")
async def public_file(request: Request, file_id: str) -> HTTPResponse:
    """The customer's link: no session, the signature is the permission."""
    store = _store(request)
    try:
        store.links.check(
            file_id,
            request.args.get("expires"),
            request.args.get("signature"),
            request.app.ctx.settings.clock(),
        )
    except LinkRefused as refused:
        error: ApiError = (
            Gone(refused.message, field=refused.field)
            if refused.status == 410
            else Forbidden(refused.message, field=refused.field)
        )
        raise error from None
    try:
        stored = await store.get(file_id)
    except NotFound:
        raise NotFound("the file was deleted", field="file_id") from None
    return file_response(stored, await store.content(stored), cache="private, max-age=3600")


def file_response(stored: StoredFile, content: bytes, *, cache: str) -> HTTPResponse:
    """The bytes with headers that keep them inert: the sniffed type, nosniff, a CSP without
    script, and a download (not a page) for anything but images, audio and PDF."""
    inline = shown_inline(stored.mime_type)
    fallback = _UNSAFE_IN_QUOTES.sub("_", stored.name) or "file"
    disposition = (
        f'{"inline" if inline else "attachment"}; filename="{fallback}"; '
        f"filename*=UTF-8''{quote(stored.name, safe='')}"
    )
    policy = FILE_CONTENT_SECURITY_POLICY
    if stored.mime_type != "application/pdf":
        policy += "; sandbox"
    headers = {
        "Content-Disposition": disposition,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": policy,
        "Cache-Control": cache,
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    return raw(content, content_type=stored.mime_type, headers=headers)
