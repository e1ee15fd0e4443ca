"""How the service serves the Inbox: its files, their types, a strict CSP, and `GET /api/rules`.

No browser needed; these run against the same service process as the browser tests.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from handoff_component.service.routes import inbox
from tests.browser.peers import http_json

INBOX_DIR = Path(inbox.__file__).resolve().parent.parent / "inbox"


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """GET without following redirects; the headers are looked up case-insensitively."""
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_page_is_served_with_a_csp_that_forbids_inline_script(inbox_world) -> None:
    status, headers, body = fetch(inbox_world.inbox)

    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b'<script type="module" src="app.js"></script>' in body


def test_the_bare_path_redirects_to_the_page(inbox_world) -> None:
    status, headers, _ = fetch(f"{inbox_world.url}/inbox")

    assert status == 308
    assert headers["Location"] == "/inbox/"


@pytest.mark.parametrize(
    ("asset", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("js/ticket.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_assets_have_their_content_type_and_the_csp(inbox_world, asset, content_type) -> None:
    status, headers, body = fetch(f"{inbox_world.inbox}{asset}")

    assert status == 200
    assert headers["Content-Type"] == content_type
    assert "Content-Security-Policy" in headers
    assert body == (INBOX_DIR / asset).read_bytes()


def test_an_unchanged_asset_answers_304(inbox_world) -> None:
    _, headers, _ = fetch(f"{inbox_world.inbox}app.js")

    status, _, body = fetch(f"{inbox_world.inbox}app.js", {"If-None-Match": headers["ETag"]})

    assert (status, body) == (304, b"")


@pytest.mark.parametrize(
    "name", ["../app.py", "%2e%2e/settings.py", "..%2Fapp.py", ".hidden.js", "missing.js", "js/"]
)
def test_nothing_outside_the_inbox_folder_is_served(inbox_world, name) -> None:
    status, _, body = fetch(f"{inbox_world.inbox}{name}")

    assert status == 404, body[:200]


def test_the_rules_need_a_signed_in_attendant(inbox_world) -> None:
    status, body = http_json(f"{inbox_world.url}/api/rules")

    assert status == 401
    assert body["error"]["code"] == "unauthorized"


def test_the_rules_are_the_configured_file_parsed(inbox_world) -> None:
    body = inbox_world.as_attendant("ana").get("/api/rules")

    assert body["source"] == str(inbox_world.rules_file)
    assert [rule["name"] for rule in body["rules"]] == [
        "explicit_request",
        "angry_sentiment",
        "legal_chargeback",
    ]
    angry = body["rules"][1]
    assert angry == {
        "name": "angry_sentiment",
        "description": "The customer is upset",
        "condition": "sentiment <= -0.6 and message count >= 2",
        "team": "support",
        "priority": "high",
        "channels": ["callback", "socketio"],
        "cooldown_seconds": 0.0,
        "enabled": True,
        "line": angry["line"],
    }
    assert body["safety_nets"]["callback"]["unclaimed_timeout_seconds"] == 2.0
    assert body["safety_nets"]["socketio"]["unclaimed_timeout_seconds"] == 300.0


def test_the_inbox_never_parses_data_as_html() -> None:
    """Customer text is untrusted: the scripts build nodes and set textContent, nothing else."""
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function"
    )
    scripts = sorted(INBOX_DIR.rglob("*.js"))

    assert scripts
    for script in scripts:
        assert not sinks.search(script.read_text(encoding="utf-8")), script.name
