"""`python -m handoff_component score`: one JSON object per stdin line."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handoff_component.cli import score as cli_score
from handoff_component.core.scoring import TurnScorer

PROJECT_DIR = Path(__file__).resolve().parents[2]


def score_lines(text: str, *extra: str) -> tuple[int, list[dict]]:
    parser = argparse.ArgumentParser()
    cli_score.add_parser(parser.add_subparsers())
    args = parser.parse_args(["score", *extra])
    out = io.StringIO()

    status = args.run(args, stdin=io.StringIO(text), stdout=out)

    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_each_input_line_gives_one_json_object_in_order() -> None:
    status, results = score_lines("where is my money???\n\nI want a human\n")

    assert status == 0
    assert [r["text"] for r in results] == ["where is my money???", "", "I want a human"]
    assert results[0]["sentiment"] < -0.3
    assert results[2]["human_request"] >= 0.9


def test_each_object_has_the_five_scores_and_their_signals() -> None:
    _, [result] = score_lines("I've been waiting for 3 weeks\n")

    assert set(result) == {
        "text",
        "sentiment",
        "frustration",
        "complexity",
        "uncertainty",
        "human_request",
        "signals",
    }
    assert "word" in [s["name"] for s in result["signals"]["sentiment"]]


def test_the_lexicon_scorer_can_be_chosen() -> None:
    _, [result] = score_lines("I've been waiting for 3 weeks\n", "--scorer", "lexicon")

    assert "long_wait" in [s["name"] for s in result["signals"]["sentiment"]]


def test_text_only_scores_say_so_in_the_signals() -> None:
    _, [result] = score_lines("hello\n")

    assert "no_intent_ranking" in [s["name"] for s in result["signals"]["uncertainty"]]


def test_an_extra_lexicon_changes_the_scores(tmp_path: Path) -> None:
    lexicon = tmp_path / "shop.tsv"
    lexicon.write_text("backorder\t-2\n", encoding="utf-8")

    _, [plain] = score_lines("backorder\n", "--scorer", "lexicon")
    _, [extended] = score_lines("backorder\n", "--extra-lexicon", str(lexicon))

    assert plain["sentiment"] == 0.0
    assert extended["sentiment"] < 0


def test_a_bad_extra_lexicon_exits_2_naming_file_and_line(tmp_path: Path, capsys) -> None:
    lexicon = tmp_path / "bad.tsv"
    lexicon.write_text("backorder -2\n", encoding="utf-8")

    status, results = score_lines("hi\n", "--extra-lexicon", str(lexicon))

    assert (status, results) == (2, [])
    assert f"{lexicon}:1:" in capsys.readouterr().err


def test_a_parse_without_handoff_is_scored_from_its_intents() -> None:
    parsed = {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "greet", "confidence": 0.25},
        ],
        "entities": [],
    }

    result = cli_score._result("blah", parsed, TurnScorer())

    assert result["intent"] == {"name": "nlu_fallback", "confidence": 0.3}
    assert "nlu_fallback" in [s["name"] for s in result["signals"]["uncertainty"]]


def test_a_parse_with_handoff_is_passed_through() -> None:
    handoff = {"sentiment": -0.5, "complexity": 0, "uncertainty": 0, "human_request": 0}

    result = cli_score._result("x", {"intent": {}, "handoff": handoff}, TurnScorer())

    assert {k: result[k] for k in handoff} == handoff


def test_the_module_entry_point_scores_stdin() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "handoff_component", "score"],
        input="THIS IS UNACCEPTABLE!!!\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sentiment"] < -0.5


@pytest.fixture(scope="module")
def model_without_scorer(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny NLU model whose pipeline has no HandoffScorer: the CLI scores from its ranking."""
    from rasa.model_training import train_nlu

    folder = tmp_path_factory.mktemp("cli-bot")
    (folder / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: greet\n  examples: |\n    - hello\n    - hi there\n    - good morning\n"
        "- intent: order_status\n  examples: |\n    - where is my order\n"
        "    - has my parcel shipped\n    - track my package\n",
        encoding="utf-8",
    )
    (folder / "config.yml").write_text(
        "recipe: default.v1\nlanguage: en\nassistant_id: cli-score-test\npipeline:\n"
        "  - name: WhitespaceTokenizer\n  - name: CountVectorsFeaturizer\n"
        "  - name: LogisticRegressionClassifier\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_CACHE_DIRECTORY", str(folder / "cache"))
        return train_nlu(
            config=str(folder / "config.yml"),
            nlu_data=str(folder / "nlu.yml"),
            output=str(folder / "models"),
            fixed_model_name="tiny",
        )


def test_with_a_model_its_intents_feed_the_scores(model_without_scorer: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "handoff_component", "score", "--model", model_without_scorer],
        input="where is my order???\nhello\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["intent"]["name"] for r in results] == ["order_status", "greet"]
    uncertainty = [s["name"] for s in results[0]["signals"]["uncertainty"]]
    assert "no_intent_ranking" not in uncertainty


def test_an_unusable_model_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "handoff_component", "score", "--model", "/nonexistent.tar.gz"],
        input="hi\n",
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
    )

    assert done.returncode == 2
    assert "cannot use model '/nonexistent.tar.gz'" in done.stderr
    assert done.stdout == ""


def run_cli_bytes(data: bytes, locale: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(LANG=locale, LC_ALL=locale, PYTHONIOENCODING="")
    return subprocess.run(
        [sys.executable, "-m", "handoff_component", "score"],
        input=data,
        capture_output=True,
        cwd=PROJECT_DIR,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("locale", ["C.UTF-8", "C", "POSIX"])
def test_invalid_utf8_input_is_replaced_and_the_output_is_utf8(locale: str) -> None:
    data = b"caf\xe9 is closed\n\xff\xfe\x00 where is my \xc3\xa9order\n"

    done = run_cli_bytes(data, locale)

    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    lines = done.stdout.decode("utf-8").splitlines()  # strict: raises on invalid UTF-8
    texts = [json.loads(line)["text"] for line in lines]
    assert texts == ["caf\ufffd is closed", "\ufffd\ufffd\x00 where is my \u00e9order"]


def test_non_ascii_text_survives_a_c_locale() -> None:
    done = run_cli_bytes("je veux parler à un humain 😡\n".encode(), "C")

    assert done.returncode == 0
    assert json.loads(done.stdout.decode("utf-8"))["text"] == "je veux parler à un humain 😡"


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2_000))
def test_any_bytes_give_one_valid_utf8_line_per_input_line(data: bytes) -> None:
    parser = argparse.ArgumentParser()
    cli_score.add_parser(parser.add_subparsers())
    args = parser.parse_args(["score"])
    out = io.BytesIO()

    status = args.run(args, stdin=io.BytesIO(data), stdout=out)

    assert status == 0
    lines = out.getvalue().decode("utf-8").split("\n")
    assert lines[-1] == ""
    assert len(lines) - 1 == len(io.BytesIO(data).readlines())
    for line in lines[:-1]:
        scored = json.loads(line)
        assert isinstance(scored["complexity"], float)
        assert isinstance(scored.get("sentiment", 0.0), float)
