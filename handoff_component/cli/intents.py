"""Which of a bot's intents ask for a person, and which say the bot did not understand.

`init` puts the first in the rules' `human_request_intents` and the explicit-request rule, the
second in `fallback_intents`; `doctor` warns about those the rules leave out. Names alone
mislead: RasaHQ/financial-demo's `check_human` is "are you a human?" (a bot challenge) and its
`handoff` is another bot handing a conversation over, so an intent with training examples is a
request for a person when most of its examples score as one with the plugin's own human-request
model, at the rules' calibrated threshold. Only an intent without examples (a button payload) is
judged by its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from handoff_component.core.scoring import TurnScorer

# Names that mean "a person, please" when an intent has no examples to judge it by.
HUMAN_NAME = re.compile(r"human|agent|person|operator|representative|live_?chat|staff")
CATCH_ALL_NAME = re.compile(r"out_of_scope|fallback|nlu_fallback|chitchat_unknown")
# The explicit-request rule's threshold (handoff.yml, docs/rules.md).
HUMAN_REQUEST_THRESHOLD = 0.7
# Enough examples to judge an intent by; the rest would only cost time.
EXAMPLES_PER_INTENT = 50
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def nlu_examples(folders: Iterable[Path]) -> dict[str, list[str]]:
    """The training examples of each intent in the YAML files under `folders` (Rasa's data),
    entity annotations reduced to their text."""
    examples: dict[str, list[str]] = {}
    for folder in folders:
        if not folder.exists():
            continue
        paths = (
            [folder]
            if folder.is_file()
            else sorted([*folder.rglob("*.yml"), *folder.rglob("*.yaml")])
        )
        for path in paths:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            entries = data.get("nlu") if isinstance(data, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict) or not isinstance(entry.get("examples"), str):
                    continue
                intent = str(entry.get("intent") or "")
                found = examples.setdefault(intent, [])
                for line in entry["examples"].splitlines():
                    text = line.strip()
                    if text.startswith("- ") and len(found) < EXAMPLES_PER_INTENT:
                        found.append(_ANNOTATION.sub(r"\1", text[2:]).strip())
    return examples


def asks_for_a_person(name: str, examples: list[str], scorer: TurnScorer | None) -> bool:
    """Whether intent `name` is a request for a person: by most of its examples, else its name."""
    if not examples or scorer is None:
        return bool(HUMAN_NAME.search(name))
    asking = sum(
        scorer.score(text).to_dict()["human_request"] >= HUMAN_REQUEST_THRESHOLD
        for text in examples
    )
    return asking * 2 > len(examples)


def human_request_intents(intents: Iterable[str], data_folders: Iterable[Path]) -> list[str]:
    """The intents among `intents` that ask for a person, in their order."""
    examples = nlu_examples(data_folders)
    names = list(intents)
    scorer = TurnScorer() if any(examples.get(n) for n in names) else None
    return [n for n in names if asks_for_a_person(n, examples.get(n, []), scorer)]


def catch_all_intents(intents: Iterable[str]) -> list[str]:
    """The intents that look like a catch-all: a turn the bot did not understand."""
    return [n for n in intents if CATCH_ALL_NAME.search(n)]


__all__ = [
    "HUMAN_REQUEST_THRESHOLD",
    "asks_for_a_person",
    "catch_all_intents",
    "human_request_intents",
    "nlu_examples",
]
