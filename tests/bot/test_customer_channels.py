"""The customer's channel as the connector uses it: which platform rule refuses a reply before it
is sent, which platform answer is a refusal (kept for a manual retry) and which a failure (the
service retries), and what each channel's configuration must hold. The journeys themselves run
against the platforms' stand-ins in tests/e2e/test_messaging_platforms.py."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from rasa.core.channels.facebook import FacebookInput
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.twilio import TwilioOutput

from handoff_component.bot.connector import HandoffConnector
from handoff_component.bot.customer_channels import (
    ChannelRefused,
    ChannelUnavailable,
    InstagramCustomer,
    MessengerCustomer,
    TelegramCustomer,
    TwilioCustomer,
    customer_channel,
    file_link,
)
from handoff_component.bot.instagram_channel import (
    InstagramInput,
    customer_messages,
    graph_client,
    signature_is_valid,
)
from handoff_component.bot.telegram_channel import TelegramInput
from tests.shared_secret import SHARED_SECRET

HOUR = 3600.0
TOKEN = "7000001:test-token-not-real"


def _twilio(recipient: str) -> TwilioCustomer:
    return TwilioCustomer("twilio", TwilioOutput("AC123", "token", "whatsapp:+1415"), recipient)


# --- WhatsApp's customer-service window ------------------------------------------------------


def test_a_whatsapp_reply_within_24_hours_of_the_customers_message_may_go() -> None:
    customer = _twilio("whatsapp:+15550100")
    assert customer.refusal_before_sending(time.time() - 23 * HOUR) is None


def test_a_whatsapp_reply_after_24_hours_is_refused_before_twilio_would_drop_it() -> None:
    customer = _twilio("whatsapp:+15550100")

    reason = customer.refusal_before_sending(time.time() - 25 * HOUR)

    assert reason is not None
    assert "within 24 hours" in reason and "25 hours ago" in reason
    assert "63016" in reason and "once the customer writes again" in reason


def test_an_sms_has_no_window() -> None:
    assert _twilio("+15550100").refusal_before_sending(time.time() - 90 * 24 * HOUR) is None


def test_whatsapp_refuses_a_first_message_nobody_wrote_to() -> None:
    assert "after the customer has written" in _twilio("whatsapp:+1555").refusal_before_sending(
        None
    )


# --- what a Messenger / Instagram answer means ----------------------------------------------


def _messenger(cls=MessengerCustomer, tag: bool = False) -> MessengerCustomer:
    output = FacebookInput("verify", "secret", "token").get_output_channel()
    return cls("facebook", output, "psid-1", human_agent_tag=tag)


def test_metas_window_refusal_names_the_rule_and_the_way_out() -> None:
    answer = {
        "error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "code": 10,
            "error_subcode": 2018278,
        }
    }
    with pytest.raises(ChannelRefused) as refused:
        _messenger()._check(answer)
    reason = refused.value.reason
    assert reason.startswith("Messenger refused the message: (#10) This message is sent outside")
    assert "(code 10, subcode 2018278)" in reason
    assert "human_agent_tag: true" in reason


def test_a_temporary_meta_failure_is_not_a_refusal() -> None:
    with pytest.raises(RuntimeError, match="failed for now"):
        _messenger(InstagramCustomer)._check({"error": {"message": "Please retry", "code": 2}})


def test_a_meta_success_answer_passes() -> None:
    _messenger()._check({"recipient_id": "psid-1", "message_id": "m_1"})


# --- building the customer's channel ----------------------------------------------------------


async def test_rasas_telegram_channel_cannot_send_from_a_running_server_and_names_the_fix() -> None:
    rasa_channel = RasaTelegramInput(TOKEN, "northwind_bot", "https://bot.example/webhook")

    with pytest.raises(ChannelUnavailable) as unavailable:
        customer_channel(rasa_channel, "42", lambda: None)

    assert "asyncio.run()" in str(unavailable.value)
    assert "handoff_component.TelegramInput" in str(unavailable.value)


async def test_the_plugins_telegram_channel_sends_from_a_running_server() -> None:
    channel = TelegramInput(TOKEN, "northwind_bot", "https://bot.example/webhook")

    customer = customer_channel(channel, "42", lambda: None)

    assert isinstance(customer, TelegramCustomer)
    assert customer.name == "telegram"


def test_an_instagram_customer_is_reached_through_the_graph_api_version_configured() -> None:
    channel = InstagramInput.from_credentials(
        {"verify": "v", "secret": "s", "page-access-token": "t", "api_version": "22.0"}
    )
    customer = customer_channel(channel, "igsid-1", lambda: None)
    assert isinstance(customer, InstagramCustomer)
    assert customer.client.graph_url == "https://graph.facebook.com/v22.0"
    assert graph_client("t").graph_url == "https://graph.facebook.com/v21.0"


# --- configuration errors name what is wrong ---------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "message"),
    [
        ({"verify": "v", "secret": "s"}, "page-access-token must be set"),
        ({"verify": "v", "secret": "s", "page-access-token": "t", "pages": 1}, "unknown option"),
        (
            {"verify": "v", "secret": "s", "page-access-token": "t", "api_version": "latest"},
            'api_version must look like "21.0"',
        ),
    ],
)
def test_instagram_credentials_are_checked(credentials: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        InstagramInput.from_credentials(credentials)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"secret_token": "has spaces"}, "secret_token must be 1-256 characters"),
        ({"api_server": "127.0.0.1:8081"}, "api_server must be an http"),
        ({"webhook": "x"}, "unknown option"),
    ],
)
def test_telegram_credentials_are_checked(extra: dict, message: str) -> None:
    base = {"access_token": TOKEN, "verify": "bot", "webhook_url": "https://bot.example/hook"}
    with pytest.raises(ValueError, match=message):
        TelegramInput.from_credentials({**base, **extra})


def test_telegram_needs_its_webhook_url() -> None:
    with pytest.raises(ValueError, match="webhook_url must be set"):
        TelegramInput.from_credentials({"access_token": TOKEN, "verify": "bot"})


def test_the_connectors_human_agent_tag_must_be_a_boolean() -> None:
    with pytest.raises(ValueError, match="human_agent_tag must be true or false"):
        HandoffConnector.from_credentials({"secret": SHARED_SECRET, "human_agent_tag": "yes"})


# --- Instagram's webhook ----------------------------------------------------------------------


def test_an_instagram_webhook_signature_is_the_sha256_hmac_of_the_raw_body() -> None:
    body = b'{"object":"instagram"}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()

    assert signature_is_valid("app-secret", body, good)
    assert not signature_is_valid("other-secret", body, good)
    assert not signature_is_valid("app-secret", body + b" ", good)
    assert not signature_is_valid("app-secret", body, "sha1=" + good[7:])
    assert not signature_is_valid("app-secret", body, None)


def test_every_customer_message_of_a_batched_webhook_is_read_and_echoes_are_not() -> None:
    def event(sender: str, message: dict) -> dict:
        return {"sender": {"id": sender}, "recipient": {"id": "ig-1"}, "message": message}

    payload = json.loads(
        json.dumps(
            {
                "object": "instagram",
                "entry": [
                    {"messaging": [event("u1", {"text": "hello"})]},
                    {
                        "messaging": [
                            event("ig-1", {"text": "our own reply", "is_echo": True}),
                            event(
                                "u2",
                                {"quick_reply": {"payload": "/request_human"}, "text": "Agent"},
                            ),
                            event(
                                "u3",
                                {
                                    "attachments": [
                                        {"type": "image", "payload": {"url": "https://x/p.jpg"}}
                                    ]
                                },
                            ),
                            {"sender": {"id": "u4"}, "read": {"mid": "m_1"}},
                            {
                                "sender": {"id": "u5"},
                                "postback": {"payload": "/greet", "title": "Hi"},
                            },
                        ]
                    },
                ],
            }
        )
    )

    assert list(customer_messages(payload)) == [
        ("u1", "hello"),
        ("u2", "/request_human"),
        ("u3", "https://x/p.jpg"),
        ("u5", "/greet"),
    ]


# --- files on socket.io ------------------------------------------------------------------------


def test_a_file_on_socketio_is_a_markdown_link_whose_name_and_url_cannot_break_it() -> None:
    assert file_link("https://s.test/files/abc?expires=1&signature=f", "Invoice [final].pdf") == (
        "\N{PAPERCLIP} [Invoice \\[final\\].pdf](https://s.test/files/abc?expires=1&signature=f)"
    )
    assert file_link("https://x.test/a (1).pdf", None) == (
        "\N{PAPERCLIP} [a (1).pdf](https://x.test/a%20%281%29.pdf)"
    )
