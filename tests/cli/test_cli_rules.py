"""`python -m handoff_component rules check|test`, as designers run them."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from handoff_component.cli import rules as cli_rules

PROJECT = Path(__file__).resolve().parents[2]
RULES_DATA = PROJECT / "tests" / "data" / "rules"


def run(*argv: str) -> int:
    """The rules subcommands through their own parser (the package's __main__ only wires it)."""
    parser = argparse.ArgumentParser()
    cli_rules.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["rules", *argv])
    return args.run(args)


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the example bot's files the rules depend on, as the working directory."""
    for name in ("handoff.yml", "domain.yml", "credentials.yml"):
        shutil.copy(PROJECT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_accepts_the_example_bot_rules(project: Path, capsys) -> None:
    assert run("check") == 0
    out = capsys.readouterr().out
    assert out.startswith("handoff.yml: OK, 6 rules (6 enabled)")


def test_check_reports_every_problem_with_file_and_line(capsys) -> None:
    broken = RULES_DATA / "broken_handoff.yml"
    assert run("check", str(broken), "--domain", "") == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{broken}:6: rule 'angry': bad comparison")
    assert f"{broken}:11: rule 'complex': unknown field 'chanels'" in err[2]
    assert f"{broken}:15: rule 'somewhere': unknown channel 'whatsap'" in err[3]
    assert err[-1] == f"{broken}: 5 problem(s)"


def test_check_validates_intents_against_the_domain(project: Path, capsys) -> None:
    (project / "handoff.yml").write_text(
        "rules:\n  - name: r\n    when: {intent: request_humn}\n", encoding="utf-8"
    )
    assert run("check") == 1
    err = capsys.readouterr().err
    assert "handoff.yml:3: rule 'r': intent 'request_humn' is not in the domain" in err
    assert "did you mean 'request_human'" in err


def test_check_accepts_custom_channels_from_credentials(project: Path, capsys) -> None:
    (project / "handoff.yml").write_text(
        "rules: [{name: r, when: {intent: complaint}, channels: [my.WhatsAppInput]}]\n",
        encoding="utf-8",
    )
    assert run("check") == 1
    assert "unknown channel 'my.WhatsAppInput'" in capsys.readouterr().err
    with (project / "credentials.yml").open("a", encoding="utf-8") as credentials:
        credentials.write("\nmy.WhatsAppInput:\n  token: x\n")
    assert run("check") == 0


def test_test_replays_turn_by_turn_with_scores_rules_and_why(project: Path, capsys) -> None:
    assert run("test", str(RULES_DATA / "conversations.yml")) == 0
    out = capsys.readouterr().out
    assert "== polite_then_angry  (channel socketio)" in out
    assert "sentiment -0.85" in out and "frustration +0.86" in out
    assert "HANDOFF angry_sentiment  score 0.86  team support  priority high" in out
    assert "why: frustration 0.86 >= 0.7 and message count 3 >= 2" in out
    assert "held back angry_sentiment: channel socketio safety-net cooldown" in out
    assert "HANDOFF legal_chargeback" in out
    assert 'why: said "chargeback" (keyword chargeback*)' in out
    assert "HANDOFF three_failed_attempts" in out
    assert "MISMATCH" not in out


def test_the_text_scorer_keeps_a_calm_report_below_the_angry_rule(project: Path, capsys) -> None:
    assert run("test", str(RULES_DATA / "text_scored.yml")) == 0
    out = capsys.readouterr().out
    assert "MISMATCH" not in out
    assert "why: frustration" in out


def test_test_reads_rasa_test_stories(project: Path, capsys) -> None:
    assert run("test", str(RULES_DATA / "test_stories.yml"), "--channel", "facebook") == 0
    out = capsys.readouterr().out
    assert "(channel facebook)" in out
    assert "HANDOFF three_failed_attempts" in out
    assert "HANDOFF explicit_request" in out


def test_test_fails_when_a_turn_misses_its_expectation(project: Path, tmp_path: Path, capsys):
    conversations = tmp_path / "expect.yml"
    conversations.write_text(
        textwrap.dedent(
            """
            conversations:
              - name: calm
                turns:
                  - {text: hello there, sentiment: 0.5, expect: angry_sentiment}
            """
        ),
        encoding="utf-8",
    )
    assert run("test", str(conversations)) == 1
    captured = capsys.readouterr()
    assert "expect angry_sentiment: MISMATCH (fired: none)" in captured.out
    assert "1 turn(s) did not meet their expectation" in captured.err


def test_test_prints_json_for_tools(project: Path, capsys) -> None:
    assert run("test", str(RULES_DATA / "conversations.yml"), "--json") == 0
    report = json.loads(capsys.readouterr().out)
    angry = report[0]
    assert angry["conversation"] == "polite_then_angry"
    third = angry["turns"][2]
    assert third["fired"][0]["rule"] == "angry_sentiment"
    assert third["scores"]["sentiment"] == -0.85
    assert angry["turns"][3]["held_back"][0]["rule"] == "angry_sentiment"


def test_test_reports_a_broken_rules_file(project: Path, capsys) -> None:
    broken = str(RULES_DATA / "broken_handoff.yml")
    assert run("test", str(RULES_DATA / "conversations.yml"), "--rules", broken) == 1
    assert "broken_handoff.yml:6: rule 'angry'" in capsys.readouterr().err


def test_the_module_entry_point_runs_rules_check(project: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "handoff_component", "rules", "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "handoff.yml: OK" in result.stdout
