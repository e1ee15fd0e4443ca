"""`python -m handoff_component doctor [BOT_DIR]`: every trap of adding the plugin to a bot, named.

Adding the plugin to a bot somebody else wrote met traps that Rasa reports quietly or not at all:
the bot's own `action_handoff` replacing ours (an INFO line), a missing response skipped, a
catch-all intent the rules do not count, an in-memory tracker store forgetting earlier handoffs,
stories that compete with the trigger rules. Each check here reads the bot's files (never its
model) and says where the problem is and what to change. Errors and warnings make the exit status
1, so a bot's CI can run it; notes do not.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from handoff_component.cli.bot_project import (
    Domain,
    Story,
    YamlFile,
    read_action_package,
    read_domain,
    read_stories,
    read_yaml,
)
from handoff_component.cli.intents import catch_all_intents, human_request_intents
from handoff_component.contract.domain import (
    DEFAULT_HUMAN_REQUEST_INTENTS,
    HANDOFF_ACTION,
    PLUGIN_RESPONSES,
)
from handoff_component.contract.shared_secret import secret_problem
from handoff_component.contract.slots import HANDOFF_ACTIVE_SLOT, HANDOFF_SLOTS
from handoff_component.core.rules import RulesFileError, load_ruleset
from handoff_component.core.rules.settings import RuleSettings

SEVERITIES = ("error", "warning", "note")
SCORER = "handoff_component.HandoffScorer"
POLICY = "handoff_component.HandoffPolicy"
BROKER = "handoff_component.HandoffEventBroker"
TRACKER_STORE = "handoff_component.HandoffTrackerStore"
CONNECTOR = "handoff_component.HandoffConnector"
ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Shared with the service; every process refuses it when weak (contract.shared_secret).
SHARED_SECRET_VARIABLE = "HANDOFF_SECRET"
ONE_SESSION_STORES = {None, "in_memory", "InMemoryTrackerStore"}
# Rasa's channels with no way to send a message later (Rasa X's `rasa` channel is rest-like).
CHANNELS_THAT_CANNOT_PUSH = {
    "rest", "rasa", "twilio_voice", "botframework", "mattermost", "hangouts", "cmdline"
}  # fmt: skip


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what it does to the bot, and the change that removes it."""

    severity: str
    file: Path
    line: int
    message: str
    fix: str

    def render(self, root: Path) -> str:
        try:
            where = self.file.relative_to(root)
        except ValueError:
            where = self.file
        return f"{where}:{self.line}: {self.severity}: {self.message}\n    fix: {self.fix}"


@dataclass
class Bot:
    """The files of a bot that the checks read."""

    root: Path
    config: YamlFile
    domain: Domain
    domain_path: Path
    endpoints: YamlFile
    credentials: YamlFile
    rules_path: Path

    @classmethod
    def read(cls, root: Path, domain: str | None = None) -> Bot:
        config = read_yaml(root / "config.yml")
        domain_path = root / domain if domain else _default_domain(root)
        rules_file = _policy_options(config).get("rules_file") or "handoff.yml"
        return cls(
            root,
            config,
            read_domain(domain_path),
            domain_path,
            read_yaml(root / "endpoints.yml"),
            read_yaml(root / "credentials.yml"),
            root / str(rules_file),
        )


def _default_domain(root: Path) -> Path:
    for name in ("domain.yml", "domain.yaml", "domain"):
        if (root / name).exists():
            return root / name
    return root / "domain.yml"


def _components(config: YamlFile, section: str) -> list[tuple[int, dict[str, Any]]]:
    data = config.data if isinstance(config.data, dict) else {}
    entries = data.get(section) or []
    return [(i, e) for i, e in enumerate(entries) if isinstance(e, dict)]


def _policy_options(config: YamlFile) -> dict[str, Any]:
    for _, entry in _components(config, "policies"):
        if entry.get("name") == POLICY:
            return entry
    return {}


def _scorer_options(config: YamlFile) -> dict[str, Any] | None:
    for _, entry in _components(config, "pipeline"):
        if entry.get("name") == SCORER:
            return entry
    return None


def check_config(bot: Bot) -> Iterable[Finding]:
    config = bot.config
    if config.error or not isinstance(config.data, dict):
        yield Finding(
            "error",
            config.path,
            1,
            f"config.yml {config.error or 'is not a mapping'}",
            "give the bot a config.yml with a pipeline and policies",
        )
        return
    if _scorer_options(config) is None:
        yield Finding(
            "error",
            config.path,
            config.line("pipeline"),
            "HandoffScorer is not in the pipeline: no turn is scored, score rules never fire",
            f"add `- name: {SCORER}` at the end of the pipeline",
        )
    if not _policy_options(config):
        yield Finding(
            "error",
            config.path,
            config.line("policies"),
            "HandoffPolicy is not among the policies: no trigger rule is evaluated",
            f"add `- name: {POLICY}` with `rules_file: handoff.yml` first under policies",
        )


def check_domain(bot: Bot, action_name: str = HANDOFF_ACTION) -> Iterable[Finding]:
    domain = bot.domain
    where = domain.first_file or bot.domain_path
    if not domain.files:
        yield Finding(
            "error",
            where,
            1,
            "no domain file or directory was found",
            "name it with --domain, or keep domain.yml (or a domain/ directory) in the bot",
        )
        return
    missing_slots = [s for s in HANDOFF_SLOTS if s not in domain.slots]
    if missing_slots:
        yield Finding(
            "error",
            where,
            _section_line(domain, "slots"),
            f"the plugin's slots are missing from the domain: {', '.join(missing_slots)} "
            "(without handoff_history the cooldowns reset at every hand-back; without the others "
            "Rasa drops what the policy and the actions set)",
            "declare each with `influence_conversation: false` and `mappings: [{type: custom}]` "
            "(docs/handoff.md lists them)",
        )
    for name, when in PLUGIN_RESPONSES.items():
        if name not in domain.responses:
            yield Finding(
                "error",
                where,
                _section_line(domain, "responses"),
                f"response {name} is missing: Rasa skips it silently, so the customer hears "
                f"nothing when {when}",
                f"add `{name}` under responses",
            )
    if action_name not in domain.actions:
        yield Finding(
            "error",
            where,
            _section_line(domain, "actions"),
            f"action {action_name} is not listed under actions: Rasa will not predict or run it",
            f"add `- {action_name}` under actions",
        )


def _section_line(domain: Domain, section: str) -> int:
    for file in domain.files:
        if (section,) in file.lines:
            return file.lines[(section,)]
    return 1


def check_actions(bot: Bot, action_name: str = HANDOFF_ACTION) -> Iterable[Finding]:
    package = read_action_package(bot.root)
    if not package.files:
        yield Finding(
            "error",
            bot.root / "actions",
            1,
            "the bot has no actions package: nothing serves action_handoff",
            "create actions/__init__.py that imports ActionHandoff from handoff_component",
        )
        return
    for action in package.actions:
        if action.action_name == action_name:
            yield Finding(
                "error",
                action.file,
                action.line,
                f"the bot's own class {action.class_name} registers {action.action_name}, the "
                "plugin's handoff action: the action server refuses to start with both",
                f"name the plugin's action otherwise in {bot.rules_path.name} "
                "(`settings: {action_name: action_handoff_to_human}`, and list it under "
                "actions), or delete the bot's if it only did what the plugin's does",
            )
    if not package.imports_plugin_actions:
        yield Finding(
            "error",
            package.files[0],
            1,
            "the action package does not import the plugin's actions, so the action server "
            f"does not serve {HANDOFF_ACTION}",
            "add `from handoff_component import ActionHandoff` to actions/__init__.py",
        )


def check_rules(bot: Bot) -> tuple[RuleSettings, list[Finding]]:
    credentials = bot.credentials.path if bot.credentials.path.exists() else None
    try:
        ruleset = load_ruleset(bot.rules_path, credentials, import_hooks=False)
    except RulesFileError as error:
        return RuleSettings(), [
            Finding(
                "error",
                Path(p.file),
                max(p.line, 1),
                f"{p.context or (f'rule {p.rule!r}' if p.rule else 'rules file')}: {p.message}",
                "correct the rules file (`python -m handoff_component rules check` explains it)"
                if p.line
                else "write the rules file (docs/rules.md; the example's handoff.yml is a start)",
            )
            for p in error.problems
        ]
    return ruleset.settings, []


def check_intents(bot: Bot, settings: RuleSettings) -> Iterable[Finding]:
    domain, intents = bot.domain, bot.domain.intents
    has_fallback_classifier = any(
        entry.get("name") == "FallbackClassifier"
        for _, entry in _components(bot.config, "pipeline")
    )
    catch_alls = set(catch_all_intents(intents))
    asking = set(human_request_intents(intents, [bot.root / "data"]))
    for name, entry in intents.items():
        if name in catch_alls and name not in settings.fallback_intents:
            severity = "note" if has_fallback_classifier else "warning"
            yield Finding(
                severity,
                entry.file,
                entry.line,
                (
                    f"intent {name} is not counted as a failed attempt (the rules count "
                    f"{', '.join(settings.fallback_intents)}, which the FallbackClassifier sets)"
                    if has_fallback_classifier
                    else f"intent {name} looks like the bot's catch-all and the pipeline has no "
                    f"FallbackClassifier, but the rules count only "
                    f"{', '.join(settings.fallback_intents)} as a failed attempt, so the "
                    "failed-attempts rule never fires"
                ),
                f"add {name} to settings.fallback_intents in {bot.rules_path.name}",
            )
        if name in asking and name not in settings.human_request_intents:
            yield Finding(
                "warning",
                entry.file,
                entry.line,
                f"intent {name} asks for a person (by its examples, or its name when it has "
                f"none), but the rules' "
                f"human_request_intents are {', '.join(settings.human_request_intents)}",
                f"add {name} to settings.human_request_intents in {bot.rules_path.name} and to "
                "HandoffScorer's human_request_intents in config.yml",
            )
    scorer = _scorer_options(bot.config) or {}
    scorer_intents = tuple(scorer.get("human_request_intents") or DEFAULT_HUMAN_REQUEST_INTENTS)
    if set(scorer_intents) != set(settings.human_request_intents):
        yield Finding(
            "warning",
            bot.config.path,
            bot.config.line("pipeline"),
            f"HandoffScorer's human_request_intents ({', '.join(scorer_intents)}) differ from "
            f"the rules' settings.human_request_intents "
            f"({', '.join(settings.human_request_intents)}): a request one counts the other misses",
            "give both the same list",
        )
    del domain


def check_stories(bot: Bot, settings: RuleSettings) -> Iterable[Finding]:
    """Stories, rules and test stories that answer a request for a person with something else.

    HandoffPolicy predicts action_handoff on such a turn (and stays quiet inside a cooldown), so
    a story that predicts another action there competes with it, and a test story fails.
    """
    human = set(settings.human_request_intents)
    folders = [bot.root / "data", bot.root / "tests"]
    for story in read_stories([f for f in folders if f.exists()]):
        if _is_test_story(story.file):
            yield from _test_story_handoffs(story, settings.action_name)
        for step, following in zip(story.steps, story.steps[1:], strict=False):
            if step.kind != "intent" or step.name not in human or following.kind != "action":
                continue
            if following.name == settings.action_name:
                continue
            yield Finding(
                "warning",
                story.file,
                following.line,
                f"{story.kind} '{story.name}' answers {step.name} with {following.name}, where "
                f"HandoffPolicy hands over with {settings.action_name}",
                f"predict {settings.action_name} after {step.name} (or remove the "
                f"{story.kind}); inside a rule's cooldown the policy stays quiet and your "
                "other policies answer",
            )


def _is_test_story(path: Path) -> bool:
    """Rasa's rule: `rasa test` reads the stories of files whose name starts with test_."""
    return path.name.startswith("test_")


def _test_story_handoffs(story: Story, action_name: str) -> Iterable[Finding]:
    """A test story whose handoff action is not followed by the slot the action sets: `rasa
    test` runs no action, so the policy reads the action as failed and predicts
    utter_handoff_failed where the story expects the turn to end."""
    for index, step in enumerate(story.steps):
        if step.kind != "action" or step.name != action_name:
            continue
        following = story.steps[index + 1] if index + 1 < len(story.steps) else None
        if (
            following is not None
            and following.kind == "slot_was_set"
            and HANDOFF_ACTIVE_SLOT in following.name.split(",")
        ):
            continue
        yield Finding(
            "warning",
            story.file,
            step.line,
            f"test story '{story.name}' expects {action_name} without the slot it sets: "
            "`rasa test` runs no action, so HandoffPolicy takes it for a failed handoff and "
            "predicts utter_handoff_failed",
            f"follow it with `- slot_was_set: [{HANDOFF_ACTIVE_SLOT}: true]`, as a handoff does",
        )


def check_endpoints(bot: Bot) -> Iterable[Finding]:
    endpoints = bot.endpoints
    data = endpoints.data if isinstance(endpoints.data, dict) else {}
    if not endpoints.path.exists():
        yield Finding(
            "error",
            endpoints.path,
            1,
            "endpoints.yml is missing",
            "add one with action_endpoint, tracker_store and event_broker (docs/handoff.md)",
        )
        return
    action_endpoint = data.get("action_endpoint")
    if not isinstance(action_endpoint, dict) or not action_endpoint.get("url"):
        yield Finding(
            "error",
            endpoints.path,
            endpoints.line("action_endpoint"),
            "no action_endpoint url: Rasa cannot reach the action server, so the handoff "
            "action never runs (no ticket, no pause; Rasa only logs it)",
            'add `action_endpoint:` with `url: "http://localhost:5055/webhook"` (where '
            "`rasa run actions` listens)",
        )
    raw_store = data.get("tracker_store")
    store: dict[str, Any] = raw_store if isinstance(raw_store, dict) else {}
    store_type = store.get("type")
    wrapped = store.get("wraps") if store_type == TRACKER_STORE else store_type
    if wrapped in ONE_SESSION_STORES:
        yield Finding(
            "warning",
            endpoints.path,
            endpoints.line("tracker_store"),
            "the tracker store is Rasa's in-memory one: it keeps only the last session, so "
            "everything before a hand-back (and the earlier handoffs the cooldowns read) is gone "
            "from Rasa, and every conversation is lost when Rasa restarts",
            "use a persistent store, e.g. `type: SQL` with `dialect: sqlite` and `db: rasa.db` "
            f"(or wrapped: `type: {TRACKER_STORE}` with `wraps: SQL`)",
        )
    broker = data.get("event_broker") if isinstance(data.get("event_broker"), dict) else None
    if broker is None:
        yield Finding(
            "error",
            endpoints.path,
            1,
            "no event_broker: the handoff service never hears the conversation, so tickets "
            "have no transcript and customer messages never reach the attendant",
            f"add event_broker with `type: {BROKER}` (docs/handoff.md)",
        )
    elif broker.get("type") != BROKER and not str(broker.get("type", "")).lower().startswith(
        "pika"
    ):
        yield Finding(
            "error",
            endpoints.path,
            endpoints.line("event_broker"),
            f"the event broker is {broker.get('type')!r}: the handoff service never hears the "
            "conversation",
            f"make it `type: {BROKER}` and move yours under its `forward_to:`, so your stream "
            "keeps every event",
        )
    elif store_type != TRACKER_STORE:
        yield Finding(
            "note",
            endpoints.path,
            endpoints.line("tracker_store"),
            "with an event broker Rasa re-reads the whole conversation on every save to find "
            "the new events",
            f"wrap the store: `type: {TRACKER_STORE}` with `wraps: {store_type or 'SQL'}` "
            "(docs/performance.md)",
        )


def check_credentials(bot: Bot) -> Iterable[Finding]:
    credentials = bot.credentials
    data = credentials.data if isinstance(credentials.data, dict) else {}
    if CONNECTOR not in data:
        yield Finding(
            "error",
            credentials.path,
            1,
            "HandoffConnector is not in credentials.yml: attendants' replies, pause and resume "
            "cannot reach Rasa",
            f"add `{CONNECTOR}:` with `secret: ${{HANDOFF_SECRET}}`",
        )
    channels = set(data) - {CONNECTOR}
    if channels and channels <= CHANNELS_THAT_CANNOT_PUSH:
        yield Finding(
            "note",
            credentials.path,
            1,
            f"no channel of credentials.yml ({', '.join(sorted(channels))}) can send an "
            "attendant's reply later: a customer on them is handed over but never hears the "
            "attendant (or, with `auto_pause: false` in handoff.yml's safety_net, as for rest, "
            "the team is alerted and the bot keeps talking)",
            "enable socketio (the web widget) or another channel that can push "
            "(docs/handoff.md, 'The customer's channels')",
        )
    if credentials.path.exists() and _git_ignores(bot.root, credentials.path):
        yield Finding(
            "warning",
            credentials.path,
            1,
            "git ignores credentials.yml, so a clone or a deployment built from git has no "
            "HandoffConnector and no channels",
            "commit credentials.yml with ${VARIABLES} for the secrets, or ship it another way",
        )


def _git_ignores(root: Path, path: Path) -> bool:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-q", str(path)],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def check_environment(bot: Bot, environ: dict[str, str]) -> Iterable[Finding]:
    for file in (bot.endpoints, bot.credentials):
        if not file.path.exists():
            continue
        for number, text in enumerate(file.path.read_text(encoding="utf-8").splitlines(), 1):
            if text.lstrip().startswith("#"):
                continue
            for name in ENV_REFERENCE.findall(text):
                if name not in environ:
                    yield Finding(
                        "note",
                        file.path,
                        number,
                        f"Rasa reads ${{{name}}} here and stops at start when it is not set",
                        f"set {name} in Rasa's environment (docs/deployment.md lists them)",
                    )
                elif name == SHARED_SECRET_VARIABLE and (
                    problem := secret_problem(name, environ[name])
                ):
                    yield Finding(
                        "error",
                        file.path,
                        number,
                        f"{problem}: Rasa, the action server and the service refuse to start "
                        "with it",
                        'generate it with python -c "import secrets; '
                        'print(secrets.token_urlsafe(32))"',
                    )


def diagnose(root: Path, domain: str | None = None, environ: dict[str, str] | None = None):
    """Every finding for the bot at `root`, errors first, each group in file order."""
    import os

    bot = Bot.read(root, domain)
    settings, findings = check_rules(bot)
    findings.extend(check_domain(bot, settings.action_name))
    findings.extend(check_actions(bot, settings.action_name))
    for check in (check_config, check_endpoints, check_credentials):
        findings.extend(check(bot))
    findings.extend(check_intents(bot, settings))
    findings.extend(check_stories(bot, settings))
    findings.extend(check_environment(bot, dict(os.environ) if environ is None else environ))
    order = {name: i for i, name in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda f: (order[f.severity], str(f.file), f.line))


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    root = Path(args.bot_dir).resolve()
    if not root.is_dir():
        print(f"{args.bot_dir}: not a directory", file=sys.stderr)
        return 2
    findings = diagnose(root, args.domain)
    for finding in findings:
        print(finding.render(root), file=out)
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    problems = counts["error"] + counts["warning"]
    verdict = "problems found" if problems else "ready for the handoff plugin"
    print(
        f"{root.name}: {verdict} ({counts['error']} errors, {counts['warning']} warnings, "
        f"{counts['note']} notes)",
        file=out,
    )
    return 1 if problems else 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check a Rasa bot for everything the plugin needs (exit 1 on problems)",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    parser.add_argument("bot_dir", nargs="?", default=".", help="the bot's project directory")
    parser.add_argument("--domain", help="domain file or directory, relative to BOT_DIR")
    parser.set_defaults(run=run)


__all__ = ["Finding", "add_parser", "diagnose", "run"]
