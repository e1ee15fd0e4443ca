"""What is wrong with a rules file: each mistake with its file, line and rule, all at once."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleProblem:
    """One mistake in a rules file; `context` says which part (a rule, a safety net, ...)."""

    file: str
    line: int
    message: str
    rule: str | None = None
    context: str | None = None

    def __str__(self) -> str:
        where = self.context or (f"rule '{self.rule}'" if self.rule else None)
        return (
            f"{self.file}:{self.line}: {where}: {self.message}"
            if where
            else (f"{self.file}:{self.line}: {self.message}")
        )


class RulesFileError(ValueError):
    """A rules file that cannot be used; `problems` lists every mistake found, and `file`,
    `line`, `rule` and `message` repeat the first one for callers that need only one."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        if not problems:
            raise ValueError("RulesFileError needs at least one problem")
        self.problems = problems
        first = problems[0]
        self.file, self.line, self.rule, self.message = (
            first.file,
            first.line,
            first.rule,
            first.message,
        )
        super().__init__("\n".join(str(p) for p in problems))


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
