"""Channel names a rule or a safety net may name.

A misspelt channel would silently make a rule never fire, so names are checked against Rasa
3.6's input channels, the plugin's connector, and the keys of the bot's `credentials.yml`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

# Rasa 3.6's built-in input channels, `instagram` (Messenger's sibling, served by a
# facebook-style connector) and `handoff`, the plugin's attendant connector.
KNOWN_CHANNELS = frozenset(
    {
        "rest",
        "socketio",
        "callback",
        "facebook",
        "instagram",
        "slack",
        "telegram",
        "twilio",
        "twilio_voice",
        "rocketchat",
        "webexteams",
        "botframework",
        "mattermost",
        "hangouts",
        "cmdline",
        "handoff",
    }
)


def channels_from_credentials(path: str | Path) -> frozenset[str]:
    """The top-level keys of a credentials file (custom connectors appear by their dotted path,
    which is accepted as written); empty when the file is absent or not a mapping."""
    path = Path(path)
    if not path.is_file():
        return frozenset()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError:
        return frozenset()
    if not isinstance(data, dict):
        return frozenset()
    return frozenset(str(key) for key in data)
