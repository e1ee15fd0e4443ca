"""An unsafe configuration refuses to start, naming what is missing; demo mode is explicit.

In-process checks of `Settings` and the app factory here; the same refusals from the console
script, a real process, are in test_cli.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff_component.service.app import create_app
from handoff_component.service.auth import issue_token
from handoff_component.service.settings import InsecureConfiguration, Settings
from tests.service.support import SECRET, SESSION_SECRET, RunningService

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k7Qe2vXw9TzLp4RbN8sYc1HfJ6uMa3Dg0"


def _example_value(variable: str) -> str:
    text = (ROOT / "deploy" / "production.env.example").read_text()
    match = re.search(rf"^{variable}=(.*)$", text, re.M)
    assert match, variable
    return match.group(1)


def _refusal(**values: object) -> InsecureConfiguration:
    with pytest.raises(InsecureConfiguration) as refused:
        create_app(Settings(**values))  # type: ignore[arg-type]
    return refused.value


def test_without_secrets_the_app_refuses_to_start_naming_both_variables() -> None:
    refusal = _refusal()

    assert "HANDOFF_SECRET is not set" in refusal.problems
    assert "HANDOFF_SESSION_SECRET is not set" in refusal.problems
    assert "--demo" in str(refusal)
    assert "secrets.token_urlsafe(32)" in str(refusal)


def test_the_session_secret_is_never_derived_from_the_rasa_secret() -> None:
    refusal = _refusal(secret=SECRET)

    assert refusal.problems == ["HANDOFF_SESSION_SECRET is not set"]


def test_the_two_secrets_must_be_independent() -> None:
    refusal = _refusal(secret=STRONG, session_secret=STRONG)

    assert len(refusal.problems) == 1
    assert "must be independent" in refusal.problems[0]


@pytest.mark.parametrize("variable", ["HANDOFF_SECRET", "HANDOFF_SESSION_SECRET"])
def test_the_placeholders_of_the_production_example_are_refused(variable: str) -> None:
    placeholder = _example_value(variable)
    values = {"secret": STRONG, "session_secret": STRONG[::-1]}
    values["secret" if variable == "HANDOFF_SECRET" else "session_secret"] = placeholder

    refusal = _refusal(**values)

    assert refusal.problems == [f"{variable} is a placeholder value; generate a random one"]


@pytest.mark.parametrize(
    "weak",
    ["short-but-random-9f3k", "x" * 40, "changeme" + "a1b2c3d4e5f6g7h8i9j0k1l2m3n4", "a" * 31],
)
def test_short_repetitive_or_template_secrets_are_refused(weak: str) -> None:
    refusal = _refusal(secret=weak, session_secret=STRONG)

    assert len(refusal.problems) == 1
    assert refusal.problems[0].startswith("HANDOFF_SECRET ")


def test_strong_independent_secrets_are_accepted() -> None:
    app = create_app(Settings(secret=SECRET, session_secret=SESSION_SECRET))

    assert app.ctx.settings.secret == SECRET


def test_demo_mode_makes_up_the_missing_secrets_for_this_run() -> None:
    first = create_app(Settings(demo=True))
    second = create_app(Settings(demo=True))

    keys = [app.ctx.settings for app in (first, second)]
    assert all(s.secret and s.session_secret and s.secret != s.session_secret for s in keys)
    assert keys[0].session_secret != keys[1].session_secret


def test_demo_mode_is_read_from_the_environment() -> None:
    assert Settings.from_env({"HANDOFF_DEMO": "true"}).demo is True
    assert Settings.from_env({}).demo is False
    with pytest.raises(ValueError, match="HANDOFF_DEMO"):
        Settings.from_env({"HANDOFF_DEMO": "perhaps"})


async def test_a_token_signed_with_the_rasa_secret_is_not_a_session(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    minted = [
        issue_token(key.encode(), ana.id, 3600, now=service.clock.now.timestamp())
        for key in (SECRET, f"sessions:{SECRET}")
    ]

    answers = [
        await service.call("GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
        for token in minted
    ]

    assert [a.status for a in answers] == [401, 401]


class TestCookies:
    async def _cookie(self, service: RunningService, **headers: str) -> str:
        await service.attendant("ana", teams=["support"])
        login = await service.call(
            "POST",
            "/api/auth/login",
            {"username": "ana", "password": "correct-horse-battery"},
            headers=headers,
        )
        assert login.status == 200, login.body
        return str(login.headers["Set-Cookie"])

    async def test_outside_demo_mode_the_session_cookie_is_secure_by_default(
        self, service: RunningService
    ) -> None:
        assert "Secure" in await self._cookie(service)


class TestCookiesBehindATrustedProxy:
    @pytest.fixture
    def service_overrides(self) -> dict[str, object]:
        return {"cookie_secure": "auto", "proxies_count": 1}

    async def test_the_cookie_is_secure_when_the_proxy_says_the_request_was_https(
        self, service: RunningService
    ) -> None:
        https = await TestCookies()._cookie(
            service, **{"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        )
        http = await service.call(
            "POST",
            "/api/auth/login",
            {"username": "ana", "password": "correct-horse-battery"},
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http"},
        )

        assert "Secure" in https
        assert "Secure" not in http.headers["Set-Cookie"]


class TestCookiesWithoutATrustedProxy:
    @pytest.fixture
    def service_overrides(self) -> dict[str, object]:
        return {"demo": True}

    async def test_a_forwarded_proto_from_an_untrusted_peer_is_ignored(
        self, service: RunningService
    ) -> None:
        cookie = await TestCookies()._cookie(service, **{"X-Forwarded-Proto": "https"})

        assert "Secure" not in cookie


def test_settings_read_the_proxy_and_cookie_variables() -> None:
    settings = Settings.from_env(
        {
            "HANDOFF_PROXIES_COUNT": "1",
            "HANDOFF_FORWARDED_SECRET": "proxy-secret",
            "HANDOFF_COOKIE_SECURE": "auto",
        }
    )

    assert (settings.proxies_count, settings.forwarded_secret) == (1, "proxy-secret")
    assert settings.cookie_secure == "auto"
    assert Settings.from_env({"HANDOFF_COOKIE_SECURE": "no"}).cookie_secure == "false"
