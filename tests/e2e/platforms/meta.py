"""A stand-in for Meta's Messenger Platform: the Graph API's Send API (`/me/messages`) for a
Facebook Page (Messenger) and an Instagram professional account, and their webhooks into Rasa.

What it holds to, from Meta's public contract:
- webhooks are signed with the app secret: `X-Hub-Signature` (HMAC-SHA1, the one Rasa's facebook
  channel checks) and `X-Hub-Signature-256` (HMAC-SHA256), both over the raw body;
- the Send API is `POST /v{version}/me/messages?access_token=PAGE_TOKEN`; `me` is the Page the
  token belongs to; an unknown token is error 190; a recipient who never wrote is 100/2018001;
- the standard messaging window: a Page may message a person within 24 hours of that person's
  last message; after that a message is refused with 10/2018278 ("sent outside of allowed
  window"), unless it carries the `HUMAN_AGENT` tag, which an approved app may use for 7 days;
- text is at most 2,000 characters (Messenger) or 1,000 bytes (Instagram).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.platforms.gateway import ApiRequest, ApiResponse
from tests.e2e.platforms.recording import Sent, SentLog

GRAPH_HOST = "graph.facebook.com"
STANDARD_WINDOW_S = 24 * 3600
HUMAN_AGENT_WINDOW_S = 7 * 24 * 3600
SEND_PATH = re.compile(r"^/v\d+(\.\d+)?/me/messages$")
SENDER_ACTIONS = {"typing_on", "typing_off", "mark_seen"}


@dataclass
class MetaAccount:
    """A Facebook Page or an Instagram account with its app: what credentials.yml names."""

    channel: str  # "facebook" or "instagram"
    account_id: str
    access_token: str
    app_secret: str
    verify_token: str
    webhook_url: str
    human_agent_approved: bool = False
    sent: SentLog = field(default_factory=SentLog)
    last_inbound: dict[str, float] = field(default_factory=dict)

    @property
    def text_limit(self) -> tuple[int, str]:
        return (1000, "bytes") if self.channel == "instagram" else (2000, "characters")


def graph_error(
    code: int, message: str, subcode: int | None = None, status: int = 400
) -> ApiResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": uuid.uuid4().hex[:11],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return ApiResponse(status, {"error": error})


class MetaGraph:
    """The Graph API host and the webhooks of every account it was given."""

    hosts = (GRAPH_HOST,)

    def __init__(self) -> None:
        self.accounts: dict[str, MetaAccount] = {}
        self.revoked: set[str] = set()
        self._lock = threading.Lock()

    def add_account(self, account: MetaAccount) -> MetaAccount:
        self.accounts[account.access_token] = account
        return account

    # --- the customer's side: the platform's webhook into Rasa ----------------------------

    def customer_writes(
        self, account: MetaAccount, user_id: str, text: str, app_secret: str | None = None
    ) -> tuple[int, str]:
        """The person sends `text` to the Page / Instagram account; Meta posts the webhook."""
        now_ms = int(time.time() * 1000)
        with self._lock:
            account.last_inbound[user_id] = time.time()
        event = {
            "sender": {"id": user_id},
            "recipient": {"id": account.account_id},
            "timestamp": now_ms,
            "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text},
        }
        payload = {
            "object": "instagram" if account.channel == "instagram" else "page",
            "entry": [{"id": account.account_id, "time": now_ms, "messaging": [event]}],
        }
        body = json.dumps(payload).encode()
        secret = (app_secret or account.app_secret).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature": "sha1=" + hmac.new(secret, body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(),
        }
        return post(account.webhook_url, body, headers)

    def customer_went_quiet(self, account: MetaAccount, user_id: str, seconds: float) -> None:
        """As if the person's last message were `seconds` older than it is."""
        with self._lock:
            account.last_inbound[user_id] -= seconds

    # --- the Graph API ----------------------------------------------------------------------

    def handle(self, request: ApiRequest) -> ApiResponse:
        if request.method != "POST" or not SEND_PATH.match(request.path):
            return graph_error(100, f"Unsupported {request.method} request to {request.path}")
        token = (request.query.get("access_token") or [""])[0]
        account = self.accounts.get(token)
        if account is None or token in self.revoked:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        body = request.json()
        recipient = str((body.get("recipient") or {}).get("id", ""))
        refusal = self._refusal(account, recipient, body)
        kind, text, url = _content(body)
        if refusal is None and text is not None:
            limit, unit = account.text_limit
            size = len(text.encode()) if unit == "bytes" else len(text)
            if size > limit:
                refusal = graph_error(
                    100, f"(#100) Length of param message[text] must be at most {limit} {unit}"
                )
        error = refusal.body["error"]["message"] if refusal else None
        account.sent.add(Sent(recipient, kind, text, url, refusal is None, error, body))
        if refusal is not None:
            return refusal
        answer = {"recipient_id": recipient}
        if kind not in SENDER_ACTIONS:
            answer["message_id"] = f"m_{uuid.uuid4().hex}"
        return ApiResponse(200, answer)

    def _refusal(self, account: MetaAccount, recipient: str, body: dict) -> ApiResponse | None:
        with self._lock:
            last = account.last_inbound.get(recipient)
        if last is None:
            return graph_error(100, "(#100) No matching user found", 2018001)
        age = time.time() - last
        tagged = body.get("messaging_type") == "MESSAGE_TAG" and body.get("tag") == "HUMAN_AGENT"
        if age <= STANDARD_WINDOW_S:
            return None
        if tagged and account.human_agent_approved and age <= HUMAN_AGENT_WINDOW_S:
            return None
        return graph_error(10, "(#10) This message is sent outside of allowed window.", 2018278)


def _content(body: dict) -> tuple[str, str | None, str | None]:
    if body.get("sender_action"):
        return str(body["sender_action"]), None, None
    message = body.get("message") or {}
    if "attachment" in message:
        attachment = message["attachment"]
        payload = attachment.get("payload") or {}
        if attachment.get("type") == "template":
            return "buttons", payload.get("text"), None
        return str(attachment.get("type")), None, payload.get("url")
    if message.get("quick_replies"):
        return "buttons", message.get("text"), None
    return "text", message.get("text"), None


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST a webhook to Rasa and return its status and body, whatever the status."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
