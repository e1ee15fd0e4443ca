"""The one check of a channel's credentials.yml entry that the plugin's four channels share."""

from __future__ import annotations

import pytest

from handoff_component.bot.channel_credentials import checked_credentials


def test_a_bad_entry_is_named_with_its_unknown_or_missing_keys() -> None:
    required, known = ("token", "verify"), {"api_server"}

    with pytest.raises(ValueError) as unknown:
        checked_credentials(
            "telegram", {"token": "t", "verfy": "v", "webhok": "u"}, required, known
        )
    with pytest.raises(ValueError) as missing:
        checked_credentials("telegram", {"verify": "", "api_server": "x"}, required, known)
    accepted = checked_credentials("telegram", {"token": "t", "verify": "v"}, required, known)

    assert str(unknown.value) == (
        "credentials.yml, telegram: unknown option(s) ['verfy', 'webhok']; "
        "known: ['api_server', 'token', 'verify']"
    )
    assert str(missing.value) == "credentials.yml, telegram: token, verify must be set"
    assert accepted == {"token": "t", "verify": "v"}
    assert checked_credentials("handoff connector", None, known=known) == {}
