"""The one definition of every payload that crosses a process boundary.

Rasa's side (the action server, the event broker, the HandoffConnector) and the handoff service
both import this package, so a field renamed here is renamed everywhere. It is plain Python on
purpose: importing it never pulls in Rasa, Sanic or a database driver (tests/test_layers.py).

What is where:
- `signing`: the HMAC signature of a request (`sign`, `verify`, `signed_headers`), its headers;
- `shared_secret`: which secrets both sides refuse to start with (`secret_problem`,
  `checked_secret`, `UnsafeSecret`);
- `reader`: the strict JSON `Reader` that names the failing field, used by every payload;
- `handoffs`: `POST /api/handoffs` (`HandoffRequest`, its summary and transcript, and the
  `HandoffAnswer` the action reads back);
- `events`: `POST /api/events` (`EventBatch` of `BrokerEvent`), `event_identity`;
- `commands`: what the service posts to the connector (`ReplyCommand`, `PauseCommand`, ...);
- `scores`: the key and names of the per-turn scores in Rasa's parse data (`handoff`);
- `slots`: the names of the slots the plugin reads and writes in a bot's domain;
- `domain`: the action, responses and intent defaults the plugin needs in a bot's domain;
- `waits`: the expected wait in whole minutes and as the customer hears it (`wait_phrase`);
- `limits`, `attachments`, `errors`: what the payloads share.

Everything is re-exported here, so `from handoff_component import contract; contract.X` reads
the same whichever module holds X. Validation raises `ContractError` naming the offending field
(for example `transcript[2].text`), so the receiving side can answer with a precise 4xx and the
sending side can fail its own tests early.
"""

from handoff_component.contract.attachments import Attachment, read_attachments
from handoff_component.contract.commands import (
    CONNECTOR_BASE_PATH,
    CONNECTOR_COMMANDS,
    CONNECTOR_PAUSE_PATH,
    CONNECTOR_REPLY_PATH,
    CONNECTOR_RESUME_PATH,
    CONNECTOR_TYPING_PATH,
    CONNECTOR_WAIT_PATH,
    PAUSE_REASONS,
    RESUME_REASONS,
    PauseCommand,
    ReplyCommand,
    ResumeCommand,
    TypingAnswer,
    TypingCommand,
    WaitUpdateCommand,
)
from handoff_component.contract.errors import ContractError, SignatureError
from handoff_component.contract.events import (
    MESSAGE_EVENT_TYPES,
    REPLY_METADATA_KEY,
    SERVICE_EVENTS_PATH,
    BrokerEvent,
    EventBatch,
    bounded_event,
    event_identity,
    service_part,
)
from handoff_component.contract.handoffs import (
    PRIORITIES,
    SERVICE_HANDOFFS_PATH,
    TRANSCRIPT_SENDERS,
    HandoffAnswer,
    HandoffRequest,
    HandoffSummary,
    TranscriptMessage,
    idempotency_key_for,
)
from handoff_component.contract.limits import (
    MAX_ATTACHMENTS,
    MAX_EVENTS_PER_BATCH,
    MAX_ID_LENGTH,
    MAX_LIST_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REASON_LENGTH,
    MAX_SCORE_KEYS,
    MAX_TEXT_LENGTH,
    MAX_UNCLAIMED_TIMEOUT_SECONDS,
    MAX_URL_LENGTH,
)
from handoff_component.contract.reader import (
    Reader,
    check_storable_text,
    read_number,
    read_scores,
    string_item,
)
from handoff_component.contract.scores import SCORE_KEY, SCORE_NAMES, SCORE_RANGES
from handoff_component.contract.shared_secret import (
    MIN_SECRET_BYTES,
    UnsafeSecret,
    checked_secret,
    secret_problem,
)
from handoff_component.contract.signing import (
    MAX_SIGNATURE_SKEW_SECONDS,
    SIGNATURE_HEADER,
    SIGNATURE_SCHEME,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    verify,
)
from handoff_component.contract.waits import expected_wait_minutes, wait_phrase

__all__ = [
    "CONNECTOR_BASE_PATH",
    "CONNECTOR_COMMANDS",
    "CONNECTOR_PAUSE_PATH",
    "CONNECTOR_REPLY_PATH",
    "CONNECTOR_RESUME_PATH",
    "CONNECTOR_TYPING_PATH",
    "CONNECTOR_WAIT_PATH",
    "MAX_ATTACHMENTS",
    "MAX_EVENTS_PER_BATCH",
    "MAX_ID_LENGTH",
    "MAX_LIST_LENGTH",
    "MAX_NAME_LENGTH",
    "MAX_REASON_LENGTH",
    "MAX_SCORE_KEYS",
    "MAX_SIGNATURE_SKEW_SECONDS",
    "MAX_TEXT_LENGTH",
    "MAX_UNCLAIMED_TIMEOUT_SECONDS",
    "MAX_URL_LENGTH",
    "MESSAGE_EVENT_TYPES",
    "MIN_SECRET_BYTES",
    "PAUSE_REASONS",
    "PRIORITIES",
    "REPLY_METADATA_KEY",
    "RESUME_REASONS",
    "SCORE_KEY",
    "SCORE_NAMES",
    "SCORE_RANGES",
    "SERVICE_EVENTS_PATH",
    "SERVICE_HANDOFFS_PATH",
    "SIGNATURE_HEADER",
    "SIGNATURE_SCHEME",
    "TIMESTAMP_HEADER",
    "TRANSCRIPT_SENDERS",
    "Attachment",
    "BrokerEvent",
    "ContractError",
    "EventBatch",
    "HandoffAnswer",
    "HandoffRequest",
    "HandoffSummary",
    "PauseCommand",
    "Reader",
    "ReplyCommand",
    "ResumeCommand",
    "SignatureError",
    "TranscriptMessage",
    "TypingAnswer",
    "TypingCommand",
    "UnsafeSecret",
    "WaitUpdateCommand",
    "bounded_event",
    "check_storable_text",
    "checked_secret",
    "event_identity",
    "expected_wait_minutes",
    "idempotency_key_for",
    "read_attachments",
    "read_number",
    "read_scores",
    "secret_problem",
    "service_part",
    "sign",
    "signed_headers",
    "string_item",
    "verify",
    "wait_phrase",
]
