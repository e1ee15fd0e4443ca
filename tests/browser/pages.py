"""What the browser tests do on a page: sign in, find things, keep evidence (screenshots)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNTS = {
    "ana": "ana-password-123",
    "bruno": "bruno-password-123",
    "sam": "sam-password-123",
}

# Chromium logs a failed request as a console error; the Inbox's first `GET /api/me` answers 401
# before anyone signs in, which is how the page learns it must show the sign-in form.
EXPECTED_CONSOLE = ("status of 401",)


@dataclass
class Screen:
    """One browser page with what a test must check on it: dialogs and script errors."""

    page: Any
    name: str
    artifacts: Path
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def shot(self, step: str) -> Path:
        path = self.artifacts / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path))
        return path

    @property
    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(known in e for known in EXPECTED_CONSOLE)]


def sign_in(screen: Screen, username: str) -> None:
    page = screen.page
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(ACCOUNTS[username])
    page.get_by_role("button", name="Sign in").click()
    page.locator("#stream-state.connected").wait_for()
