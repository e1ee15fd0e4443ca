"""The plugin's twilio channel: its credentials entry is checked at start-up, with clear errors.

That it takes Twilio's signed webhooks and refuses a forged one is shown end to end against the
Twilio stand-in (tests/e2e/test_messaging_platforms.py).
"""

from __future__ import annotations

import re

import pytest

from handoff_component.bot.twilio_channel import TwilioInput

GOOD = {"account_sid": "AC1", "auth_token": "token", "twilio_number": "whatsapp:+14155238886"}


def test_the_channel_keeps_rasas_name_so_tickets_and_safety_nets_still_say_twilio() -> None:
    channel = TwilioInput.from_credentials(GOOD)

    assert isinstance(channel, TwilioInput)
    assert channel.name() == "twilio"
    assert channel.webhook_url is None


def test_a_webhook_url_is_the_url_twilio_signs() -> None:
    url = "https://bot.example.com/webhooks/twilio/webhook"

    channel = TwilioInput.from_credentials({**GOOD, "webhook_url": url})

    assert isinstance(channel, TwilioInput)
    assert channel.webhook_url == url


@pytest.mark.parametrize(
    ("credentials", "error"),
    [
        ({**GOOD, "auth_token": ""}, "credentials.yml, twilio: auth_token must be set"),
        ({"account_sid": "AC1"}, "auth_token, twilio_number must be set"),
        ({**GOOD, "authtoken": "x"}, "unknown option(s) ['authtoken']"),
        ({**GOOD, "webhook_url": "bot.example.com"}, "webhook_url must be an http(s) URL"),
    ],
)
def test_a_wrong_credentials_entry_is_refused_naming_the_option(
    credentials: dict[str, str], error: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(error)):
        TwilioInput.from_credentials(credentials)
