"""`python -m handoff_component rules check|test`: the designers' tools for `handoff.yml`.

`check` validates a rules file (grammar, channels against Rasa's and `credentials.yml`, intents
and entities against `domain.yml`) and exits non-zero with `file:line: rule: message` lines.
`test` replays conversations and prints, turn by turn, the scores, the rules that fired and why,
and the rules held back by a cooldown: the loop for tuning thresholds. Rasa is imported only
with `--model`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import yaml

from handoff_component.contract.scores import SCORE_KEY, SCORE_NAMES
from handoff_component.core.rules import (
    RuleSet,
    RuleSettings,
    RulesFileError,
    Turn,
    check_against_domain,
    load_ruleset,
    scores_from_parse_data,
)
from handoff_component.core.rules.replay import (
    ConversationsFileError,
    ReplayConversation,
    ReplayTurn,
    TurnResult,
    given_values,
    load_conversations,
    replay,
)
from handoff_component.core.rules.view import turn_from_nlu

# Rasa's built-in intents exist in every domain without being declared.
RASA_DEFAULT_INTENTS = ("restart", "back", "out_of_scope", "session_start", "nlu_fallback")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    rules = subparsers.add_parser("rules", help="check or test the handoff trigger rules")
    commands = rules.add_subparsers(dest="rules_command", required=True)

    check = commands.add_parser("check", help="validate a rules file")
    check.add_argument("file", nargs="?", default="handoff.yml", help="default: handoff.yml")
    _add_context_options(check)
    check.set_defaults(run=run_check)

    test = commands.add_parser(
        "test", help="replay conversations and show, turn by turn, which rules fire and why"
    )
    test.add_argument("file", help="Rasa test stories, or a YAML file with `conversations:`")
    test.add_argument("--rules", default="handoff.yml", help="default: handoff.yml")
    test.add_argument(
        "--model", help="a trained Rasa model: parse each text for intent, entities and scores"
    )
    test.add_argument(
        "--channel", help="channel of every conversation (default: the file's, else socketio)"
    )
    test.add_argument("--json", action="store_true", help="print the results as JSON")
    test.add_argument(
        "--credentials",
        default="credentials.yml",
        help="its keys are accepted as channel names (default: credentials.yml)",
    )
    test.set_defaults(run=run_test)


def _add_context_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--credentials",
        default="credentials.yml",
        help="its keys are accepted as channel names (default: credentials.yml)",
    )
    parser.add_argument(
        "--domain",
        default="domain.yml",
        help="intents and entities the rules may name (default: domain.yml; skipped if absent)",
    )


# --- check -------------------------------------------------------------------------------------


def _domain_names(path: Path) -> tuple[set[str], set[str], set[str]] | None:
    """Intents, entities and actions of a domain file or directory, read as plain YAML."""
    files = sorted(path.rglob("*.yml")) + sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    if not files or not all(f.is_file() for f in files):
        return None
    intents: set[str] = set(RASA_DEFAULT_INTENTS)
    entities: set[str] = set()
    actions: set[str] = set()
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            continue
        for kind, target in (("intents", intents), ("entities", entities), ("actions", actions)):
            for item in data.get(kind) or []:
                target.update(item if isinstance(item, dict) else [item])
    return intents, entities, actions


def run_check(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        ruleset = load_ruleset(args.file, args.credentials)
    except RulesFileError as error:
        print(error, file=sys.stderr)
        print(f"{args.file}: {len(error.problems)} problem(s)", file=sys.stderr)
        return 1
    domain = _domain_names(Path(args.domain)) if args.domain else None
    if domain is not None:
        intents, entities, actions = domain
        problems = check_against_domain(ruleset, intents, entities)
        if problems:
            for problem in problems:
                print(problem, file=sys.stderr)
            print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
            return 1
        action_name = ruleset.settings.action_name
        if action_name not in actions:
            print(
                f"warning: {args.domain} does not list {action_name} under actions "
                "(settings.action_name of the rules file)",
                file=sys.stderr,
            )
    enabled = sum(rule.enabled for rule in ruleset.rules)
    nets = ", ".join(ruleset.safety_nets) or "built-in default"
    print(
        f"{args.file}: OK, {len(ruleset.rules)} rules ({enabled} enabled), safety nets: {nets}",
        file=out,
    )
    return 0


# --- test --------------------------------------------------------------------------------------


def _merge(written: ReplayTurn, parsed: Turn) -> Turn:
    """What the file states wins over what a scorer or model found: designers pin values."""
    scores = {**parsed.scores, **written.scores}
    return Turn(
        text=written.text,
        intent=written.intent or parsed.intent,
        intent_confidence=written.confidence
        if written.confidence is not None
        else (1.0 if written.intent else parsed.intent_confidence),
        entities=written.entities if written.entities is not None else parsed.entities,
        scores=scores,
        fallback=written.fallback or parsed.fallback,
    )


def _text_scorer(signals: dict[int, Any]) -> Callable[[ReplayTurn], Turn] | None:
    """The NLU component's pure scorer, when it is installed, for text-only replays."""
    try:
        from handoff_component.core.scoring import ScoringOptions, TurnScorer
    except ImportError:
        return None
    scorer = TurnScorer(ScoringOptions())

    def annotate(written: ReplayTurn) -> Turn:
        if written.text.startswith("/"):
            return given_values(written)  # a payload skips NLU, as it does in Rasa
        ranking = (
            [{"name": written.intent, "confidence": written.confidence or 1.0}]
            if written.intent
            else None
        )
        result = scorer.score(written.text, intent_ranking=ranking).to_dict()
        found = result.get("signals")
        if isinstance(found, dict):  # the file's own values win; their signals would mislead
            signals[id(written)] = {k: v for k, v in found.items() if k not in written.scores}
        parsed = Turn(text=written.text, scores=scores_from_parse_data({SCORE_KEY: result}, None))
        return _merge(written, parsed)

    return annotate


def _model_parser(
    model: str,
    conversations: list[ReplayConversation],
    settings: RuleSettings,
    signals: dict[int, Any],
) -> Callable[[ReplayTurn], Turn]:
    """Parse every text once with a trained model (Rasa imported only here); each parse is a
    turn exactly as HandoffPolicy would see it (`turn_from_nlu`)."""
    from handoff_component.bot.trained_model import TrainedModel

    texts = sorted({t.text for c in conversations for t in c.turns})
    with TrainedModel(model) as nlu:
        parsed_by_text = {text: nlu.parse(text) for text in texts}

    def annotate(written: ReplayTurn) -> Turn:
        data = parsed_by_text[written.text]
        handoff = data.get(SCORE_KEY)
        signals[id(written)] = handoff.get("signals") if isinstance(handoff, dict) else None
        parsed = turn_from_nlu(
            written.text, data.get("intent"), data.get("entities"), data, settings
        )
        return _merge(written, parsed)

    return annotate


def _format_scores(turn: Turn) -> str:
    parts = []
    for name in SCORE_NAMES:
        value = turn.scores.get(name)
        parts.append(f"{name} {value:+.2f}" if value is not None else f"{name} -")
    return "  ".join(parts)


def _format_signals(signals: Any) -> str | None:
    if not isinstance(signals, dict):
        return None
    shown = []
    for score, items in signals.items():
        for item in (items or [])[:3]:
            if isinstance(item, dict) and item.get("name") and item.get("weight") != 0:
                weight = item.get("weight")
                weight_text = f" {weight:+.2f}" if isinstance(weight, int | float) else ""
                shown.append(f"{score}:{item['name']}{weight_text}")
    return ", ".join(shown) or None


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def print_results(
    conversation: ReplayConversation,
    results: list[TurnResult],
    signals: dict[int, Any],
    out: TextIO,
) -> None:
    print(f"== {conversation.name}  (channel {conversation.channel or '-'})", file=out)
    for result, written in zip(results, conversation.turns, strict=True):
        turn = result.turn
        print(f"  {result.index:>2}  {_clock(turn.timestamp)}  {turn.text!r}", file=out)
        intent = f"{turn.intent} {turn.intent_confidence:.2f}" if turn.intent else "-"
        flags = "  fallback" if turn.fallback else ""
        print(f"        intent {intent}{flags}", file=out)
        print(f"        {_format_scores(turn)}", file=out)
        signal_text = _format_signals(signals.get(id(written)))
        if signal_text:
            print(f"        signals: {signal_text}", file=out)
        evaluation = result.evaluation
        if evaluation.winner is None:
            print("        no rule fired", file=out)
        for position, match in enumerate(evaluation.fired):
            label = "HANDOFF" if position == 0 else "also fired"
            rule = match.rule
            print(
                f"        {label} {rule.name}  score {match.score:.2f}  team {rule.team or '-'}"
                f"  priority {rule.priority}",
                file=out,
            )
            print(f"          why: {match.explanation}", file=out)
        for held in evaluation.suppressed:
            print(f"        held back {held.rule.name}: {held.why}", file=out)
            print(f"          would fire: {held.match.explanation}", file=out)
        if result.expect is not None:
            expected = ", ".join(sorted(result.expect)) or "none"
            if result.meets_expectation:
                print(f"        expect {expected}: ok", file=out)
            else:
                fired = ", ".join(sorted(result.fired_names)) or "none"
                print(f"        expect {expected}: MISMATCH (fired: {fired})", file=out)
    print(file=out)


def _result_dict(result: TurnResult) -> dict[str, Any]:
    turn = result.turn
    return {
        "turn": result.index,
        "time": turn.timestamp,
        "text": turn.text,
        "intent": turn.intent,
        "intent_confidence": turn.intent_confidence,
        "fallback": turn.fallback,
        "scores": dict(turn.scores),
        "fired": [
            {
                "rule": m.rule.name,
                "score": round(m.score, 4),
                "why": m.explanation,
                "team": m.rule.team,
                "priority": m.rule.priority,
            }
            for m in result.evaluation.fired
        ],
        "held_back": [
            {"rule": s.rule.name, "why": s.why, "would_fire": s.match.explanation}
            for s in result.evaluation.suppressed
        ],
        "expect": sorted(result.expect) if result.expect is not None else None,
        "meets_expectation": result.meets_expectation,
    }


def run_test(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        ruleset: RuleSet = load_ruleset(args.rules, args.credentials)
        conversations = load_conversations(args.file, args.channel)
    except (RulesFileError, ConversationsFileError) as error:
        print(error, file=sys.stderr)
        return 1
    signals: dict[int, Any] = {}
    if args.model:
        annotate = _model_parser(args.model, conversations, ruleset.settings, signals)
    else:
        annotate = _text_scorer(signals) or given_values
        if annotate is given_values:
            print(
                "note: the text scorer (handoff_component.core.scoring) is not available; "
                "only the scores written in the file are used",
                file=sys.stderr,
            )
    mismatches = 0
    report = []
    for conversation in conversations:
        results = replay(ruleset, conversation, annotate)
        mismatches += sum(r.meets_expectation is False for r in results)
        if args.json:
            report.append(
                {
                    "conversation": conversation.name,
                    "channel": conversation.channel,
                    "turns": [_result_dict(r) for r in results],
                }
            )
        else:
            print_results(conversation, results, signals, out)
    if args.json:
        json.dump(report, out, indent=2)
        print(file=out)
    if mismatches:
        print(f"{mismatches} turn(s) did not meet their expectation", file=sys.stderr)
        return 1
    return 0
