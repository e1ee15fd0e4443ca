"""What a bot's domain must hold for the plugin: its actions, responses and default intents.

One definition, read by the actions and the connector (which utter these responses), by the rules
language (whose defaults name the intents) and by `python -m handoff_component doctor` (which
checks a bot's domain against them). The slots are in `contract/slots.py`.
"""

from __future__ import annotations

# The plugin's handoff action, served by the bot's action server once it imports it; its name
# unless `settings.action_name` in handoff.yml says otherwise (a bot that keeps an
# `action_handoff` of its own names ours, e.g. `action_handoff_to_human`).
HANDOFF_ACTION = "action_handoff"

# Every response the plugin utters, and when the customer hears it. A response missing from the
# domain is not an error in Rasa (the message is skipped), so `doctor` reports each one. A new
# one goes into `init`'s template too (cli/templates/domain.yml; tests/cli/test_cli_init.py checks).
PLUGIN_RESPONSES: dict[str, str] = {
    "utter_handoff": "the bot pauses and a ticket is open (action_handoff)",
    "utter_handoff_with_wait": "the same, when the service knows the expected wait ({wait})",
    "utter_handoff_wait_update": "the customer still waits and the expected wait grew ({wait})",
    "utter_handoff_delayed": "the service could not be reached; the request is kept and sent later",
    "utter_handoff_failed": "the handoff could not be started at all (HandoffPolicy)",
    "utter_handoff_alerted": "a channel whose safety net only alerts the team (auto_pause: false)",
    "utter_handoff_takeover": "an attendant takes the conversation over from the Inbox",
    "utter_handback": "the attendant gives the conversation back or closes the ticket",
    "utter_handback_inactivity": "the ticket was closed because the customer stopped answering",
    "utter_handoff_unclaimed": "nobody claimed the ticket in time and the bot answers again",
}

# Intents that mean "a person, please" and intents that mean "the bot did not understand" (Rasa's
# FallbackClassifier's and the usual catch-all of Rasa bots), as the
# scorer and the rules language count them when a bot does not name its own.
DEFAULT_HUMAN_REQUEST_INTENTS = ("human_handoff", "request_human")
DEFAULT_FALLBACK_INTENTS = ("nlu_fallback", "out_of_scope")
