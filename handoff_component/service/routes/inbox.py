"""The attendants' Inbox page (`/inbox/`) and the trigger rules it shows (`GET /api/rules`).

The page is static files beside the service (`service/inbox/`): plain HTML, CSS and ES modules,
served as they are, so nobody runs a build. Every page response carries a strict
Content-Security-Policy (scripts only from this origin, no inline script, no plugins, no framing):
customer text is untrusted, and the policy is the second wall behind the page's own escaping.

`/api/rules` serves the rules file Rasa's policy was trained with (`HANDOFF_RULES_FILE`, default
`./handoff.yml`), parsed by the pure rules core; the Inbox joins it with `/api/stats/rules`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, raw, redirect

from handoff_component.core.rules import RuleSet, RulesFileError, load_ruleset
from handoff_component.service.auth import signed_in
from handoff_component.service.errors import NotFound, ServiceUnavailable

blueprint = Blueprint("inbox")

INBOX_DIR = Path(__file__).resolve().parent.parent / "inbox"
DEFAULT_RULES_FILE = "handoff.yml"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
# Asset names are plain relative paths: no `..`, no dot files, a known extension.
ASSET_NAME = re.compile(r"^(?:[a-z0-9][a-z0-9_-]*/)*[a-z0-9][a-z0-9_.-]*$")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        # Files attendants uploaded come from the service ('self'); customers' and bots' files
        # by reference, from anywhere, and only once the attendant clicks them (ticket.js).
        "img-src 'self' data: https: http:",
        "media-src 'self' https: http:",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def _asset(request: Request, name: str) -> HTTPResponse:
    path = (INBOX_DIR / name).resolve()
    content_type = CONTENT_TYPES.get(path.suffix)
    if (
        not ASSET_NAME.match(name)
        or content_type is None
        or INBOX_DIR not in path.parents
        or not path.is_file()
    ):
        raise NotFound(f"no Inbox asset {name!r}")
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**SECURITY_HEADERS, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return raw(b"", status=304, headers=headers)
    return raw(body, content_type=content_type, headers=headers)


@blueprint.get("/inbox", strict_slashes=True)
async def inbox_without_slash(request: Request) -> HTTPResponse:
    """The page's modules are imported relative to `/inbox/`, so the bare path redirects."""
    return redirect("/inbox/", status=308)


@blueprint.get("/inbox/", strict_slashes=True)
async def inbox_page(request: Request) -> HTTPResponse:
    return _asset(request, "index.html")


@blueprint.get("/inbox/<name:path>")
async def inbox_asset(request: Request, name: str) -> HTTPResponse:
    return _asset(request, name)


# --- the trigger rules --------------------------------------------------------------------------


@dataclass
class _CachedRules:
    path: Path
    mtime_ns: int
    body: dict[str, Any]


def rules_file_of(request: Request) -> Path:
    """`--rules-file` / HANDOFF_RULES_FILE (the service's settings), else ./handoff.yml."""
    return Path(request.app.ctx.settings.rules_file or DEFAULT_RULES_FILE)


def rules_view(ruleset: RuleSet) -> dict[str, Any]:
    """The rules as the Inbox lists them; conditions as text, the way the rules CLI prints them."""
    return {
        "source": ruleset.source,
        "rules": [
            {
                "name": rule.name,
                "description": rule.description,
                "condition": rule.condition.describe(),
                "team": rule.team,
                "priority": rule.priority,
                "channels": sorted(rule.channels) if rule.channels is not None else None,
                "cooldown_seconds": rule.cooldown,
                "enabled": rule.enabled,
                "line": rule.line,
            }
            for rule in ruleset.rules
        ],
        # Per channel: the unclaimed timeout is what the Inbox colours a waiting ticket against.
        "safety_nets": {
            channel: {
                "auto_pause": net.auto_pause,
                "cooldown_seconds": net.cooldown,
                "unclaimed_timeout_seconds": net.unclaimed_timeout,
            }
            for channel, net in ruleset.safety_nets.items()
        },
    }


def _load_rules(request: Request) -> dict[str, Any]:
    path = rules_file_of(request)
    try:
        mtime_ns = path.stat().st_mtime_ns
    except OSError:
        raise ServiceUnavailable(
            f"the rules file {str(path)!r} cannot be read; set HANDOFF_RULES_FILE"
        ) from None
    cached: _CachedRules | None = getattr(request.app.ctx, "inbox_rules", None)
    if cached is not None and cached.path == path and cached.mtime_ns == mtime_ns:
        return cached.body
    credentials = path.parent / "credentials.yml"
    try:
        ruleset = load_ruleset(
            path,
            credentials=credentials if credentials.is_file() else None,
            import_hooks=False,
        )
    except RulesFileError as error:
        raise ServiceUnavailable(f"the rules file {str(path)!r} is not valid: {error}") from None
    body = rules_view(ruleset)
    request.app.ctx.inbox_rules = _CachedRules(path, mtime_ns, body)
    return body


@blueprint.get("/api/rules")
@signed_in
async def trigger_rules(request: Request) -> HTTPResponse:
    return json(_load_rules(request))
