"""A stand-in for Twilio's Programmable Messaging (SMS and WhatsApp) and its webhooks into Rasa.

What it holds to, from Twilio's public contract:
- the inbound webhook is a form POST (`From`, `To`, `Body`, `MessageSid`, `AccountSid`, ...)
  signed in `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, of the full URL
  followed by every form field's name and value, sorted by name;
- sending is `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, a form with `To`, `From`,
  `Body` and `MediaUrl`, with HTTP basic auth (AccountSid, auth token); bad credentials are
  401 with error 20003; a body over 1,600 characters is 400 with error 21617;
- a WhatsApp message outside the 24-hour customer-service window is accepted (201, `queued`)
  and fails afterwards with error 63016: Twilio says so only in the message's later status.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

from tests.e2e.platforms.gateway import ApiRequest, ApiResponse
from tests.e2e.platforms.meta import post
from tests.e2e.platforms.recording import Sent, SentLog

TWILIO_HOST = "api.twilio.com"
WHATSAPP_WINDOW_S = 24 * 3600
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")


def twilio_error(status: int, code: int, message: str) -> ApiResponse:
    return ApiResponse(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def signature(auth_token: str, url: str, fields: dict[str, str]) -> str:
    signed = url + "".join(name + fields[name] for name in sorted(fields))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class TwilioAccount:
    account_sid: str
    auth_token: str
    number: str  # e.g. "whatsapp:+14155238886", as credentials.yml's twilio_number
    webhook_url: str
    sent: SentLog = field(default_factory=SentLog)
    last_inbound: dict[str, float] = field(default_factory=dict)
    # What Twilio reported later about accepted messages: sid -> (status, error code).
    outcomes: dict[str, tuple[str, int | None]] = field(default_factory=dict)


class Twilio:
    hosts = (TWILIO_HOST,)

    def __init__(self, account: TwilioAccount) -> None:
        self.account = account
        self.suspended = False  # every call answered 401 20003, as with a revoked auth token
        self._lock = threading.Lock()

    def customer_writes(
        self, sender: str, text: str, auth_token: str | None = None
    ) -> tuple[int, str]:
        """The customer's message as Twilio posts it, signed with the account's auth token
        (or with `auth_token`, as a forger would)."""
        account = self.account
        with self._lock:
            account.last_inbound[sender] = time.time()
        sid = "SM" + uuid.uuid4().hex
        fields = {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": text,
            "To": account.number,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": account.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        if sender.startswith("whatsapp:"):
            fields["WaId"] = sender.removeprefix("whatsapp:+")
            fields["ProfileName"] = "Customer"
        body = urllib.parse.urlencode(fields).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature(
                auth_token or account.auth_token, account.webhook_url, fields
            ),
        }
        return post(account.webhook_url, body, headers)

    def customer_went_quiet(self, sender: str, seconds: float) -> None:
        with self._lock:
            self.account.last_inbound[sender] -= seconds

    def handle(self, request: ApiRequest) -> ApiResponse:
        account = self.account
        match = MESSAGES_PATH.match(request.path)
        if request.method != "POST" or match is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if self.suspended or not self._authenticated(request, match["sid"]):
            return twilio_error(401, 20003, "Authenticate")
        form = request.form()
        to, sender = form.get("To", [""])[-1], form.get("From", [""])[-1]
        body = form.get("Body", [None])[-1]
        media = form.get("MediaUrl", [])
        if sender != account.number:
            error = twilio_error(400, 21212, f"The 'From' number {sender} is not a valid sender")
            account.sent.add(Sent(to, "text", body, None, False, error.body["message"], form))
            return error
        if body is not None and len(body) > 1600:
            error = twilio_error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit"
            )
            account.sent.add(Sent(to, "text", body, None, False, error.body["message"], form))
            return error
        sid = "SM" + uuid.uuid4().hex
        outcome: tuple[str, int | None] = ("sent", None)
        if to.startswith("whatsapp:"):
            with self._lock:
                last = account.last_inbound.get(to)
            if last is None or time.time() - last > WHATSAPP_WINDOW_S:
                outcome = ("failed", 63016)  # accepted now, failed later: what Twilio does
        account.outcomes[sid] = outcome
        kind = "image" if media else "text"
        error = None if outcome[1] is None else "63016 outside the allowed window"
        account.sent.add(
            Sent(to, kind, body, media[0] if media else None, outcome[1] is None, error, form)
        )
        return ApiResponse(
            201,
            {
                "sid": sid,
                "account_sid": account.account_sid,
                "to": to,
                "from": sender,
                "body": body or "",
                "num_media": str(len(media)),
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account.account_sid}/Messages/{sid}.json",
            },
        )

    def _authenticated(self, request: ApiRequest, sid: str) -> bool:
        header = request.header("authorization") or ""
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        account = self.account
        return (
            sid == account.account_sid
            and user == account.account_sid
            and hmac.compare_digest(password, account.auth_token)
        )
