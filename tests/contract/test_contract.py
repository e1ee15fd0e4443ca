"""The cross-process contract: signatures, payload validation, event identity, import hygiene."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component import contract
from handoff_component.contract import ContractError, SignatureError

NOW = 1_700_000_000


def test_a_signature_verifies_with_the_same_secret_timestamp_and_body() -> None:
    signature = contract.sign("s3cret", NOW, b'{"a":1}')

    assert signature.startswith("sha256=")
    contract.verify("s3cret", str(NOW), b'{"a":1}', signature, now=NOW + 10)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "message"),
    [
        ("other", str(NOW), b'{"a":1}', "does not match"),
        ("s3cret", str(NOW), b'{"a":2}', "does not match"),
        ("s3cret", str(NOW + 1), b'{"a":1}', "does not match"),
    ],
)
def test_a_signature_fails_if_anything_signed_changes(
    secret: str, timestamp: str, body: bytes, message: str
) -> None:
    signature = contract.sign("s3cret", NOW, b'{"a":1}')

    with pytest.raises(SignatureError, match=message):
        contract.verify(secret, timestamp, body, signature, now=NOW)


def test_a_stale_or_future_signature_is_refused() -> None:
    signature = contract.sign("s3cret", NOW, b"{}")

    with pytest.raises(SignatureError, match="away from the server clock"):
        contract.verify("s3cret", str(NOW), b"{}", signature, now=NOW + 301)
    with pytest.raises(SignatureError, match="away from the server clock"):
        contract.verify("s3cret", str(NOW), b"{}", signature, now=NOW - 301)


def test_missing_headers_are_named() -> None:
    with pytest.raises(SignatureError) as missing_timestamp:
        contract.verify("s", None, b"{}", "sha256=00")
    with pytest.raises(SignatureError) as missing_signature:
        contract.verify("s", str(NOW), b"{}", None, now=NOW)

    assert missing_timestamp.value.field == contract.TIMESTAMP_HEADER
    assert missing_signature.value.field == contract.SIGNATURE_HEADER


def test_signed_headers_verify() -> None:
    headers = contract.signed_headers("k", b"[]", now=NOW)

    contract.verify(
        "k", headers[contract.TIMESTAMP_HEADER], b"[]", headers[contract.SIGNATURE_HEADER], now=NOW
    )


def test_an_empty_secret_is_refused_rather_than_signing_with_nothing() -> None:
    with pytest.raises(SignatureError, match="empty"):
        contract.sign("", NOW, b"{}")


def handoff(**changes: object) -> dict:
    data: dict = {
        "idempotency_key": "handoff-1",
        "conversation_id": "c1",
        "channel": "socketio",
        "rule": "human_request",
        "reason": "asked for a human",
        "priority": "urgent",
        "team": "support",
        "scores": [{"sentiment": -0.2, "human_request": 1.0}],
        "summary": {
            "reason": "asked for a human",
            "topics": ["refund"],
            "last_bot_action": "utter_greet",
            "message_count": 3,
            "recent_scores": [{"sentiment": -0.2}],
        },
        "transcript": [
            {
                "event_id": "ev-1",
                "sender": "customer",
                "text": "human please",
                "timestamp": 1.5,
                "attachments": [{"url": "https://x.test/a.png", "mime_type": "image/png"}],
            }
        ],
    }
    data.update(changes)
    return data


def test_a_handoff_request_round_trips() -> None:
    request = contract.HandoffRequest.from_dict(handoff())

    assert contract.HandoffRequest.from_dict(request.to_dict()) == request
    assert request.transcript[0].attachments[0].mime_type == "image/png"


def test_optional_handoff_fields_have_defaults() -> None:
    minimal = {
        k: v
        for k, v in handoff().items()
        if k in ("idempotency_key", "conversation_id", "channel", "rule", "reason")
    }

    request = contract.HandoffRequest.from_dict(minimal)

    assert (request.priority, request.team, request.summary, request.transcript) == (
        "normal",
        None,
        None,
        [],
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"extra": 1}, "extra"),
        ({"priority": "asap"}, "priority"),
        ({"conversation_id": 42}, "conversation_id"),
        ({"conversation_id": "   "}, "conversation_id"),
        ({"scores": [{"sentiment": "bad"}]}, "scores[0].sentiment"),
        ({"scores": [{"sentiment": float("nan")}]}, "scores[0].sentiment"),
        ({"scores": [{"sentiment": True}]}, "scores[0].sentiment"),
        ({"summary": {"reason": "r", "message_count": -1}}, "summary.message_count"),
        ({"summary": {"reason": "r", "tone": "x"}}, "summary.tone"),
        (
            {"transcript": [{"event_id": "e", "sender": "alien", "text": "", "timestamp": 1}]},
            "transcript[0].sender",
        ),
        (
            {
                "transcript": [
                    {
                        "event_id": "e",
                        "sender": "bot",
                        "text": "",
                        "timestamp": 1,
                        "attachments": [{"url": "file:///etc/passwd"}],
                    }
                ]
            },
            "transcript[0].attachments[0].url",
        ),
        ({"transcript": "not a list"}, "transcript"),
    ],
)
def test_invalid_handoffs_name_the_field(changes: dict, field: str) -> None:
    with pytest.raises(ContractError) as error:
        contract.HandoffRequest.from_dict(handoff(**changes))

    assert error.value.field == field


def test_idempotency_keys_depend_on_conversation_and_event_only() -> None:
    key = contract.idempotency_key_for("c1", "e1")

    assert key == contract.idempotency_key_for("c1", "e1")
    assert key != contract.idempotency_key_for("c1", "e2")
    assert key != contract.idempotency_key_for("c2", "e1")
    assert len(key) <= contract.MAX_ID_LENGTH


RASA_USER_EVENT = {
    "event": "user",
    "timestamp": 1700000000.123456,
    "text": "where is my order?",
    "parse_data": {"intent": {"name": "order_status", "confidence": 0.9}},
    "input_channel": "socketio",
    "message_id": "abc",
    "metadata": {},
}


def test_the_event_identity_is_the_same_from_the_broker_and_from_the_tracker() -> None:
    from_tracker = contract.event_identity("c1", RASA_USER_EVENT)
    broker_copy = json.loads(json.dumps({**RASA_USER_EVENT, "sender_id": "c1"}))

    assert contract.event_identity("c1", broker_copy) == from_tracker
    assert contract.BrokerEvent.from_dict(broker_copy).identity == from_tracker


def test_the_event_identity_differs_by_conversation_time_type_and_text() -> None:
    base = contract.event_identity("c1", RASA_USER_EVENT)

    assert contract.event_identity("c2", RASA_USER_EVENT) != base
    assert contract.event_identity("c1", {**RASA_USER_EVENT, "timestamp": 1700000000.5}) != base
    assert contract.event_identity("c1", {**RASA_USER_EVENT, "event": "bot"}) != base
    assert contract.event_identity("c1", {**RASA_USER_EVENT, "text": "hi"}) != base


@given(st.floats(min_value=1e9, max_value=2e9, allow_nan=False), st.text(max_size=50))
def test_the_event_identity_survives_a_json_round_trip(timestamp: float, text: str) -> None:
    event = {"event": "user", "timestamp": timestamp, "text": text}

    assert contract.event_identity("c", json.loads(json.dumps(event))) == contract.event_identity(
        "c", event
    )


def test_a_broker_event_tolerates_rasa_fields_but_checks_its_own() -> None:
    event = contract.BrokerEvent.from_dict({**RASA_USER_EVENT, "sender_id": "c1", "new": 1})

    assert event.text == "where is my order?"
    with pytest.raises(ContractError) as error:
        contract.EventBatch.from_dict({"events": [{**RASA_USER_EVENT}]})
    assert error.value.field == "events[0].sender_id"


def test_bot_event_attachments_are_taken_by_reference() -> None:
    event = contract.BrokerEvent.from_dict(
        {
            "event": "bot",
            "sender_id": "c",
            "timestamp": 1,
            "text": "see",
            "data": {
                "image": "https://x.test/i.png",
                "attachment": {"url": "https://x.test/f.pdf"},
            },
        }
    )

    assert [a.url for a in event.attachments()] == ["https://x.test/i.png", "https://x.test/f.pdf"]


def test_a_customers_attachments_in_the_message_metadata_are_taken_by_reference() -> None:
    event = contract.BrokerEvent.from_dict(
        {
            "event": "user",
            "sender_id": "c",
            "timestamp": 1,
            "text": "here is the photo",
            "metadata": {
                "attachments": [
                    {"type": "image", "payload": {"url": "https://cdn.x.test/p.jpg"}},
                    {"url": "https://x.test/voice.ogg", "mime_type": "audio/ogg", "name": "voice"},
                    {"url": "javascript:alert(1)"},
                    {"url": 7, "name": ["not", "a", "name"]},
                    "file:///etc/passwd",
                ]
            },
        }
    )

    assert [(a.url, a.mime_type, a.name) for a in event.attachments()] == [
        ("https://cdn.x.test/p.jpg", "image/*", None),
        ("https://x.test/voice.ogg", "audio/ogg", "voice"),
    ]


def test_connector_commands_round_trip_and_validate() -> None:
    reply = contract.ReplyCommand(
        "c1",
        "socketio",
        1,
        2,
        "Hello",
        "Ana",
        [contract.Attachment("https://x.test/a.pdf", "application/pdf")],
    )
    pause = contract.PauseCommand("c1", "socketio", None, "takeover")

    assert contract.ReplyCommand.from_dict(reply.to_dict()) == reply
    assert contract.PauseCommand.from_dict(pause.to_dict()) == pause
    with pytest.raises(ContractError, match="text or an attachment"):
        contract.ReplyCommand.from_dict({**reply.to_dict(), "text": " ", "attachments": []})
    with pytest.raises(ContractError) as error:
        contract.ResumeCommand.from_dict({**pause.to_dict(), "ticket_id": 1, "reason": "bored"})
    assert error.value.field == "reason"
    assert set(contract.CONNECTOR_COMMANDS) == {"reply", "typing", "pause", "resume", "wait"}


def test_a_wait_update_round_trips_and_refuses_a_wait_no_one_should_hear() -> None:
    update = contract.WaitUpdateCommand("c1", "socketio", 7, 960.0)

    assert contract.WaitUpdateCommand.from_dict(update.to_dict()) == update
    assert contract.CONNECTOR_COMMANDS[contract.CONNECTOR_WAIT_PATH] is contract.WaitUpdateCommand
    for wrong in (-1, 8 * 24 * 3600, "soon"):
        with pytest.raises(ContractError) as error:
            contract.WaitUpdateCommand.from_dict(
                {**update.to_dict(), "expected_wait_seconds": wrong}
            )
        assert error.value.field == "expected_wait_seconds"


SCORES = st.dictionaries(
    st.sampled_from(["sentiment", "complexity", "uncertainty", "human_request"]),
    st.floats(min_value=-1, max_value=1, allow_nan=False),
    max_size=4,
)
# Any Unicode text but NUL, which the contract refuses (PostgreSQL's text cannot hold it), and
# lone surrogates, which it refuses too: hypothesis does generate them (category Cs), and one
# found made this test fail on every later run from its example database.
CHARACTERS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
TEXT = st.text(CHARACTERS, min_size=1, max_size=40).filter(lambda s: s.strip())


@settings(max_examples=100)
@given(
    conversation=TEXT,
    rule=TEXT,
    priority=st.sampled_from(contract.PRIORITIES),
    scores=st.lists(SCORES, max_size=5),
    texts=st.lists(st.text(CHARACTERS, max_size=80), max_size=5),
)
def test_any_valid_handoff_survives_the_wire(
    conversation: str, rule: str, priority: str, scores: list, texts: list
) -> None:
    request = contract.HandoffRequest(
        idempotency_key=contract.idempotency_key_for(conversation, "e"),
        conversation_id=conversation,
        channel="socketio",
        rule=rule,
        reason="because",
        priority=priority,
        scores=scores,
        transcript=[
            contract.TranscriptMessage(f"ev-{i}", "customer", text, 1.0 + i)
            for i, text in enumerate(texts)
        ],
    )

    wire = json.loads(json.dumps(request.to_dict()))

    assert contract.HandoffRequest.from_dict(wire) == request


def test_a_handoff_answer_reads_the_ticket_id_and_tolerates_the_rest_of_the_view() -> None:
    body = contract.HandoffAnswer.body(
        {"id": 7, "status": "open", "expected_wait_seconds": 90, "team": {"id": 1}}, True
    )

    answer = contract.HandoffAnswer.from_dict(json.loads(json.dumps(body)))

    assert answer == contract.HandoffAnswer(ticket_id=7, created=True, expected_wait_seconds=90.0)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"created": True}, "ticket"),
        ({"ticket": {"id": "7"}, "created": True}, "ticket.id"),
        ({"ticket": {"id": 7}}, "created"),
        (
            {"ticket": {"id": 7, "expected_wait_seconds": "soon"}, "created": True},
            "ticket.expected_wait_seconds",
        ),
    ],
)
def test_a_malformed_handoff_answer_names_its_field(body: dict, field: str) -> None:
    with pytest.raises(ContractError) as raised:
        contract.HandoffAnswer.from_dict(body)

    assert raised.value.field == field


def test_a_typing_answer_says_whether_the_channel_showed_it_and_why_not() -> None:
    from handoff_component.contract import TypingAnswer

    shown = TypingAnswer.from_dict({"delivered": True, "reason": None})
    not_shown = TypingAnswer.from_dict({"delivered": False, "reason": "no typing indicator"})

    assert shown == TypingAnswer(True) and shown.to_dict() == {"delivered": True, "reason": None}
    assert TypingAnswer.from_dict(not_shown.to_dict()) == not_shown
    with pytest.raises(ContractError, match="delivered"):
        TypingAnswer.from_dict({"reason": "no typing indicator"})
    with pytest.raises(ContractError, match="shown"):
        TypingAnswer.from_dict({"delivered": True, "shown": True})
