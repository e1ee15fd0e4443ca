"""`python -m handoff_component init`: what the plugin needs, written into somebody else's bot.

On copies of the fixture bot (tests/data/bots/helpdesk: its own action_handoff and utter_handoff,
a form, out_of_scope as catch-all, the in-memory tracker store, a Kafka broker, its own hand-off
story and test story) and on a variant whose domain is a directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from handoff_component.cli import yaml_text
from handoff_component.cli.bot_setup import TEMPLATES
from handoff_component.cli.doctor import diagnose
from handoff_component.contract.domain import PLUGIN_RESPONSES
from handoff_component.contract.slots import HANDOFF_SLOTS
from handoff_component.core.rules import load_ruleset

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE = PROJECT_DIR / "tests" / "data" / "bots" / "helpdesk"
USER_FILES = (
    "config.yml",
    "domain.yml",
    "endpoints.yml",
    "credentials.yml",
    "actions/__init__.py",
    "actions/actions.py",
    "data/stories.yml",
    "data/rules.yml",
    "tests/test_stories.yml",
)


@pytest.fixture
def bot(tmp_path: Path) -> Path:
    """A copy of the fixture bot, with a comment of the builder's in each file init edits."""
    bot = tmp_path / "helpdesk"
    shutil.copytree(FIXTURE, bot)
    for name in ("config.yml", "domain.yml", "endpoints.yml", "credentials.yml"):
        path = bot / name
        path.write_text(f"# {name}: the builder's own comment\n{path.read_text()}", "utf-8")
    return bot


def _init(bot: Path, *options: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handoff_component", "init", str(bot), *options],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
        check=False,
    )


def _snapshot(bot: Path) -> dict[str, str]:
    return {str(p.relative_to(bot)): p.read_text() for p in sorted(bot.rglob("*")) if p.is_file()}


def _problems(bot: Path, domain: str | None = None) -> list[str]:
    return [
        f"{f.file.name}:{f.line}: {f.message}"
        for f in diagnose(bot, domain, environ={})
        if f.severity != "note"
    ]


def _is_subsequence(original: list[str], edited: list[str]) -> bool:
    remaining = iter(edited)
    return all(line in remaining for line in original)


def test_init_leaves_a_bot_with_every_trap_clean_for_doctor(bot: Path) -> None:
    assert len(_problems(bot)) > 10
    done = _init(bot, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "wrote 9 files (handoff action: action_handoff_to_human)" in done.stdout
    assert "helpdesk: ready for the handoff plugin (0 errors, 0 warnings" in done.stdout
    assert _problems(bot) == []


def test_a_second_init_changes_nothing(bot: Path) -> None:
    assert _init(bot, "--yes").returncode == 0
    written = _snapshot(bot)
    again = _init(bot, "--yes")
    assert again.returncode == 0
    assert "helpdesk: nothing to change, the bot has what init writes" in again.stdout
    assert _snapshot(bot) == written


def test_a_dry_run_shows_every_diff_and_writes_nothing(bot: Path) -> None:
    before = _snapshot(bot)
    done = _init(bot, "--dry-run")
    assert done.returncode == 1
    assert "dry run: 9 files would change, nothing written" in done.stdout
    for header in ("--- /dev/null\n+++ b/handoff.yml", "--- a/domain.yml\n+++ b/domain.yml"):
        assert header in done.stdout
    assert "-  type: kafka\n" in done.stdout and "+    type: kafka\n" in done.stdout
    assert _snapshot(bot) == before


def test_nothing_is_written_unless_the_builder_says_yes(bot: Path) -> None:
    before = _snapshot(bot)
    for answer in ("", "n\n", "no\n"):
        done = _init(bot, stdin=answer)
        assert done.returncode == 1 and "nothing written" in done.stdout
        assert "Write these changes to 9 files? [y/N]" in done.stdout
        assert _snapshot(bot) == before
    assert _init(bot, stdin="y\n").returncode == 0
    assert (bot / "handoff.yml").exists()


def test_the_builders_lines_and_comments_stay_in_their_order(bot: Path) -> None:
    before = _snapshot(bot)
    _init(bot, "--yes")
    for name in ("config.yml", "domain.yml", "credentials.yml", "data/rules.yml"):
        assert _is_subsequence(before[name].splitlines(), (bot / name).read_text().splitlines())
    # The bot's own action class is never touched; its stories are, each change shown first.
    assert (bot / "actions/actions.py").read_text() == before["actions/actions.py"]
    assert (bot / "endpoints.yml").read_text().startswith("# endpoints.yml: the builder's own")


def test_the_bots_own_action_handoff_keeps_its_name_and_ours_is_named_otherwise(
    bot: Path,
) -> None:
    done = _init(bot, "--yes")
    assert (
        "note: the plugin's handoff action is named action_handoff_to_human: the bot's own "
        "ActionHandoff (actions/actions.py:9) keeps action_handoff"
    ) in done.stdout
    assert "utter_handoff (domain.yml:25) is the bot's own" in done.stdout
    rules = load_ruleset(bot / "handoff.yml", bot / "credentials.yml", import_hooks=False)
    assert rules.settings.action_name == "action_handoff_to_human"
    domain = yaml.safe_load((bot / "domain.yml").read_text())
    assert domain["actions"] == ["action_handoff", "action_handoff_to_human"]
    # The bot's own words for the pause are kept, the plugin's other responses added.
    assert domain["responses"]["utter_handoff"] == [{"text": "Let me transfer you to an agent."}]
    assert set(PLUGIN_RESPONSES) <= set(domain["responses"])
    assert set(HANDOFF_SLOTS) <= set(domain["slots"])
    assert (
        "from handoff_component import ActionHandoff" in (bot / "actions/__init__.py").read_text()
    )


def test_the_rules_count_the_bots_own_intents_with_the_calibrated_thresholds(bot: Path) -> None:
    _init(bot, "--yes")
    written = yaml.safe_load((bot / "handoff.yml").read_text())
    project = yaml.safe_load((PROJECT_DIR / "handoff.yml").read_text())
    assert written["settings"]["human_request_intents"] == ["talk_to_agent"]
    assert written["settings"]["fallback_intents"] == ["nlu_fallback", "out_of_scope"]
    rules = {r["name"]: r for r in written["rules"]}
    ours = {r["name"]: r for r in project["rules"]}
    assert rules["explicit_request"]["when"] == {
        "any": [{"intent": "talk_to_agent"}, {"human_request": ">= 0.7"}]
    }
    assert rules["explicit_request"]["when"]["any"][1] == ours["explicit_request"]["when"]["any"][1]
    for name in ("angry_sentiment", "three_failed_attempts"):
        assert rules[name]["when"] == ours[name]["when"]
        assert rules[name]["cooldown"] == ours[name]["cooldown"]
    assert rules["complex_request"]["when"]["all"][0] == ours["complex_request"]["when"]["all"][0]
    # Only intents of the bot's domain: the rules check of `rasa train` would refuse others.
    assert rules["complex_request"]["when"]["all"][1] == {"not": {"intent": ["greet"]}}
    assert {r["team"] for r in written["rules"]} == {"support"}
    assert written["safety_net"]["rest"]["auto_pause"] is False
    assert written["safety_net"]["default"] == project["safety_net"]["default"]


def test_the_seed_names_the_rules_team_and_the_service_applies_it(
    bot: Path, tmp_path: Path
) -> None:
    _init(bot, "--yes", "--team", "helpdesk")
    seed = yaml.safe_load((bot / "service.yml").read_text())
    assert seed["teams"] == [{"name": "helpdesk", "display_name": "Helpdesk"}]
    assert "attendants" not in seed and "demo" not in seed
    assert {r["team"] for r in yaml.safe_load((bot / "handoff.yml").read_text())["rules"]} == {
        "helpdesk"
    }
    database = f"sqlite:///{tmp_path / 'handoff.db'}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "handoff_component.service",
            "seed",
            str(bot / "service.yml"),
            "--db",
            database,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_bots_broker_keeps_every_event_and_the_store_keeps_every_session(bot: Path) -> None:
    _init(bot, "--yes")
    endpoints = yaml.safe_load((bot / "endpoints.yml").read_text())
    assert endpoints["event_broker"]["type"] == "handoff_component.HandoffEventBroker"
    assert endpoints["event_broker"]["forward_to"] == {
        "type": "kafka",
        "topic": "rasa_events",
        "url": "localhost",
    }
    assert endpoints["tracker_store"] == {
        "type": "handoff_component.HandoffTrackerStore",
        "wraps": "SQL",
        "dialect": "sqlite",
        "db": "rasa.db",
    }
    assert endpoints["action_endpoint"] == {"url": "http://localhost:5055/webhook"}
    credentials = yaml.safe_load((bot / "credentials.yml").read_text())
    assert credentials["handoff_component.HandoffConnector"]["secret"] == "${HANDOFF_SECRET}"
    assert credentials["socketio"]["session_persistence"] is True


def test_a_tracker_store_the_bot_has_is_wrapped_with_its_options(bot: Path) -> None:
    (bot / "endpoints.yml").write_text(
        "tracker_store:\n"
        "  # the bot's PostgreSQL\n"
        "  type: SQL\n"
        "  dialect: postgresql\n"
        "  db: ${DB_NAME}\n",
        "utf-8",
    )
    _init(bot, "--yes")
    text = (bot / "endpoints.yml").read_text()
    assert text.startswith(
        "tracker_store:\n"
        "  # the bot's PostgreSQL\n"
        "  type: handoff_component.HandoffTrackerStore\n"
        "  wraps: SQL\n"
        "  dialect: postgresql\n"
    )
    assert yaml.safe_load(text)["event_broker"]["type"] == "handoff_component.HandoffEventBroker"


def test_the_bots_hand_off_stories_answer_with_the_plugins_action(bot: Path) -> None:
    _init(bot, "--yes")
    stories = yaml.safe_load((bot / "data/stories.yml").read_text())["stories"]
    asked = next(s for s in stories if s["story"] == "ask for an agent")
    assert asked["steps"] == [{"intent": "talk_to_agent"}, {"action": "action_handoff_to_human"}]
    test = yaml.safe_load((bot / "tests/test_stories.yml").read_text())["stories"][0]
    # `rasa test` runs no action: the slot the handoff sets tells the policy it succeeded.
    assert test["steps"][-2:] == [
        {"action": "action_handoff_to_human"},
        {"slot_was_set": [{"handoff_active": True}]},
    ]
    assert test["steps"][0]["user"] == "let me talk to an agent\n"


@pytest.fixture
def directory_bot(bot: Path) -> Path:
    """The fixture bot with its domain split into a directory of files, as larger bots keep it."""
    domain = yaml.safe_load((bot / "domain.yml").read_text())
    folder = bot / "domain"
    folder.mkdir()
    for name, sections in (
        ("nlu.yml", ("intents",)),
        ("incidents.yml", ("slots", "forms")),
        ("responses.yml", ("responses", "actions")),
    ):
        part = {"version": "3.1", **{s: domain[s] for s in sections}}
        (folder / name).write_text(f"# {name}\n" + yaml.safe_dump(part, sort_keys=False), "utf-8")
    (bot / "domain.yml").unlink()
    return bot


def test_a_domain_directory_gets_a_fragment_of_its_own(directory_bot: Path) -> None:
    before = {p.name: p.read_text() for p in (directory_bot / "domain").iterdir()}
    done = _init(directory_bot, "--yes")
    assert done.returncode == 0, done.stdout
    assert "+++ b/domain/handoff_plugin.yml" in done.stdout
    assert {
        p.name: p.read_text() for p in (directory_bot / "domain").iterdir() if p.name in before
    } == before
    fragment = yaml.safe_load((directory_bot / "domain/handoff_plugin.yml").read_text())
    assert list(fragment["slots"]) == list(HANDOFF_SLOTS)
    # The bot's own utter_handoff (in responses.yml) is not declared twice.
    assert set(fragment["responses"]) == set(PLUGIN_RESPONSES) - {"utter_handoff"}
    assert fragment["actions"] == ["action_handoff_to_human"]
    assert _problems(directory_bot) == []
    assert "nothing to change" in _init(directory_bot, "--yes").stdout


def test_rasa_reads_the_domain_directory_with_the_fragment(directory_bot: Path) -> None:
    from rasa.shared.core.domain import Domain

    _init(directory_bot, "--yes")
    domain = Domain.load(str(directory_bot / "domain"))
    assert set(HANDOFF_SLOTS) <= {slot.name for slot in domain.slots}
    assert "action_handoff_to_human" in domain.user_actions
    assert domain.responses["utter_handoff"] == [{"text": "Let me transfer you to an agent."}]


def test_the_domain_template_holds_every_slot_and_response_of_the_contract() -> None:
    template = (TEMPLATES / "domain.yml").read_text()
    assert list(yaml_text.child_entries(template, "slots")) == list(HANDOFF_SLOTS)
    assert set(yaml_text.child_entries(template, "responses")) == set(PLUGIN_RESPONSES)


def test_entries_join_a_section_in_its_own_indentation() -> None:
    text = "intents:\n    - greet\n# the bot's responses\nresponses:\n    utter_a:\n    - text: a\n"
    edited = yaml_text.add_children(text, "intents", ["- bye"], is_list=True)
    assert edited.startswith("intents:\n    - greet\n    - bye\n# the bot's responses\n")
    edited = yaml_text.add_children(edited, "responses", ["utter_b:", "  - text: b"], is_list=False)
    assert edited.endswith("    utter_a:\n    - text: a\n    utter_b:\n      - text: b\n")
    assert yaml.safe_load(edited)["responses"]["utter_b"] == [{"text": "b"}]


def test_a_flow_list_becomes_a_block_and_a_missing_section_is_appended() -> None:
    edited = yaml_text.add_children("actions: [a, b]  # mine\n", "actions", ["- c"], is_list=True)
    assert yaml.safe_load(edited) == {"actions": ["a", "b", "c"]}
    edited = yaml_text.add_children("intents:\n- greet\n", "actions", ["- c"], is_list=True)
    assert edited == "intents:\n- greet\n\nactions:\n  - c\n"
    with pytest.raises(yaml_text.YamlEditError, match="flow style"):
        yaml_text.add_children("slots: {a: {type: text}}\n", "slots", ["b: {}"], is_list=False)


def test_a_story_that_goes_on_after_the_request_ends_at_the_plugins_action(bot: Path) -> None:
    """The pause ends what the bot says in that session: the story's later steps never happen."""
    (bot / "data/handoff_stories.yml").write_text(
        'version: "3.1"\n'
        "stories:\n"
        "- story: offer other bots\n"
        "  steps:\n"
        "  - intent: talk_to_agent\n"
        "  - action: utter_handoff\n"
        "  - intent: deny\n"
        "    entities:\n"
        "    - bot: other\n"
        "  - action: utter_greet\n"
        "\n"
        "# the builder's comment on the next story\n"
        "- story: greet\n"
        "  steps:\n"
        "  - intent: greet\n"
        "  - action: utter_greet\n",
        "utf-8",
    )
    _init(bot, "--yes")
    assert (bot / "data/handoff_stories.yml").read_text() == (
        'version: "3.1"\n'
        "stories:\n"
        "- story: offer other bots\n"
        "  steps:\n"
        "  - intent: talk_to_agent\n"
        "  - action: action_handoff_to_human\n"
        "\n"
        "# the builder's comment on the next story\n"
        "- story: greet\n"
        "  steps:\n"
        "  - intent: greet\n"
        "  - action: utter_greet\n"
    )


def test_a_bot_that_leaves_its_pipeline_and_policies_to_rasa_gets_them_written_out(
    tmp_path: Path,
) -> None:
    """Rasa's starter bot (`rasa init`): a pipeline of HandoffScorer alone, or policies of
    HandoffPolicy alone, would replace what Rasa chose, so init writes Rasa's defaults out."""
    import rasa

    bot = tmp_path / "moodbot"
    shutil.copytree(
        Path(rasa.__file__).parent / "cli" / "initial_project",
        bot,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    done = _init(bot, "--yes")
    assert done.returncode == 0, done.stdout
    config = yaml.safe_load((bot / "config.yml").read_text())
    pipeline = [c["name"] for c in config["pipeline"]]
    policies = [c["name"] for c in config["policies"]]
    assert pipeline[0] == "WhitespaceTokenizer" and "DIETClassifier" in pipeline
    assert pipeline[-1] == "handoff_component.HandoffScorer"
    assert policies[0] == "handoff_component.HandoffPolicy"
    assert {"MemoizationPolicy", "RulePolicy", "TEDPolicy"} <= set(policies)
    assert _problems(bot) == []


def test_an_intent_asks_for_a_person_by_its_examples_not_by_its_name(bot: Path) -> None:
    """As in RasaHQ/financial-demo: `check_human` is "are you a human?", `handoff` another bot
    handing a conversation over; neither asks for a person, and neither is reported."""
    domain = (bot / "domain.yml").read_text()
    (bot / "domain.yml").write_text(
        domain.replace("  - out_of_scope\n", "  - out_of_scope\n  - check_human\n  - handoff\n")
    )
    nlu = (bot / "data/nlu.yml").read_text()
    (bot / "data/nlu.yml").write_text(
        nlu + "  - intent: check_human\n    examples: |\n      - are you a bot?\n"
        "      - am I talking to a human?\n      - are you a human or a bot?\n"
        "      - are you real?\n"
    )
    done = _init(bot, "--yes")
    assert done.returncode == 0, done.stdout
    rules = yaml.safe_load((bot / "handoff.yml").read_text())
    assert rules["settings"]["human_request_intents"] == ["talk_to_agent"]
    assert _problems(bot) == []
    # Without examples the name decides (an intent only a button sends): then check_human counts.
    (bot / "data/nlu.yml").unlink()
    (bot / "handoff.yml").unlink()
    _init(bot, "--yes")
    rules = yaml.safe_load((bot / "handoff.yml").read_text())
    assert rules["settings"]["human_request_intents"] == ["talk_to_agent", "check_human"]


def test_credentials_whose_channels_cannot_push_a_reply_are_a_note(bot: Path) -> None:
    (bot / "credentials.yml").write_text("rest:\nrasa:\n  url: http://localhost:5002/api\n")
    _init(bot, "--yes")
    notes = [f for f in diagnose(bot, environ={}) if "can send an attendant's reply" in f.message]
    assert [n.severity for n in notes] == ["note"]
    assert "(rasa, rest)" in notes[0].message


def test_a_bot_without_an_action_endpoint_gets_one(bot: Path) -> None:
    """Rasa's starter bot has it commented out: the handoff action would never run."""
    (bot / "endpoints.yml").write_text(
        '#action_endpoint:\n# url: "http://localhost:5055/webhook"\n'
    )
    findings = diagnose(bot, environ={})
    assert [f.severity for f in findings if "no action_endpoint url" in f.message] == ["error"]
    _init(bot, "--yes")
    endpoints = yaml.safe_load((bot / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"] == {"url": "http://localhost:5055/webhook"}
    assert _problems(bot) == []


def test_a_file_with_windows_line_endings_keeps_them(bot: Path) -> None:
    config = bot / "config.yml"
    config.write_bytes(config.read_bytes().replace(b"\n", b"\r\n"))
    before = config.read_bytes()
    _init(bot, "--yes")
    after = config.read_bytes()
    assert b"\r\n" in after and b"\n" not in after.replace(b"\r\n", b"")
    assert after.startswith(before.split(b"policies:")[0])
    assert "nothing to change" in _init(bot, "--yes").stdout
