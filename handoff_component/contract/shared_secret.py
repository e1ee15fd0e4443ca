"""What makes a secret good enough to sign the calls between the processes: one rule, both sides.

The handoff service (`HANDOFF_SECRET`, `HANDOFF_SESSION_SECRET`) and every piece on Rasa's side
that holds the shared secret (the HandoffConnector, the event broker, the action server's client)
refuse to start on the same values: none at all, a placeholder copied from an example file
(`change-me-...` of deploy/production.env.example), fewer than 32 bytes, or a run of a few
repeated characters. Were the rule written on one side only, a Rasa process could happily sign
with `secret` what the service would never have accepted as its own.
"""

from __future__ import annotations

import re

# A secret shorter than this (in UTF-8 bytes) is refused: `secrets.token_urlsafe(32)` gives 43.
MIN_SECRET_BYTES = 32
# Values people copy from examples and templates instead of generating a secret.
PLACEHOLDER = re.compile(
    r"change[-_ ]?me|replace[-_ ]?me|fill[-_ ]?me|your[-_ ]?secret|placeholder|example|"
    r"^(?:x+|secret|password|test|demo|todo|none|null)$",
    re.IGNORECASE,
)
# Fewer distinct characters than this is a typed pattern (`aaaa...`, `abab...`), not a secret.
MIN_DISTINCT_CHARACTERS = 8
GENERATE_HINT = 'generate one with: python -c "import secrets; print(secrets.token_urlsafe(32))"'


class UnsafeSecret(ValueError):
    """A process was configured with a secret it must not sign with; the message names where.

    A ValueError, as every other refused option of a Rasa channel or broker is."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem}; {GENERATE_HINT}")
        self.problem = problem


def secret_problem(variable: str, value: str | None) -> str | None:
    """Why `value` cannot be the secret named `variable`, or None when it can.

    `variable` is how the operator finds the setting (an environment variable, or a key of a
    configuration file with the variable it is usually filled from); it starts the message.
    """
    if not value:
        return f"{variable} is not set"
    if PLACEHOLDER.search(value.strip()):
        return f"{variable} is a placeholder value; generate a random one"
    if len(value.encode("utf-8")) < MIN_SECRET_BYTES:
        return f"{variable} is shorter than {MIN_SECRET_BYTES} bytes"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"{variable} repeats too few characters to be random"
    return None


def checked_secret(variable: str, value: str | None) -> str:
    """`value`, when it is safe to sign with; `UnsafeSecret` naming `variable` otherwise."""
    problem = secret_problem(variable, value)
    if problem is not None or not value:
        raise UnsafeSecret(problem or f"{variable} is not set")
    return value
