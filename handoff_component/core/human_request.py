"""How clearly a turn asks for a person: from the NLU intent and from a phrase model.

The intent is the bot's own reading and is trusted as a probability. The phrase model covers what
the intent misses (a bot without a handoff intent, a `/request_human` button, a message the
classifier ranked elsewhere). Phrases need a *request* shape around a *person*: "talk to a human",
"get me an agent", "connect me to your team", "I don't want to talk to a bot"; a bare mention of
"someone" or "customer service" inside a question about cards is not a request. A negated request
("I don't need an agent") scores nothing, and says so.

    human_request = 1 - (1 - intent) * (1 - phrase)      (phrase = strongest matching form)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from handoff_component.core.signals import ScoreResult, Signal
from handoff_component.core.text import PhraseSet, normalize

__all__ = ["HumanRequestModel", "ScoreResult"]

_DET = r"(?:(?:a|an|the|some|your|ur|any|one of your|a few|to) )?"
_ADJ = (
    r"(?:(?:real|live|actual|proper|human|physical|breathing|living|competent|other|qualified)[ -])"
)
_PERSON = (
    r"(?:human(?: being)?s?|person|people|agents?|representatives?|reps?|operators?|employees?"
    r"|staff(?: member)?s?|advis[eo]rs?|consultants?|managers?|supervisors?|team(?: members?)?"
    r"|colleagues?|associates?|manager|founders?|developers?|support (?:team|staff|agents?)"
    r"|customer (?:service|care|support)(?: team| agents?| reps?| representatives?| department)?"
    r"|(?:call|contact) cent(?:er|re)|help ?desk|live (?:chat|support))"
)
_ANYONE = r"(?:someone|somebody|anyone|anybody|some one)"
_TALK = r"(?:talk|talking|speak|speaking|chat|chatting|converse|communicate|deal)"
_BOT = (
    r"(?:a |the |this |some )?(?:stupid |dumb |useless )?"
    r"(?:bot|robot|machine|computer|chatbot|ai|program)"
)
_TARGET = rf"(?:{_DET}{_ADJ}*(?:\S+ )?{_PERSON}|{_ANYONE})"
_NEGATION = re.compile(
    r"\b(?:don't|dont|do not|doesn't|no need|never|without|not|won't|wont|nor)\b"
    r"(?: [a-z']+){0,3} ?$"
)
# "am I talking to a human?" asks what the bot is (a bot challenge), not for a person.
_IDENTITY_QUESTION = re.compile(
    r"\b(?:am i|are we|is this|was i|have i been|are you)(?: [a-z']+)? ?$"
)

# (name, strength, pattern over normalized text); the strongest match wins.
_FORMS: tuple[tuple[str, float, str], ...] = (
    (
        "talk_to_person",
        0.95,
        rf"\b{_TALK} (?:to|with|w) (?:\S+ ){{0,2}}?{_TARGET}\b",
    ),
    (
        "connect_to_person",
        0.9,
        r"\b(?:connect|transfer|put|pass|forward|hand|redirect|route|escalate|send|get)"
        r"(?: me| us| this| it| my (?:case|query|issue|chat)| (?:a|the|this) conversation)"
        rf"(?: over| through| on)? (?:to|with|in touch with) (?:\S+ ){{0,2}}?{_TARGET}\b",
    ),
    (
        "asks_for_person",
        0.9,
        r"\b(?:want|need|get|give|gimme|bring|find|prefer|request|requesting|like|rather have)"
        rf"(?: me| us)? {_DET}{_ADJ}*{_PERSON}(?: (?:please|now|asap|instead))?\s*(?:[.!?]|$)",
    ),
    (
        "real_person",
        0.85,
        r"\b(?:real|live|actual|proper|human) (?:person|persons|people|human|humans|agent|agents"
        r"|employee|operator|representative|rep|being|support)\b|\bhuman (?:agent|operator"
        r"|support|representative|assistance|help)\b",
    ),
    (
        "rejects_bot",
        0.8,
        r"\b(?:don't|dont|do not|doesn't|not) (?:wanna|want to|want|like to|like|wish to) "
        rf"(?:{_TALK}|deal) (?:to|with) {_BOT}\b"
        rf"|\b(?:talking|speaking|chatting) (?:to|with) {_BOT} (?:is|isn't|was|sucks)\b"
        r"|\b(?:no|stop the|stop this|enough of this|sick of this|sick of the|hate this"
        r"|hate talking to this) (?:stupid |dumb |useless )?(?:more )?(?:bot|robot|machine"
        r"|chatbot)s?\b",
    ),
    (
        "asks_if_people_available",
        0.8,
        r"\b(?:is there|are there|do you have|have you got|can i get|is it possible to "
        rf"(?:get|reach|{_TALK} (?:to|with)))(?: also)? {_DET}{_ADJ}*(?:humans?|people|persons?"
        r"|agents?|human support|staff)(?! (?:to|who) (?:send|transfer|pay))\b",
    ),
    (
        "handoff_word",
        0.85,
        r"^(?:human )?hand ?off(?: please| now)?$|\bescalate (?:this|me|my|it)\b"
        r"|^(?:an? )?(?:human|agent|representative|operator|person|someone"
        r"|customer (?:service|care|support)|service agent|live agent|real agent|human agent"
        r"|real human|real person|support team|someone from customer (?:care|service|support))"
        r"(?: please| pls| now| asap)?$|^(?:human|agent|representative|operator)[ ,]+"
        r"(?:please|pls|now|asap)$",
    ),
)


class HumanRequestModel:
    """Intent names that mean "a person, please", and the phrase forms compiled once."""

    def __init__(
        self, intents: Iterable[str] = ("human_handoff",), ambiguity_margin: float = 0.1
    ) -> None:
        self._intents = frozenset(intents)
        self._margin = ambiguity_margin
        self._forms = PhraseSet((name, pattern) for name, _, pattern in _FORMS)
        self._strengths = {name: strength for name, strength, _ in _FORMS}

    def score(self, text: str, intent_ranking: Sequence[dict] | None = None) -> ScoreResult:
        """`intent_ranking` as `scoring.clean_ranking` returns it; None means text only."""
        signals: list[Signal] = []
        intent = self.intent_strength(intent_ranking, signals)
        phrase = self.phrase_strength(text, signals)
        score = 1.0 - (1.0 - intent) * (1.0 - phrase)
        return ScoreResult(min(1.0, max(0.0, score)), tuple(signals))

    def intent_strength(self, ranking: Sequence[dict] | None, signals: list[Signal]) -> float:
        """The human intent's confidence when it leads, or trails the leader by at most the margin.

        Further down the ranking its confidence is the classifier's leftover mass, not a reading.
        """
        if ranking is None:
            signals.append(Signal("no_intent_ranking", 0.0, "text only: no intents available"))
            return 0.0
        if not ranking:
            return 0.0
        top = ranking[0]["confidence"]
        for rank, item in enumerate(ranking, start=1):
            if item["name"] not in self._intents:
                continue
            confidence = item["confidence"]
            if confidence <= 0 or (rank > 1 and top - confidence > self._margin):
                return 0.0
            detail = f"{item['name']} ({confidence:.2f}, ranked {rank})"
            signals.append(Signal("human_intent", confidence, detail))
            return confidence
        return 0.0

    def phrase_strength(self, text: str, signals: list[Signal]) -> float:
        """The strongest phrase form of the lexicon model in `text` (0 when none matches)."""
        text = normalize(text).strip(" .!,")
        best = 0.0
        for name, match in self._forms.search_all(text).items():
            if _IDENTITY_QUESTION.search(text, 0, match.start()):
                signals.append(Signal("identity_question", 0.0, repr(text[: match.end()])))
                continue
            if _NEGATION.search(text, 0, match.start()) and name != "rejects_bot":
                signals.append(Signal("negated_request", 0.0, repr(match.group().strip())))
                continue
            strength = self._strengths[name]
            signals.append(Signal(name, strength, repr(match.group().strip())))
            best = max(best, strength)
        return best
