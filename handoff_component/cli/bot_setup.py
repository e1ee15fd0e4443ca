"""What a bot needs for the plugin, as changes to its files: the plan `init` shows and writes.

Each `plan_*` function reads one part of a bot (its domain, config.yml, endpoints.yml,
credentials.yml, actions, stories, the rules and seed files) and returns the file's new text, or
nothing when the part already has what the plugin needs, so a second `init` plans nothing.
Files the builder wrote are edited on their text (`yaml_text`), so their comments and order stay;
new files come from the templates shipped in the package (`handoff_component/cli/templates/`).
Choices the plugin makes for the bot (the action's name, the intents the rules count) are in
`Choices`, made once from what the bot already has.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import yaml

from handoff_component.cli import yaml_text
from handoff_component.cli.bot_project import ActionPackage, read_action_package
from handoff_component.cli.doctor import (
    BROKER,
    CONNECTOR,
    ONE_SESSION_STORES,
    POLICY,
    SCORER,
    TRACKER_STORE,
    Bot,
    _components,
    _policy_options,
    _scorer_options,
)
from handoff_component.cli.intents import catch_all_intents, human_request_intents
from handoff_component.contract.domain import DEFAULT_HUMAN_REQUEST_INTENTS, HANDOFF_ACTION
from handoff_component.contract.slots import HANDOFF_ACTIVE_SLOT
from handoff_component.core.rules import RulesFileError, load_ruleset

TEMPLATES = Path(__file__).resolve().parent / "templates"
RENAMED_ACTION = "action_handoff_to_human"
DOMAIN_FRAGMENT = "handoff_plugin.yml"
# The production topology's Pika broker carries the handoff events themselves (docs/deployment.md).
HANDOFF_EVENTS_QUEUE = "handoff_events"
# Intents a complex message is never counted for: small talk that is long without being hard.
SMALL_TALK = ("greet", "goodbye", "bye", "thank", "thanks", "thankyou", "affirm", "deny")
# Each channel's safety net in the project's own handoff.yml, for the channels a bot has.
CHANNEL_SAFETY_NETS = {
    "socketio": ["unclaimed_timeout: 5m # the web widget's customers wait the least"],
    "callback": ["unclaimed_timeout: 15m"],
    "facebook": ["unclaimed_timeout: 15m"],
    "instagram": ["unclaimed_timeout: 15m"],
    "handoff_component.InstagramInput": ["unclaimed_timeout: 15m"],
    "twilio": ["unclaimed_timeout: 20m"],
    "handoff_component.TwilioInput": ["unclaimed_timeout: 20m"],
    "telegram": ["unclaimed_timeout: 15m"],
    "handoff_component.TelegramInput": ["unclaimed_timeout: 15m"],
    "slack": ["cooldown: 5m", "unclaimed_timeout: 30m"],
    "rest": [
        "# The rest channel cannot push an attendant's reply: alert the team, the bot talks on.",
        "auto_pause: false",
        "unclaimed_timeout: 30m",
    ],
}
# Where a channel's credentials key and its name in the rules differ.
RULES_CHANNEL_NAME = {
    "handoff_component.InstagramInput": "instagram",
    "handoff_component.TelegramInput": "telegram",
    "handoff_component.TwilioInput": "twilio",
}


@dataclass
class Change:
    """One file's text before (None: a new file) and after, and why each part changes."""

    path: Path
    before: str | None
    after: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class Choices:
    """What `init` decides for the bot, from what it finds there."""

    action_name: str
    human_request_intents: list[str]
    fallback_intents: list[str]
    team: str
    # Why the action got another name: the bot's own action of the plugin's default name.
    renamed_because: str | None = None


@dataclass
class Plan:
    """Every change `init` would make, the notes it prints, and what it leaves to the builder."""

    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manual: list[str] = field(default_factory=list)

    def add(self, change: Change | None) -> None:
        if change is None:
            return
        if change.before is not None and "\r\n" in change.before:
            # A file written on Windows keeps its line endings (the edits work on lines).
            change.after = change.after.replace("\r\n", "\n").replace("\n", "\r\n")
        if change.before != change.after:
            self.changes.append(change)


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _flow_list(names: list[str]) -> str:
    return "[" + ", ".join(names) + "]"


def _text(path: Path) -> str | None:
    """A file's text as it is on disk (its line endings untranslated), or None if it is not."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            return file.read()
    except FileNotFoundError:
        return None


def _parses(text: str, path: Path) -> Any:
    """The parsed text of an edit, so that an edit never leaves a file Rasa cannot read."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:  # pragma: no cover - an edit of ours producing bad YAML
        raise yaml_text.YamlEditError(f"{path.name}: the edit would not parse ({error})") from None


def choose(bot: Bot, package: ActionPackage, team: str = "support") -> Choices:
    """The action's name and the intents the rules count, for this bot.

    A rules file the bot already has decides (a second `init` keeps what the first chose); else
    the plugin's action keeps its default name unless the bot registers an action of that name,
    and the intents are the bot's own: those that ask for a person (`intents.py`: by their
    examples; those the scorer already lists too), and nlu_fallback with its catch-alls.
    """
    domain_intents = list(bot.domain.intents)
    fallback = ["nlu_fallback"] + [
        i for i in catch_all_intents(domain_intents) if i != "nlu_fallback"
    ]
    scorer = _scorer_options(bot.config) or {}
    human = list(scorer.get("human_request_intents") or [])
    asking = human_request_intents(domain_intents, [bot.root / "data"])
    human += [i for i in asking if i not in human]
    if bot.rules_path.exists():
        try:
            settings = load_ruleset(bot.rules_path, None, import_hooks=False).settings
        except RulesFileError:
            pass
        else:
            return Choices(
                settings.action_name,
                list(settings.human_request_intents),
                list(settings.fallback_intents),
                team,
            )
    taken = {a.action_name: a for a in package.actions}
    name, because = HANDOFF_ACTION, None
    if HANDOFF_ACTION in taken:
        own = taken[HANDOFF_ACTION]
        where = f"{own.file.relative_to(bot.root)}:{own.line}"
        because = f"the bot's own {own.class_name} ({where}) keeps {HANDOFF_ACTION}"
    elif HANDOFF_ACTION in bot.domain.actions and not package.imports_plugin_actions:
        because = f"the domain lists an {HANDOFF_ACTION} of the bot's own"
    if because:
        name, number = RENAMED_ACTION, 2
        while name in taken or name in bot.domain.actions:
            name, number = f"{RENAMED_ACTION}_{number}", number + 1
    return Choices(name, human or list(DEFAULT_HUMAN_REQUEST_INTENTS), fallback, team, because)


def plan_rules_file(bot: Bot, choices: Choices, channels: list[str]) -> Change | None:
    """handoff.yml from the template, with the bot's intents; a bot's own file is kept."""
    if bot.rules_path.exists():
        return None
    settings = []
    if choices.action_name != HANDOFF_ACTION:
        settings += [
            f"  # The plugin's handoff action: {choices.renamed_because}.",
            f"  action_name: {choices.action_name}",
        ]
    settings += [
        "  # The bot's intents for \"a person, please\" (the scorer's human_request_intents too)",
        "  # and for a turn it did not understand (each a failed attempt).",
        f"  human_request_intents: {_flow_list(choices.human_request_intents)}",
        f"  fallback_intents: {_flow_list(choices.fallback_intents)}",
    ]
    nets: list[str] = []
    for channel in channels:
        if channel in CHANNEL_SAFETY_NETS:
            nets.append(f"  {RULES_CHANNEL_NAME.get(channel, channel)}:")
            nets += [f"    {line}" for line in CHANNEL_SAFETY_NETS[channel]]
    domain_intents = set(bot.domain.intents)
    asked = [i for i in choices.human_request_intents if i in domain_intents]
    explicit = ["      any:"]
    explicit += (
        [f"        - intent: {_flow_list(asked) if len(asked) > 1 else asked[0]}"] if asked else []
    )
    explicit += ['        - human_request: ">= 0.7"']
    if not asked:
        explicit = ['      human_request: ">= 0.7"']
    small_talk = [i for i in SMALL_TALK if i in domain_intents]
    complex_when = ['      complexity: ">= 0.8"']
    if small_talk:
        complex_when = [
            "      all:",
            '        - complexity: ">= 0.8"',
            "        - not:",
            f"            intent: {_flow_list(small_talk)}",
        ]
    text = Template(_template("handoff.yml")).substitute(
        settings="\n".join(settings),
        channels="\n".join(nets) + ("\n" if nets else ""),
        explicit_when="\n".join(explicit),
        complex_when="\n".join(complex_when),
        team=choices.team,
    )
    _parses(text, bot.rules_path)
    return Change(
        bot.rules_path,
        None,
        text,
        [
            f"the trigger rules, with the bot's intents {', '.join(asked) or '(none found)'} and "
            f"{', '.join(choices.fallback_intents)}, for team {choices.team}"
        ],
    )


def plan_seed(bot: Bot, choices: Choices) -> Change | None:
    """service.yml: the handoff service's seed with the rules' team; a bot's own file is kept."""
    path = bot.root / "service.yml"
    if path.exists():
        return None
    display = choices.team.replace("_", " ").capitalize()
    text = Template(_template("service.yml")).substitute(team=choices.team, display_name=display)
    _parses(text, path)
    return Change(path, None, text, [f"the handoff service's teams ({choices.team})"])


def _domain_template(action_name: str) -> str:
    return Template(_template("domain.yml")).substitute(action_name=action_name)


def plan_domain(bot: Bot, choices: Choices) -> Change | None:
    """The plugin's slots, responses and action the domain lacks.

    A domain directory gets them in a fragment file of its own (Rasa merges the files); a single
    domain file gets them at the end of its own `slots:`, `responses:` and `actions:`.
    """
    template = _domain_template(choices.action_name)
    domain = bot.domain
    sections = {
        "slots": [n for n in yaml_text.child_entries(template, "slots") if n not in domain.slots],
        "responses": [
            n for n in yaml_text.child_entries(template, "responses") if n not in domain.responses
        ],
    }
    missing_action = choices.action_name not in domain.actions
    if not any(sections.values()) and not missing_action:
        return None
    target = bot.domain_path / DOMAIN_FRAGMENT if bot.domain_path.is_dir() else bot.domain_path
    before = _text(target)
    text = before if before is not None else 'version: "3.1"\n'
    if before is None:
        text = "\n".join(template.splitlines()[:4]) + "\n" + text
    for section, names in sections.items():
        entries = yaml_text.child_entries(template, section)
        lines = [line for name in names for line in entries[name]]
        if lines:
            text = yaml_text.add_children(text, section, lines, is_list=False)
    if missing_action:
        text = yaml_text.add_children(text, "actions", [f"- {choices.action_name}"], is_list=True)
    data = _parses(text, target)
    for section, names in sections.items():
        have = (data.get(section) if isinstance(data, dict) else None) or {}
        if not all(name in have for name in names):
            raise yaml_text.YamlEditError(f"{target.name}: {section} could not be added to")
    reasons = [
        f"the plugin's {section}: {', '.join(names)}"
        for section, names in sections.items()
        if names
    ]
    if missing_action:
        reasons.append(f"the plugin's action {choices.action_name}")
    return Change(target, before, text, reasons)


def plan_config(bot: Bot, choices: Choices, plan: Plan) -> Change | None:
    """HandoffScorer at the end of the pipeline and HandoffPolicy first among the policies."""
    before = _text(bot.config.path)
    if before is None or not isinstance(bot.config.data, dict):
        plan.manual.append(f"{bot.config.path.name}: write the bot's config.yml first")
        return None
    text, reasons = before, []
    scorer = _scorer_options(bot.config)
    default_intents = set(choices.human_request_intents) == set(DEFAULT_HUMAN_REQUEST_INTENTS)
    if scorer is None:
        item = [
            "# Scores every turn for the handoff rules (rasa-smart-handoff).",
            f"- name: {SCORER}",
        ]
        if not default_intents:
            item.append(f"  human_request_intents: {_flow_list(choices.human_request_intents)}")
        if bot.config.data.get("pipeline"):
            text = yaml_text.add_children(text, "pipeline", item, is_list=True)
            reasons.append("HandoffScorer at the end of the pipeline")
        else:
            defaults = _rasa_default_components("pipeline")
            if defaults is None:
                plan.manual.append(
                    f"{bot.config.path.name}: the pipeline is left to Rasa's suggestion, which "
                    f"has no HandoffScorer: write the pipeline out, `- name: {SCORER}` at its end"
                )
            else:
                text = yaml_text.add_children(text, "pipeline", [*defaults, *item], is_list=True)
                reasons.append(
                    "the pipeline Rasa suggests written out (a pipeline of HandoffScorer alone "
                    "would replace it), HandoffScorer at its end"
                )
    else:
        text = _align_scorer_intents(bot, text, choices, reasons)
    if not _policy_options(bot.config):
        item = [
            f"# Hands the conversation to a person when a rule of {bot.rules_path.name} fires.",
            f"- name: {POLICY}",
            f"  rules_file: {bot.rules_path.relative_to(bot.root)}",
        ]
        if bot.config.data.get("policies"):
            text = yaml_text.add_children(text, "policies", item, is_list=True, first=True)
            reasons.append("HandoffPolicy first among the policies")
        else:
            defaults = _rasa_default_components("policies")
            if defaults is None:
                plan.manual.append(
                    f"{bot.config.path.name}: the policies are left to Rasa's suggestion: write "
                    f"them out, with `- name: {POLICY}` first"
                )
            else:
                text = yaml_text.add_children(text, "policies", [*item, *defaults], is_list=True)
                reasons.append(
                    "HandoffPolicy first among the policies Rasa suggests, written out (a list "
                    "of HandoffPolicy alone would replace them)"
                )
    _parses(text, bot.config.path)
    return Change(bot.config.path, before, text, reasons)


def _rasa_default_components(section: str) -> list[str] | None:
    """The pipeline or policies Rasa trains with when config.yml leaves them empty, as the lines
    of Rasa's own default config (found without importing Rasa), or None without Rasa."""
    spec = importlib.util.find_spec("rasa")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations)))
    path = path / "engine" / "recipes" / "config_files" / "default_config.yml"
    text = _text(path)
    if text is None:
        return None
    lines = yaml_text.dedent(yaml_text.block_children(text, section))
    return [f"# Rasa's default {section}, as `rasa train` chose them:", *lines] if lines else None


def _align_scorer_intents(bot: Bot, text: str, choices: Choices, reasons: list[str]) -> str:
    """The scorer's human_request_intents made the rules' list, when it is on one line."""
    for index, entry in _components(bot.config, "pipeline"):
        if entry.get("name") != SCORER:
            continue
        current = entry.get("human_request_intents") or list(DEFAULT_HUMAN_REQUEST_INTENTS)
        if set(current) == set(choices.human_request_intents):
            return text
        lines = text.splitlines()
        wanted = f"human_request_intents: {_flow_list(choices.human_request_intents)}"
        if "human_request_intents" in entry:
            number = bot.config.line("pipeline", index, "human_request_intents") - 1
            line = lines[number]
            if "[" not in line or "]" not in line:
                return text
            lines[number] = line[: len(line) - len(line.lstrip())] + wanted
        else:
            number = bot.config.line("pipeline", index, "name") - 1
            line = lines[number]
            spaces = len(line) - len(line.lstrip(" -"))
            lines.insert(number + 1, " " * spaces + wanted)
        reasons.append("HandoffScorer counts the same requests for a person as the rules")
        return "\n".join(lines) + "\n"
    return text


def plan_endpoints(bot: Bot, plan: Plan) -> Change | None:
    """The handoff event broker (the bot's own moves under `forward_to:`) and a tracker store
    that keeps every session, wrapped so each save's events reach the broker cheaply."""
    path = bot.endpoints.path
    before = _text(path)
    text = before or ""
    data = bot.endpoints.data if isinstance(bot.endpoints.data, dict) else {}
    reasons: list[str] = []
    action_endpoint = data.get("action_endpoint")
    if action_endpoint is None:
        text = yaml_text.append_lines(
            text,
            [
                "# The action server (`rasa run actions`), which runs the plugin's handoff action.",
                "action_endpoint:",
                '  url: "http://localhost:5055/webhook"',
            ],
        )
        reasons.append("the action server's address (the handoff action runs there)")
    elif not isinstance(action_endpoint, dict) or not action_endpoint.get("url"):
        plan.manual.append(f"{path.name}: give action_endpoint a url (the action server's)")
    broker = data.get("event_broker")
    ours = [
        f"  type: {BROKER}",
        "  url: ${HANDOFF_SERVICE_URL}",
        "  secret: ${HANDOFF_SECRET}",
        "  outbox: ${HANDOFF_OUTBOX}",
    ]
    comment = (
        "# Every tracker event to the handoff service, through a durable outbox (the plugin's)."
    )
    if broker is None:
        text = yaml_text.append_lines(text, [comment, "event_broker:", *ours])
        reasons.append("the handoff event broker")
    elif isinstance(broker, dict) and broker.get("type") == BROKER:
        pass
    elif isinstance(broker, dict) and _is_handoff_pika(broker):
        plan.notes.append(
            f"{path.name}: the Pika broker to `{HANDOFF_EVENTS_QUEUE}` carries the handoff events "
            "(docs/deployment.md); left as it is"
        )
    else:
        block = yaml_text.blocks(text).get("event_broker")
        if block is None:
            raise yaml_text.YamlEditError(f"{path.name}: event_broker is not a top-level block")
        kept = yaml_text.block_children(text, "event_broker")
        moved = (
            [f"  forward_to: {block.inline}"]
            if block.inline
            else [
                "  forward_to: # the bot's own broker, as it was: it still receives every event",
                *yaml_text.indent(yaml_text.dedent(kept), 4),
            ]
        )
        text = yaml_text.replace_block(
            text, "event_broker", [comment, "event_broker:", *ours, *moved]
        )
        kind = broker.get("type") if isinstance(broker, dict) else broker
        reasons.append(f"the handoff event broker, with the bot's own ({kind}) under forward_to")
    store = data.get("tracker_store")
    store_type = store.get("type") if isinstance(store, dict) else None
    if store is None or store_type in ONE_SESSION_STORES - {None}:
        lines = [
            "# Every session of every conversation, kept across hand-backs and restarts: Rasa's",
            "# in-memory store keeps the last session only (the transcript before a hand-back and",
            "# the earlier handoffs the cooldowns read). Any Rasa store works under `wraps:`, its",
            "# options beside it (the plugin's docs/handoff.md, 'The tracker store wrapper').",
            "tracker_store:",
            f"  type: {TRACKER_STORE}",
            "  wraps: SQL",
            '  dialect: "sqlite"',
            "  db: rasa.db",
        ]
        if store is None:
            text = yaml_text.append_lines(text, lines)
        else:
            text = yaml_text.replace_block(text, "tracker_store", lines)
        reasons.append("a tracker store that keeps every session (SQLite, rasa.db)")
    elif store_type is None:
        plan.notes.append(
            f"{path.name}: tracker_store has no type (Rasa reads it as redis); wrap it by hand: "
            f"`type: {TRACKER_STORE}` and `wraps: redis`"
        )
    elif store_type != TRACKER_STORE:
        text = _wrap_store(text, str(store_type))
        reasons.append(f"the bot's tracker store ({store_type}) wrapped by HandoffTrackerStore")
    _parses(text, path)
    return Change(path, before, text, reasons)


def _is_handoff_pika(broker: dict[str, Any]) -> bool:
    queues = broker.get("queues") or broker.get("queue") or []
    queues = [queues] if isinstance(queues, str) else list(queues)
    return str(broker.get("type", "")).lower().startswith("pika") and HANDOFF_EVENTS_QUEUE in queues


def _wrap_store(text: str, store_type: str) -> str:
    """`type: X` of tracker_store becomes `type: HandoffTrackerStore` and `wraps: X`."""
    found = yaml_text.blocks(text).get("tracker_store")
    if found is None:
        raise yaml_text.YamlEditError("tracker_store is not a top-level block")
    lines = text.splitlines()
    for index in range(found.start + 1, found.end):
        match = re.match(r"^(\s+)type:\s*(.+?)\s*$", lines[index])
        if match:
            spaces = match.group(1)
            lines[index : index + 1] = [
                f"{spaces}type: {TRACKER_STORE}",
                f"{spaces}wraps: {match.group(2)}",
            ]
            return "\n".join(lines) + "\n"
    raise yaml_text.YamlEditError(f"tracker_store: no `type:` line for {store_type}")


def plan_credentials(bot: Bot) -> Change | None:
    """The HandoffConnector, through which the service reaches the customer's channel."""
    path = bot.credentials.path
    data = bot.credentials.data if isinstance(bot.credentials.data, dict) else {}
    if CONNECTOR in data:
        return None
    before = _text(path)
    text = yaml_text.append_lines(
        before or "",
        [
            "# Attendants' replies, typing, pause and resume from the handoff service",
            "# (rasa-smart-handoff), sent on through the customer's own channel.",
            f"{CONNECTOR}:",
            "  secret: ${HANDOFF_SECRET}",
            '  reply_format: "{attendant}: {text}"',
        ],
    )
    _parses(text, path)
    return Change(path, before, text, ["the HandoffConnector"])


def plan_actions(bot: Bot, package: ActionPackage) -> Change | None:
    """The plugin's actions imported by the bot's action package, which registers them."""
    if package.imports_plugin_actions:
        return None
    if (bot.root / "actions").is_dir() or not (bot.root / "actions.py").exists():
        path = bot.root / "actions" / "__init__.py"
    else:
        path = bot.root / "actions.py"
    before = _text(path)
    lines = (before or "").rstrip("\n").splitlines()
    if lines:
        lines.append("")
    lines += [
        "# The handoff plugin's actions, served by this action server once imported here; the",
        "# handoff action's name is settings.action_name of handoff.yml.",
        "from handoff_component import ActionHandoff  # noqa: E402, F401",
    ]
    return Change(path, before, "\n".join(lines) + "\n", ["imports the plugin's handoff action"])


def plan_stories(bot: Bot, choices: Choices) -> list[Change]:
    """Stories, rules and test stories that answer a request for a person with another action:
    they answer it with the plugin's action instead. Its pause ends what the bot says in that
    session (a hand-back starts a new one), so the steps that followed it are removed: they
    would never happen, and test stories expecting them would fail."""
    human = set(choices.human_request_intents)
    folders = [bot.root / "data", bot.root / "tests"]
    changes: list[Change] = []
    for folder in folders:
        if not folder.exists():
            continue
        for path in sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml")):
            is_test = path.name.startswith("test_")  # as `rasa test` tells its stories
            change = _plan_story_file(path, human, choices.action_name, is_test)
            if change is not None:
                changes.append(change)
    return changes


def _plan_story_file(
    path: Path, human: set[str], action_name: str, is_test: bool = False
) -> Change | None:
    """One file's stories and rules answered by the plugin's action (see `plan_stories`). A test
    story also gets the `handoff_active` slot the action sets: `rasa test` runs no action, and
    the policy reads a handoff action without its events as one the action server failed."""
    before = _text(path)
    if before is None:
        return None
    try:
        root = yaml.compose(before, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    lines = before.splitlines()
    replace: dict[int, str] = {}
    remove: list[tuple[int, int]] = []
    insert: dict[int, list[str]] = {}
    named: list[str] = []
    for key, section in root.value:
        if key.value not in ("stories", "rules") or not isinstance(section, yaml.SequenceNode):
            continue
        for entry in section.value:
            steps = _mapping_value(entry, "steps")
            if not isinstance(steps, yaml.SequenceNode):
                continue
            items = steps.value
            for index, step in enumerate(items[:-1]):
                intent = _scalar(step, "intent")
                if intent not in human:
                    continue
                following = items[index + 1]
                action_node = _mapping_value(following, "action")
                if not isinstance(action_node, yaml.ScalarNode) or action_node.value == action_name:
                    continue
                if action_node.start_mark.line != action_node.end_mark.line:
                    continue
                line = lines[action_node.start_mark.line]
                replace[action_node.start_mark.line] = (
                    line[: action_node.start_mark.column]
                    + action_name
                    + line[action_node.end_mark.column :]
                )
                if index + 2 < len(items):
                    start = items[index + 2].start_mark.line
                    remove.append((start, _steps_end(lines, start)))
                if is_test:
                    dash = " " * (len(line) - len(line.lstrip()))
                    insert[action_node.start_mark.line + 1] = [
                        f"{dash}- slot_was_set:",
                        f"{dash}    - {HANDOFF_ACTIVE_SLOT}: true",
                    ]
                story = _scalar(entry, "story") or _scalar(entry, "rule") or "?"
                named.append(f"'{story}'")
                break
    if not replace:
        return None
    for number, text in replace.items():
        lines[number] = text
    # Bottom up, a removal before an insertion at the same line, so no index moves under another.
    edits = [(start, 1, stop) for start, stop in remove] + [(at, 0, at) for at in insert]
    for start, kind, stop in sorted(edits, reverse=True):
        if kind:
            del lines[start:stop]
        else:
            lines[start:start] = insert[start]
    after_text = "\n".join(lines) + "\n"
    _parses(after_text, path)
    return Change(
        path,
        before,
        after_text,
        [
            f"{', '.join(named)} now answer{'s' if len(named) == 1 else ''} a request for a person "
            f"with {action_name}"
        ],
    )


def _steps_end(lines: list[str], start: int) -> int:
    """The index after the last line of the step list that goes on at `start` (a `- ` item):
    the lines indented deeper than its dash, or further items at the same column; blank lines
    and comments at its end are left to what follows."""
    dash = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        column = len(line) - len(line.lstrip())
        if column > dash or (column == dash and line.lstrip().startswith("-")):
            end = index + 1
        else:
            break
    return end


def _mapping_value(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value
    return None


def _scalar(node: yaml.Node, key: str) -> str | None:
    value = _mapping_value(node, key)
    return value.value if isinstance(value, yaml.ScalarNode) else None


def plan(root: Path, domain: str | None = None, team: str = "support") -> tuple[Plan, Choices]:
    """Everything `init` would change in the bot at `root`."""
    bot = Bot.read(root, domain)
    package = read_action_package(root)
    choices = choose(bot, package, team)
    result = Plan()
    if choices.renamed_because:
        result.notes.append(
            f"the plugin's handoff action is named {choices.action_name}: {choices.renamed_because}"
        )
    own_handoff = bot.domain.responses.get("utter_handoff")
    if own_handoff is not None and bot.domain.first_file is not None:
        where = f"{own_handoff.file.relative_to(root)}:{own_handoff.line}"
        result.notes.append(
            f"utter_handoff ({where}) is the bot's own: the customer reads it when the plugin "
            "pauses the bot and opens a ticket (the plugin's text may use {colleague})"
        )
    channels = list(bot.credentials.data) if isinstance(bot.credentials.data, dict) else []
    steps: list[tuple[str, Callable[[], Change | None]]] = [
        ("handoff.yml", lambda: plan_rules_file(bot, choices, [str(c) for c in channels])),
        ("service.yml", lambda: plan_seed(bot, choices)),
        ("config.yml", lambda: plan_config(bot, choices, result)),
        ("endpoints.yml", lambda: plan_endpoints(bot, result)),
        ("credentials.yml", lambda: plan_credentials(bot)),
        ("the actions package", lambda: plan_actions(bot, package)),
    ]
    if not bot.domain.files and not bot.domain_path.exists():
        result.manual.append(f"{bot.domain_path.name}: no domain found (name it with --domain)")
    else:
        steps.insert(2, (bot.domain_path.name, lambda: plan_domain(bot, choices)))
    for name, step in steps:
        # One file init cannot edit safely is left to the builder; the others are still done.
        try:
            result.add(step())
        except yaml_text.YamlEditError as error:
            result.manual.append(f"{name}: cannot be edited safely ({error}); `doctor` says what")
    for change in plan_stories(bot, choices):
        result.add(change)
    return result, choices


__all__ = ["Change", "Choices", "Plan", "plan"]
