"""HandoffScorer in a real Rasa pipeline: trained on a tiny NLU set, parsed like /model/parse."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message

from handoff_component.bot.scorer import HandoffScorer

NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - good morning
    - hey
    - good evening
- intent: order_status
  examples: |
    - where is my order
    - has my package shipped
    - when will my order arrive
    - track my parcel
    - is my delivery on its way
- intent: human_handoff
  examples: |
    - I want to talk to a human
    - get me an agent
    - can I speak to a person
    - real person please
    - connect me to support staff
"""

PIPELINE = """\
recipe: default.v1
language: en
assistant_id: handoff-scorer-test
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
  - name: FallbackClassifier
    threshold: {threshold}
  - name: handoff_component.HandoffScorer
{options}
"""


def train(folder: Path, options: str = "", threshold: float = 0.3) -> str:
    """Train the tiny NLU model in `folder`; Rasa's cache stays inside it too."""
    from rasa.model_training import train_nlu

    (folder / "nlu.yml").write_text(NLU, encoding="utf-8")
    config = PIPELINE.format(threshold=threshold, options=textwrap.indent(options, " " * 4))
    (folder / "config.yml").write_text(config, encoding="utf-8")
    return train_nlu(
        config=str(folder / "config.yml"),
        nlu_data=str(folder / "nlu.yml"),
        output=str(folder / "models"),
        fixed_model_name="tiny",
    )


@pytest.fixture(autouse=True)
def rasa_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path_factory.mktemp("rasa-cache")))


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory):
    from rasa.core.agent import Agent

    folder = tmp_path_factory.mktemp("tiny-bot")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASA_CACHE_DIRECTORY", str(folder / "cache"))
        # A high fallback threshold: a tiny model is never very sure, so gibberish falls back.
        model = train(
            folder,
            options="ambiguity_margin: 0.2\nhuman_request_intents: [human_handoff]",
            threshold=0.75,
        )
    return Agent.load(model)


async def test_parse_output_carries_the_handoff_scores(agent) -> None:
    # One "?": with "???" the learned model (trained on task turns reviewed as upset, where a
    # run of "?" often comes with anger) reads 0.80, above the angry rule.
    parsed = await agent.parse_message("where is my order? I've been waiting for 3 weeks")

    handoff = parsed["handoff"]
    assert set(handoff) == {
        "sentiment",
        "frustration",
        "complexity",
        "uncertainty",
        "human_request",
        "signals",
    }
    assert handoff["sentiment"] < -0.3
    assert handoff["frustration"] < 0.7  # a wait, told without anger
    assert "word" in [s["name"] for s in handoff["signals"]["sentiment"]]
    assert "no_intent_ranking" not in [s["name"] for s in handoff["signals"]["uncertainty"]]


async def test_a_request_for_a_person_scores_high_from_intent_and_phrase(agent) -> None:
    parsed = await agent.parse_message("can I talk to a human please")

    names = [s["name"] for s in parsed["handoff"]["signals"]["human_request"]]
    assert parsed["handoff"]["human_request"] >= 0.9
    assert {"human_intent", "word"} <= set(names)


async def test_gibberish_is_marked_uncertain_by_the_fallback(agent) -> None:
    parsed = await agent.parse_message("qwxz plmk vbnr")

    assert parsed["intent"]["name"] == "nlu_fallback"
    uncertainty = [s["name"] for s in parsed["handoff"]["signals"]["uncertainty"]]
    assert "nlu_fallback" in uncertainty
    assert parsed["handoff"]["uncertainty"] > 0.9


def test_an_invalid_option_fails_rasa_train_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(InvalidConfigException, match="option 'ambiguity_margin'"):
        train(tmp_path, options="ambiguity_margin: 2")


# --- process() without training: what NLU may or may not have set ------------------------------


@pytest.fixture()
def component(tmp_path: Path) -> HandoffScorer:
    return HandoffScorer.create(
        HandoffScorer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("handoff_scorer"),
        ExecutionContext(graph_schema=None, model_id="test"),  # type: ignore[arg-type]
    )


def test_a_message_without_nlu_output_is_scored_from_text(component: HandoffScorer) -> None:
    message = Message(data={"text": "I still haven't received my refund!!"})

    component.process([message])

    handoff = message.get("handoff")
    assert handoff["sentiment"] < -0.3
    assert "no_intent_ranking" in [s["name"] for s in handoff["signals"]["uncertainty"]]
    assert "handoff" in message.as_dict(only_output_properties=True)


def test_a_button_payload_intent_without_ranking_is_used(component: HandoffScorer) -> None:
    message = Message(
        data={"text": "/request_human", "intent": {"name": "request_human", "confidence": 1.0}}
    )

    component.process([message])

    assert message.get("handoff")["human_request"] == 1.0
    assert message.get("handoff")["uncertainty"] == 0.0


def test_default_config_lists_every_option() -> None:
    assert set(HandoffScorer.get_default_config()) == {
        "language",
        "model",
        "extra_lexicon_files",
        "customer_service_rules",
        "human_request_intents",
        "fallback_intent",
        "ambiguity_margin",
        "long_message_tokens",
        "shouting_min_words",
    }


def test_an_extra_lexicon_with_the_learned_model_is_refused_naming_the_fix(
    tmp_path: Path,
) -> None:
    config = {**HandoffScorer.get_default_config(), "extra_lexicon_files": ["shop.tsv"]}

    with pytest.raises(InvalidConfigException, match="set model: lexicon"):
        HandoffScorer.create(
            config,
            LocalModelStorage(tmp_path),
            Resource("handoff_scorer"),
            ExecutionContext(graph_schema=None, model_id="test"),  # type: ignore[arg-type]
        )


async def test_the_lexicon_model_can_be_chosen_in_config_yml(tmp_path: Path) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(train(tmp_path, options="model: lexicon"))

    parsed = await agent.parse_message("I've been waiting for 3 weeks, this is a joke")

    names = [s["name"] for s in parsed["handoff"]["signals"]["frustration"]]
    assert "exasperation" in names


def test_create_rejects_a_missing_lexicon_file_naming_the_option(tmp_path: Path) -> None:
    config = {
        **HandoffScorer.get_default_config(),
        "model": "lexicon",
        "extra_lexicon_files": ["nope.tsv"],
    }

    with pytest.raises(InvalidConfigException, match=r"option 'extra_lexicon_files'.*nope\.tsv"):
        HandoffScorer.create(
            config,
            LocalModelStorage(tmp_path),
            Resource("handoff_scorer"),
            ExecutionContext(graph_schema=None, model_id="test"),  # type: ignore[arg-type]
        )
