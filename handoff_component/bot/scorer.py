"""`HandoffScorer`: the NLU component that scores each user turn for the handoff policy.

Placed after the intent classifier (and the FallbackClassifier, if any) in `config.yml`, it reads
the message's text, `intent`, `intent_ranking` and `entities`, asks the pure `TurnScorer` for
sentiment, complexity, uncertainty and human request, and adds the result as `handoff` to the parse
data, so it reaches `/model/parse`, `tracker.latest_message`, the UserUttered event and the event
broker. Everything it knows about scoring lives in `handoff_component.core`.

    pipeline:
      - name: WhitespaceTokenizer
      - name: CountVectorsFeaturizer
      - name: DIETClassifier
      - name: FallbackClassifier
      - name: handoff_component.HandoffScorer
"""

# Rasa validates graph components by their type hints with `typing_utils`, which understands
# `typing.List` and friends; keep them here rather than the builtin generics.
# ruff: noqa: UP006, UP035

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from handoff_component.core.scoring import (
    SCORE_KEY,
    SUPPORTED_LANGUAGES,
    OptionError,
    ScoringOptions,
    TurnScorer,
)

__all__ = ["HandoffScorer"]


# Registered as *trainable* although it learns nothing: Rasa 3.6 builds a non-trainable NLU
# component only when a model is loaded, so an option typo would pass `rasa train` and break
# `rasa run`. A train node makes `rasa train` call `create()`, which validates the options.
# It still runs after the intent classifier and sees `intent` and `intent_ranking`.
@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class HandoffScorer(GraphComponent):
    """Adds `handoff` (sentiment, frustration, complexity, uncertainty, human_request, signals)
    to messages."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Options, with their defaults (see docs/scoring.md):

        - `language`: only "en" (messages in other languages are detected and their sentiment
          and frustration left unknown).
        - `model`: "learned" (default: the weights shipped in the package) or "lexicon" (VADER
          plus the customer-service rules; every weight a readable rule).
        - `extra_lexicon_files` (lexicon model): TSV files `token<TAB>valence` (-4..4) added to
          the sentiment
          lexicon, later files win; a multi-word token is a phrase. Paths relative to where Rasa
          runs.
        - `customer_service_rules` (lexicon model): false gives plain VADER sentiment.
        - `human_request_intents`: intents that mean "a person, please".
        - `fallback_intent`: the intent the FallbackClassifier predicts.
        - `ambiguity_margin`: intents this close to the top one count as competing (complexity).
        - `long_message_tokens`: words at which the length signal of complexity is full.
        - `shouting_min_words`: capitalised words needed before a message counts as shouting.
        """
        return ScoringOptions().as_config()

    @staticmethod
    def supported_languages() -> List[str] | None:
        return list(SUPPORTED_LANGUAGES)

    def __init__(self, scorer: TurnScorer, resource: Resource | None = None) -> None:
        self._scorer = scorer
        self._fallback_intent = scorer.options.fallback_intent
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HandoffScorer:
        return cls(cls.scorer_from_config(config), resource)

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> HandoffScorer:
        """Nothing was persisted: the weights (in the package) and lexicon files are read again
        where the model runs, once per process."""
        return cls.create(config, model_storage, resource, execution_context)

    @staticmethod
    def scorer_from_config(config: Dict[str, Any]) -> TurnScorer:
        """The pure scorer for a `config.yml` entry; a bad option names itself in the error."""
        try:
            return TurnScorer(ScoringOptions.from_mapping(config))
        except OptionError as error:
            raise InvalidConfigException(f"HandoffScorer: {error}") from error

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            scores = self._scorer.score(
                message.get(TEXT) or "",
                intent_ranking=self._ranking(message),
                entities=message.get(ENTITIES),
                fallback=self._intent_name(message) == self._fallback_intent,
            )
            message.set(SCORE_KEY, scores.to_dict(), add_to_output=True)
        return messages

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn; reaching here means `create()` accepted the options."""
        return self._resource

    @staticmethod
    def _intent_name(message: Message) -> str | None:
        intent = message.get(INTENT)
        return intent.get(INTENT_NAME_KEY) if isinstance(intent, dict) else None

    @classmethod
    def _ranking(cls, message: Message) -> List[Dict[str, Any]] | None:
        """The ranking, or the lone intent of a `/intent` payload; None when NLU said nothing."""
        ranking = message.get(INTENT_RANKING_KEY)
        if ranking:
            return list(ranking)
        intent = message.get(INTENT)
        if isinstance(intent, dict) and intent.get(INTENT_NAME_KEY):
            return [intent]
        return None
