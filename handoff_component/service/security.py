"""Browser-facing defences of every response and request: security headers and a CSRF check.

Headers: the Inbox pages set their own strict Content-Security-Policy (routes/inbox.py); every
other answer gets a deny-all policy, `nosniff`, no referrer, no framing, and API JSON is never
cached, since it carries customer text and session-bound views that a shared cache must not keep.

CSRF: the session cookie is SameSite=Strict, which modern browsers honour, but that is one wall.
The second: an unsafe request (POST, PUT, PATCH, DELETE) authenticated by the cookie alone must
carry an `Origin` (or, failing that, a `Referer`) naming this service's own origin. Browsers send
`Origin` on every cross-origin request and on same-origin `fetch` POSTs, so the Inbox passes and a
form on another site does not. Requests with a bearer token (scripts, Rasa's signed calls that
carry no cookie) are not affected: a browser never attaches those by itself.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic import Request
from sanic.response import BaseHTTPResponse

from handoff_component.service.auth import SESSION_COOKIE
from handoff_component.service.errors import Forbidden

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Answers that are not Inbox pages: nothing in them is meant to run, be framed or be cached.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_security_headers(request: Request, response: BaseHTTPResponse) -> None:
    """Response middleware; headers a route already set (the Inbox's CSP) are kept."""
    headers = response.headers
    for name, value in COMMON_HEADERS.items():
        if name not in headers:
            headers[name] = value
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = API_CONTENT_SECURITY_POLICY
    if "Cache-Control" not in headers and not request.path.startswith("/inbox"):
        headers["Cache-Control"] = "no-store"


def _origin_of(value: str) -> str | None:
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def own_origins(request: Request, trusted: tuple[str, ...]) -> set[str]:
    """This service's origin as the browser sees it, plus any configured trusted origins.

    The host comes from the request's `Host` (what the browser addressed); both schemes are
    accepted for it so a TLS-terminating proxy in front of a plain-HTTP service still matches.
    """
    host = (request.headers.get("host") or "").strip().lower()
    found = {f"http://{host}", f"https://{host}"} if host else set()
    found.update(o for o in (_origin_of(t) for t in trusted) if o)
    return found


def check_csrf(request: Request) -> None:
    """Request middleware: refuse a cookie-authenticated unsafe request from another origin."""
    if request.method not in UNSAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if not request.cookies.get(SESSION_COOKIE):
        return
    trusted = tuple(request.app.ctx.settings.trusted_origins)
    origin = request.headers.get("origin")
    source = "Origin"
    if not origin or origin.strip().lower() == "null":
        origin, source = request.headers.get("referer"), "Referer"
    claimed = _origin_of(origin) if origin else None
    if claimed is None:
        raise Forbidden(
            "a request authenticated by the session cookie must carry an Origin or Referer "
            "header naming this service (or use an Authorization: Bearer token)",
            field="Origin",
        )
    if claimed not in own_origins(request, trusted):
        raise Forbidden(
            f"cross-site request refused: the {source} {claimed} is not this service's origin",
            field=source,
        )
