"""Train the learned scorers (frustration, sentiment, human request) and write their weights.

    .venv/bin/python -m scripts.train_scorers [--data ../shared/data] [--out PATH] [--seed 13]
    make models          # writes handoff_component/core/models/scorers.npz
    make models-check    # trains again into a temporary file: it must equal the shipped one

Reads the sets listed in `scripts/DATA_CARD.md` (public ones from `../shared/data`, this
project's written text from `scripts/scorer_data/`), adds the compositions described below, fits
one logistic regression per score over the features of `handoff_component.core.features`, picks
each threshold on the dev split, prints dev and test figures, and writes
`handoff_component/core/models/scorers.npz` (vocabulary, weights, thresholds, a summary of the
data). Deterministic: the same script, features, lexicons, written text and data give the same
file, byte for byte (fixed seed, sorted vocabulary, single-threaded liblinear, zip entries
without timestamps). The weights record a `recipe` digest of everything that shapes them
(`recipe_digest()`): a test fails when one of those files changes without `make models`.

Register balance: upset examples come mostly from Reddit and subtitles, calm ones mostly from
task bots, so a model could learn the register instead of the emotion. Each register's classes
are weighted to the same total (a register with no upset examples keeps its own weight), and
customer-service upset examples are built by joining real calm problem reports to written
expressions of anger, and calm ones by joining the same reports to written calm phrases, so the
problem's words carry no evidence either way. Task sets are calm by construction, but some of
their turns are plainly angry ("this company sucks! can you terminate my account?"): those a
person reviewed as upset (`scripts/scorer_data/reviewed_task_turns.tsv`) are trained on as
upset, in the customer-service register, and no longer count as false alarms on dev.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import random
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from handoff_component.core.features import features_of, has_words
from scripts.scorer_datasets import (
    DEFAULT_DATA,
    TRAINABLE,
    Example,
    hash_split,
    public_examples,
    written_human_requests,
    written_list,
    written_posts,
    written_short_turns,
    written_turns,
    xed_projections,
)

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT = PROJECT_DIR / "handoff_component" / "core" / "models" / "scorers.npz"
HEADS = ("frustration", "sentiment_neg", "sentiment_pos", "human")
OTHER_LANGUAGES = ("es", "pt", "de", "fr")
MIN_COUNT = 2
WRITTEN_BOOST = 3.0
# Hand-written examples weigh WRITTEN_BOOST each: the support turns and posts.
WRITTEN_SOURCES = (
    "written turns", "written posts", "written helpdesk turns", "written posts more",
    "written short turns",
)  # fmt: skip
# The written requests for a person and their look-alikes weigh REQUEST_BOOST: the 2,500
# template requests otherwise outweighed them ("can someone call me back" missed in training);
# at x3 (2026-12-03) the human head leaned on request words in ordinary turns (HWU64 test
# "please speak up", Banking77 "where do I need to live to get support?"); x2 since 2026-12-04.
REQUEST_BOOST = 2.0
REQUEST_SOURCES = ("written requests", "written requests more")
KEEP_WEIGHT = 0.02
# Targets the thresholds are chosen for on the dev split (docs/scoring.md): at most this share
# of calm task / customer-service turns reach the frustration threshold; human request: F1.
# The frustration targets keep a margin under the stated 0.5 %: a dev set of 1,000 turns measures
# a rate of 0.5 % only to about +-0.2 % (Banking77's dev split is two hash buckets, ~2,000
# turns, so that "0.3 %" allows 5 turns there, not 2 of 1,000: see scorer_datasets.py).
CALM_FALSE_ALARMS = 0.002
CALM_HUMAN_FALSE_ALARMS = 0.001
# Dev F1 of human request is flat over a wide range of thresholds; the highest threshold within
# this margin of the best F1 is taken: it costs little recall and keeps a margin under the
# false-alarm target, which a dev set of 1,000 turns cannot measure finely (one turn is 0.1 %).
HUMAN_F1_MARGIN = 0.01
MAX_SET_FALSE_ALARMS = 0.003
# Inverse L2 strength per head where it differs from --c (none now). The frustration head had
# C = 10: it then learned the written anger expressions by heart (", really" +16, "last time"
# +15 in log-odds) and caught fewer expressions it had not seen; at C = 4 with the compositions
# weighed down (below) it catches more on every dev proxy at the same calm false-alarm rate.
HEAD_C: dict[str, float] = {}
# Weight of a composed example (a real report joined to a written expression) per head, against
# 1 for a real one: each written expression recurs in ~35 compositions, and at full weight the
# frustration head leaned on them more than on the real upset text (Reddit, subtitles, reviewed
# turns). Chosen on dev: composed upset, GoEmotions, XED and tweet (dev half) recall at the
# threshold the calm dev turns allow (scoring-tuning.md).
COMPOSED_WEIGHT = {"frustration": 0.3}
COMPOSED_SOURCES = ("composed upset", "composed calm")
# Extra weight of a register in the two sentiment heads, on top of register balance (which keeps
# each register's size): Reddit and subtitles outnumbered the tweets (3,000 rows) and support
# turns the scorer is for. Chosen on dev (complaints_twitter dev half ROC AUC 0.795 -> 0.802,
# all dev sentiment rows 0.904 -> 0.906; scoring-tuning.md), the other heads unchanged.
SENTIMENT_REGISTER_WEIGHT = {"tweets": 3.0, "customer_service": 3.0, "task": 2.0}

# --- written templates for requests for a person (this project's text; see the data card) -------

REQUEST_FRAMES = {
    "en": [
        "{verb} to {det}{person}", "I want to {verb} to {det}{person}",
        "can I {verb} to {det}{person}",
        "i need to {verb} with {det}{person}", "let me {verb} to {det}{person}",
        "could I {verb} with {det}{person} please", "I'd like to {verb} to {det}{person}",
        "{connect} me to {det}{person}", "please {connect} me to {det}{person}",
        "can you {connect} me to {det}{person}", "I want {det}{person}", "get me {det}{person}",
        "{det}{person} please", "{person} now", "need {det}{person}", "give me {det}{person}",
        "is there {det}{person} I can {verb} to", "how do I reach {det}{person}",
        "how can I {verb} to {det}{person}", "any way to {verb} to {det}{person}?",
        "{reason}, {verb} to {det}{person}", "{reason}. I want {det}{person}",
        "i wanna {verb} to {det}{person}", "pls {connect} me to {det}{person}",
        "can {det}{person} call me back", "have {det}{person} call me",
        "I'd like a call back from {det}{person}", "contact {det}{person}",
        "bring {det}{person} in here", "can {det}{person} look at this", "{det}{person}, not a bot",
        "escalate this to {det}{person}", "hand me over to {det}{person}", "{person} pls",
    ],
}  # fmt: skip
REQUEST_PARTS = {
    "verb": ["talk", "speak", "chat"],
    "connect": ["connect", "transfer", "put me through", "pass", "forward"],
    "det": ["a ", "an ", "a real ", "a live ", "an actual ", "your ", "", "some ", "a human "],
    "person": ["human", "person", "agent", "representative", "rep", "operator", "assistant",
               "someone", "somebody", "customer service", "support", "advisor", "manager",
               "supervisor", "staff member", "colleague", "real person", "live agent",
               "human being", "customer care"],
    "reason": ["this isn't helping", "you don't understand", "this is urgent", "it's complicated",
               "the bot can't help", "I have a complaint", "it's about a refund"],
}  # fmt: skip
OTHER_REQUEST_FRAMES = {
    "es": ["quiero hablar con {p}", "necesito hablar con {p}", "pásame con {p}",
           "¿puedo hablar con {p}?", "comunícame con {p} por favor", "{p} por favor",
           "necesito {p}", "¿hay {p} con quien pueda hablar?"],
    "pt": ["quero falar com {p}", "preciso falar com {p}", "me passa para {p}",
           "posso falar com {p}?", "me transfere para {p} por favor", "{p} por favor",
           "tem {p} aí para me ajudar?", "preciso de {p}"],
    "de": ["ich möchte mit {p} sprechen", "kann ich mit {p} sprechen?",
           "verbinden Sie mich mit {p}",
           "ich will mit {p} reden", "bitte verbinden mit {p}", "ich möchte zu {p}"],
    "fr": ["je veux parler à {p}", "je voudrais parler à {p}", "passez-moi {p}",
           "est-ce que je peux parler à {p} ?", "mettez-moi en relation avec {p}", "{p} svp",
           "{p} s'il vous plaît", "j'ai besoin de parler à {p}"],
}  # fmt: skip
OTHER_PERSONS = {
    "es": ["una persona", "un agente", "un humano", "un asesor", "un operador", "alguien",
           "atención al cliente", "una persona real", "una persona de verdad"],
    "pt": ["uma pessoa", "um atendente", "um humano", "um agente", "alguém", "o suporte",
           "um atendente humano", "uma pessoa de verdade", "o atendimento"],
    "de": ["einem Menschen", "einem Mitarbeiter", "einem Berater", "jemandem", "dem Kundenservice",
           "einer echten Person", "einem Ansprechpartner"],
    "de_plain": ["einen Menschen", "einen Mitarbeiter", "einen Berater", "den Kundenservice",
                 "eine echte Person", "Mitarbeiter", "Kundenservice", "einen Ansprechpartner"],
    "fr": ["un humain", "un conseiller", "un agent", "quelqu'un", "le service client",
           "une vraie personne", "un opérateur"],
}  # fmt: skip
# Persons counted in a booking or an order ("ein Tisch für 4 Personen"): not a request for a
# person. Without them German "Personen" read as one (xSID de: 8 of 800 bookings at >= 0.7).
COUNTED_PERSON_FRAMES = {
    "de": ["ich möchte einen Tisch für {n} Personen reservieren", "Tisch für {n} Personen",
           "ein Zimmer für {n} Personen bitte", "ich brauche eine Reservierung für {n} Personen",
           "buche ein Restaurant für {n} Personen", "wir sind {n} Personen",
           "Karten für {n} Personen", "ich möchte für {n} Personen buchen"],
    "es": ["quiero reservar una mesa para {n} personas", "mesa para {n} personas",
           "una habitación para {n} personas", "somos {n} personas",
           "necesito una reserva para {n} personas"],
    "pt": ["quero reservar uma mesa para {n} pessoas", "mesa para {n} pessoas",
           "um quarto para {n} pessoas", "somos {n} pessoas",
           "preciso de uma reserva para {n} pessoas"],
    "fr": ["je veux réserver une table pour {n} personnes", "une table pour {n} personnes",
           "une chambre pour {n} personnes", "nous sommes {n} personnes",
           "j'ai besoin d'une réservation pour {n} personnes"],
}  # fmt: skip
COUNTED_NUMBERS = {
    "de": ["zwei", "drei", "vier", "sechs"],
    "es": ["dos", "tres", "cuatro"],
    "pt": ["duas", "três", "quatro"],
    "fr": ["deux", "trois", "quatre"],
}
DIGITS = ["2", "3", "4", "5", "6", "8", "10", "12"]
GERMAN_PLAIN_FRAMES = ["ich brauche {p}", "bitte {p}", "{p} bitte", "ich will {p} sprechen",
                       "kann ich bitte {p} sprechen?"]  # fmt: skip
NOT_REQUEST_FRAMES = [
    "are you {det}{person}?", "am I talking to {det}{person}?", "is this {det}{person} or a bot",
    "are you a bot or {det}{person}", "r u {det}{person}", "I don't need {det}{person}",
    "no need for {det}{person}", "I don't want to talk to {det}{person}, just answer",
    "I never asked for {det}{person}", "{det}{person} told me yesterday it was sorted",
    "my {person} said it would be fine", "the {person} was very helpful last time",
    "send money to {det}{person}", "can {det}{person} else use my account",
]  # fmt: skip
IDENTITY_PERSONS = ["human", "real person", "person", "bot", "robot", "machine", "ai"]
# Commands to an assistant that mention a person or look like a request frame ("get me ...",
# "talk ..."): the bot is asked to do something, not to hand the conversation over. Without them
# "email my supervisor" and "get me a latte" read as requests (HWU64 train errors).
COMMAND_FRAMES = [
    "{act} my {rel}", "please {act} my {rel}", "{act} my {rel} {tail}",
    "can you {act} my {rel} {tail}", "I want to {act} my {rel}", "i need to {act} my {rel} {tail}",
    "remind me to {act} my {rel} {tail}", "hey, {act} my {rel}", "{act} my {rel} please",
    "get me {thing}", "get me {thing} please", "can you get me {thing}", "I want {thing}",
    "{quiet}", "please {quiet}", "{quiet} for a while",
    "{talk} {manner}", "can you {talk} {manner}", "{talk} to me about {topic}",
    "tell me about {topic}", "who is the {rel} of {topic}",
]  # fmt: skip
COMMAND_PARTS = {
    "act": ["call", "phone", "ring", "email", "text", "message", "send a message to", "tell",
            "ping", "invite", "notify", "remind", "write to", "send an email to"],
    "rel": ["mom", "mum", "dad", "boss", "manager", "supervisor", "wife", "husband", "sister",
            "brother", "colleague", "team", "friend", "doctor", "landlord", "teacher", "assistant",
            "agent", "partner", "neighbour"],
    "tail": ["that I'm late", "about dinner", "at 5 pm", "tomorrow morning", "I'll be home soon",
             "on speaker", "about the meeting", "happy birthday", "that the report is done", ""],
    "thing": ["a latte", "some coffee", "a coffee", "the news", "a taxi", "an uber", "the weather",
              "directions home", "a pizza", "the train times", "the score of the game",
              "a recipe for pasta", "some music", "the latest headlines", "my shopping list"],
    "quiet": ["stop talking", "be quiet", "do not speak", "don't talk", "stop speaking", "mute",
              "pause", "shush", "stop", "quiet please"],
    "talk": ["talk", "speak", "say it"],
    "manner": ["louder", "slower", "more slowly", "faster", "in french", "quietly", "again",
               "up"],
    "topic": ["the weather", "france", "the company", "my schedule", "the news", "football",
              "this song"],
}  # fmt: skip
COMMAND_COUNT = 400


def expand(frame: str, rng: random.Random, parts: dict[str, list[str]]) -> str:
    text = frame
    for key, options in parts.items():
        while "{" + key + "}" in text:
            text = text.replace("{" + key + "}", rng.choice(options), 1)
    return text


def typo(text: str, rng: random.Random) -> str:
    """One slip of the keyboard in a word of 4+ letters: a swap, a drop or a double."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif kind == 1:
        w = w[:j] + w[j + 1 :]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    return " ".join(words)


def request_examples(rng: random.Random) -> list[Example]:
    out: list[Example] = []
    for _ in range(2500):
        frame = rng.choice(REQUEST_FRAMES["en"])
        text = expand(frame, rng, REQUEST_PARTS)
        text = text.replace("a a", "a").replace("an a", "an").replace("  ", " ")
        if rng.random() < 0.3:
            text = typo(text, rng)
        shouted = False
        if rng.random() < 0.15:
            shouted = rng.random() < 0.3
            text = text.upper() if shouted else text.capitalize()
        # A plain request is calm: without this "customer service" alone scored frustration
        # 0.88 (its words occur mostly in complaints). Reasons and shouting say nothing either way.
        calm = 0 if "{reason}" not in frame and not shouted else None
        out.append(_written(text, "written request templates", human=1, frustration=calm))
    for language, frames in OTHER_REQUEST_FRAMES.items():
        for _ in range(250):
            text = rng.choice(frames).replace("{p}", rng.choice(OTHER_PERSONS[language]))
            if rng.random() < 0.2:
                text = typo(text, rng)
            out.append(_written(text, "written request templates", human=1, language=language))
    for _ in range(80):  # German accusative and bare forms ("ich brauche einen Menschen")
        frame = rng.choice(GERMAN_PLAIN_FRAMES)
        text = frame.replace("{p}", rng.choice(OTHER_PERSONS["de_plain"]))
        out.append(_written(text, "written request templates", human=1, language="de"))
    for _ in range(1500):
        frame = rng.choice(NOT_REQUEST_FRAMES)
        parts = dict(REQUEST_PARTS)
        if "are you" in frame or "talking to" in frame or "r u" in frame or "is this" in frame:
            parts = {**REQUEST_PARTS, "person": IDENTITY_PERSONS}
        text = expand(frame, rng, parts).replace("  ", " ")
        if rng.random() < 0.2:
            text = typo(text, rng)
        out.append(_written(text, "written request look-alikes", human=0))
    # Their own generators, so adding them left every other template's draw as it was.
    out.extend(command_examples(random.Random("assistant commands")))
    out.extend(counted_person_examples(random.Random("counted persons")))
    return out


def counted_person_examples(rng: random.Random) -> list[Example]:
    """Bookings for a number of persons in es/pt/de/fr (COUNTED_PERSON_FRAMES), deduplicated."""
    seen: set[str] = set()
    out: list[Example] = []
    for language, frames in sorted(COUNTED_PERSON_FRAMES.items()):
        for _ in range(120):
            text = rng.choice(frames).replace("{n}", rng.choice(DIGITS + COUNTED_NUMBERS[language]))
            if text not in seen:
                seen.add(text)
                out.append(_written(text, "written counted persons", human=0, language=language))
    return out


def command_examples(rng: random.Random) -> list[Example]:
    """Assistant commands that are not requests for a person (COMMAND_FRAMES), deduplicated."""
    seen: set[str] = set()
    out: list[Example] = []
    for _ in range(COMMAND_COUNT * 3):
        text = " ".join(expand(rng.choice(COMMAND_FRAMES), rng, COMMAND_PARTS).split())
        if rng.random() < 0.15:
            text = typo(text, rng)
        if text not in seen:
            seen.add(text)
            out.append(_written(text, "written command look-alikes", human=0))
        if len(out) == COMMAND_COUNT:
            break
    return out


def _written(text: str, source: str, **labels: object) -> Example:
    return Example(text, source, "customer_service", hash_split(text, 0, 2), **labels)  # type: ignore[arg-type]


def composed_examples(
    pool: Sequence[Example], request_pool: Sequence[Example], rng: random.Random
) -> list[Example]:
    """Calm problem reports joined to written anger (upset) or to written calm phrases (calm).

    Expressions are split by hash too: dev and test compositions use expressions never trained
    on (and reports of their own split).
    """
    anger = written_list("written_anger_expressions.txt")
    calm = written_list("written_calm_addons.txt")
    out: list[Example] = []
    problems = [e for e in pool if e.sentiment == "neg" and e.frustration == 0]
    for split in ("train", "dev", "test"):
        reports = [e.text for e in problems if e.split == split]
        angry = [a for a in anger if hash_split(a, 1, 2) == split]
        if not reports or not angry:
            continue
        count = 6000 if split == "train" else 600
        for _ in range(count):
            report, expression = rng.choice(reports), rng.choice(angry)
            text = f"{report} {expression}" if rng.random() < 0.7 else f"{expression} {report}"
            if rng.random() < 0.1:
                text = text.upper()
            out.append(Example(text, "composed upset", "customer_service", split, 1, "neg", 0))
        for _ in range(count):
            report, phrase = rng.choice(reports), rng.choice(calm)
            text = f"{report} {phrase}" if rng.random() < 0.6 else f"{phrase} {report}"
            out.append(Example(text, "composed calm", "customer_service", split, 0, "neg", 0))
        # A request for a person inside a longer message, calm or angry, is still a request.
        requests = [e.text for e in request_pool if e.split == split]
        for _ in range(count // 2 if requests else 0):
            report, request = rng.choice(reports), rng.choice(requests)
            if rng.random() < 0.5:
                report = f"{report} {rng.choice(angry)}"
            text = f"{report} {request}" if rng.random() < 0.8 else f"{request} {report}"
            out.append(Example(text, "composed request", "customer_service", split, human=1))
    return out


# --- training ---------------------------------------------------------------------------------


def all_examples(data: Path, seed: int) -> list[Example]:
    rng = random.Random(seed)
    examples = list(public_examples(data))
    examples.extend(xed_projections(data, OTHER_LANGUAGES))
    examples.extend(written_turns())
    examples.extend(written_turns("written_helpdesk_turns.tsv", "written helpdesk turns"))
    examples.extend(written_posts())
    examples.extend(written_posts("written_public_posts_more.tsv", "written posts more"))
    examples.extend(written_human_requests())
    examples.extend(
        written_human_requests("written_human_requests_more.tsv", "written requests more")
    )
    examples.extend(written_short_turns())
    examples.extend(request_examples(rng))
    requests = [e for e in examples if e.human == 1 and e.language == "en"]
    examples.extend(composed_examples(examples, requests, rng))
    return examples


def boost_of(example: Example) -> float:
    """The weight of an example before register balance (WRITTEN_BOOST, REQUEST_BOOST)."""
    if example.source in WRITTEN_SOURCES:
        return WRITTEN_BOOST
    return REQUEST_BOOST if example.source in REQUEST_SOURCES else 1.0


def label_of(example: Example, head: str) -> int | None:
    if head == "frustration":
        return example.frustration
    if head == "human":
        return example.human
    if example.sentiment is None:
        return None
    return int(example.sentiment == ("neg" if head == "sentiment_neg" else "pos"))


def register_weights(labels: Sequence[int | None], registers: Sequence[str]) -> np.ndarray:
    """Within each register, both classes weigh the same in total; registers keep their size."""
    weights = np.zeros(len(labels))
    counts = collections.Counter((r, y) for r, y in zip(registers, labels, strict=True))
    for i, (register, label) in enumerate(zip(registers, labels, strict=True)):
        if label is None:
            continue
        positives, negatives = counts[(register, 1)], counts[(register, 0)]
        total = positives + negatives
        if positives and negatives:
            weights[i] = total / (2 * (positives if label else negatives))
        else:
            weights[i] = 1.0
    return weights


def build_matrix(
    feature_lists: Sequence[tuple[list[str], list[float]]], vocabulary: dict[str, int]
):
    from scipy import sparse

    rows, cols, vals = [], [], []
    for row, (names, values) in enumerate(feature_lists):
        for name, value in zip(names, values, strict=True):
            column = vocabulary.get(name)
            if column is not None:
                rows.append(row)
                cols.append(column)
                vals.append(value)
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(feature_lists), len(vocabulary)))


def fit_head(
    matrix,
    labels: Sequence[int | None],
    registers: Sequence[str],
    boosts: Sequence[float],
    c: float,
    seed: int,
):
    from sklearn.linear_model import LogisticRegression

    keep = [i for i, y in enumerate(labels) if y is not None]
    y = np.array([labels[i] for i in keep])
    weights = register_weights([labels[i] for i in keep], [registers[i] for i in keep])
    weights *= np.array([boosts[i] for i in keep])
    model = LogisticRegression(C=c, solver="liblinear", max_iter=200, random_state=seed)
    model.fit(matrix[keep], y, sample_weight=weights)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    order = np.argsort(scores, kind="mergesort")
    ranked = np.empty(len(scores))
    sorted_scores = np.asarray(scores)[order]
    i = 0
    while i < len(order):
        j = i
        while j < len(order) and sorted_scores[j] == sorted_scores[i]:
            j += 1
        ranked[order[i:j]] = (i + j + 1) / 2
        i = j
    y = np.asarray(labels)
    positives, negatives = y.sum(), len(y) - y.sum()
    if not positives or not negatives:
        return float("nan")
    return float((ranked[y == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def choose_frustration_threshold(scores: np.ndarray, examples: Sequence[Example]) -> float:
    """The lowest threshold at which the calm task and customer-service turns of the dev split
    reach it at most CALM_FALSE_ALARMS of the time on average over the sets (each set counts the
    same: a pooled share would let the biggest set hide a banking bot's problem reports), and at
    most MAX_SET_FALSE_ALARMS in every set of at least 900 dev turns. "Calm" is as a person
    read it: the few task turns reviewed as upset (scorer_data/reviewed_task_turns.tsv) count as
    upset, not as false alarms."""
    by_source: dict[str, list[float]] = collections.defaultdict(list)
    for score, e in zip(scores, examples, strict=True):
        calm_task = e.frustration == 0 and e.register in ("task", "customer_service")
        if calm_task and not e.source.startswith("composed"):
            by_source[e.source.split()[0]].append(float(score))
    calm = {source: np.asarray(values) for source, values in by_source.items()}
    for threshold in np.arange(0.5, 0.995, 0.005):
        rates = {source: float((v >= threshold).mean()) for source, v in calm.items()}
        mean = sum(rates.values()) / len(rates)
        worst = max((r for s, r in rates.items() if len(calm[s]) >= 900), default=0.0)
        if mean <= CALM_FALSE_ALARMS and worst <= MAX_SET_FALSE_ALARMS:
            return float(threshold)
    return 0.995


def choose_human_threshold(scores: np.ndarray, examples: Sequence[Example]) -> float:
    """The best-F1 threshold on the dev turns labelled for human request, among those at which at
    most CALM_HUMAN_FALSE_ALARMS of the task and customer-service dev turns without a request
    reach it, on average over the sets and in every set of at least 900 turns (the target is
    "false alarms <= 0.1 %"). A smaller set is only counted in the average: one turn in a set
    of 300 ("please connect me to the spa" in a hotel bot) would otherwise be 0.3 % alone and
    pull the threshold up for every request in longer messages. Of the allowed thresholds, the
    highest whose F1 is within HUMAN_F1_MARGIN of the best is taken."""
    labelled = [(float(s), e.human) for s, e in zip(scores, examples, strict=True)
                if e.human is not None]  # fmt: skip
    by_source: dict[str, list[float]] = collections.defaultdict(list)
    for score, e in zip(scores, examples, strict=True):
        if e.human == 0 and e.register in ("task", "customer_service"):
            by_source[e.source.split()[0]].append(float(score))
    calm = [np.asarray(v) for v in by_source.values() if len(v) >= 100]
    y = np.asarray([label for _, label in labelled])
    values = np.asarray([score for score, _ in labelled])
    allowed: list[tuple[float, float]] = []
    for threshold in np.arange(0.2, 0.995, 0.005):
        rates = [float((v >= threshold).mean()) for v in calm]
        worst = max((r for r, v in zip(rates, calm, strict=True) if len(v) >= 900), default=0.0)
        if worst > CALM_HUMAN_FALSE_ALARMS or sum(rates) / len(rates) > CALM_HUMAN_FALSE_ALARMS:
            continue
        predicted = values >= threshold
        tp = int((predicted & (y == 1)).sum())
        fp = int((predicted & (y == 0)).sum())
        fn = int((~predicted & (y == 1)).sum())
        allowed.append((float(threshold), 2 * tp / (2 * tp + fp + fn) if tp else 0.0))
    if not allowed:
        return 0.95
    best_f1 = max(f1 for _, f1 in allowed)
    return max(t for t, f1 in allowed if f1 >= best_f1 - HUMAN_F1_MARGIN - 1e-9)


def judged_logits(logits: np.ndarray, rows: Sequence[Example]) -> np.ndarray:
    """The log-odds as the scorer gives them: a message without a word has frustration 0."""
    gated = logits.copy()
    for i, e in enumerate(rows):
        if not has_words(e.text):
            gated[i, 0] = -np.inf
    return gated


def choose_thresholds(logits: np.ndarray, dev: Sequence[Example]) -> dict[str, float]:
    """Both thresholds from the dev split's raw log-odds (frustration column 0, human column 3)."""
    return {
        "frustration": choose_frustration_threshold(sigmoid(logits[:, 0]), dev),
        "human_request": choose_human_threshold(sigmoid(logits[:, 3]), dev),
    }


ENGLISH_WORDS = 8000


def common_english_words(train: Sequence[Example]) -> list[str]:
    """The most common words of the English training texts (for the language guess)."""
    from handoff_component.core.language import _WORD
    from handoff_component.core.text import normalize

    counts: collections.Counter[str] = collections.Counter()
    for e in train:
        if e.language == "en" and not e.source.startswith(("written", "composed")):
            counts.update(set(_WORD.findall(normalize(e.text))))
    return top_words(counts, ENGLISH_WORDS)


def top_words(counts: collections.Counter[str], n: int) -> list[str]:
    """The n most counted words, sorted. Ties at the cut are broken by the word itself:
    `Counter.most_common` keeps insertion order among equal counts, and the words above are
    inserted from a set, whose order changes with PYTHONHASHSEED (the vocabulary, and so the
    shipped weights, differed between runs)."""
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return sorted(word for word, _ in ranked[:n])


# Everything whose content shapes the weights besides ../shared/data (whose training texts are
# summed up in `data_checksum`): the training code, the features and the lexicon models they
# read, and this project's written text.
RECIPE = (
    "scripts/train_scorers.py",
    "scripts/scorer_datasets.py",
    "scripts/scorer_data",
    "handoff_component/core/features.py",
    "handoff_component/core/text.py",
    "handoff_component/core/sentiment.py",
    "handoff_component/core/vader.py",
    "handoff_component/core/customer_service.py",
    "handoff_component/core/profanity.py",
    "handoff_component/core/human_request.py",
    "handoff_component/core/language.py",
    "handoff_component/core/lexicon",
)


def recipe_digest(root: Path = PROJECT_DIR) -> str:
    """SHA-256 over the recipe's files (path and content, in path order; line endings as
    stored). Recorded in the weights; `tests/core/test_learned_scorers.py` compares."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for name in RECIPE:
        path = root / name
        files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix != ".pyc")
                     if path.is_dir() else [path])  # fmt: skip
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def write_weights(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """`np.savez_compressed`'s format (np.load reads it), but with fixed zip timestamps and
    entry order, so the same arrays always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(arrays):
            entry = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asanyarray(arrays[name]), allow_pickle=False)
            archive.writestr(entry, data.getvalue(), compresslevel=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check(data: Path, seed: int, c: float) -> int:
    """Train again into a temporary file and compare it with the shipped weights, byte for byte."""
    with tempfile.TemporaryDirectory() as folder:
        fresh = Path(folder) / "scorers.npz"
        status = train_weights(data, fresh, seed, c)
        if status:
            return status
        shipped, produced = file_digest(OUT), file_digest(fresh)
    print(f"shipped  {OUT.relative_to(PROJECT_DIR)}  sha256 {shipped}")
    print(f"produced by the script now               sha256 {produced}")
    if shipped != produced:
        print("DIFFERENT: the shipped weights are not what the committed script produces; "
              "run `make models` and commit the result")  # fmt: skip
        return 1
    print("identical: the shipped weights are what the committed script produces")
    return 0


def summarize(examples: Iterable[Example]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = collections.defaultdict(lambda: collections.Counter())
    for e in examples:
        table[e.source][e.split] += 1
    return {source: dict(counts) for source, counts in sorted(table.items())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--c", type=float, default=4.0, help="inverse L2 strength")
    parser.add_argument(
        "--check",
        action="store_true",
        help="train into a temporary file and compare it with the shipped weights",
    )
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"{args.data} not found: the public training sets are needed (see the data card)")
        return 2
    if args.check:
        return check(args.data, args.seed, args.c)
    return train_weights(args.data, args.out, args.seed, args.c)


def train_weights(data: Path, out: Path, seed: int, c: float) -> int:
    started = time.perf_counter()
    recipe = recipe_digest()  # before reading anything: what this run is trained from
    examples = all_examples(data, seed)
    # A message without a word is never judged (core/features.has_words): nothing to learn.
    train = [e for e in examples if e.split == "train" and has_words(e.text)]
    dev = [e for e in examples if e.split == "dev"]
    test = [e for e in examples if e.split == "test"]
    print(f"examples: train {len(train)}, dev {len(dev)}, test {len(test)}", flush=True)

    featurized = {id(e): features_of(e.text) for e in examples}
    counts: collections.Counter[str] = collections.Counter()
    for e in train:
        counts.update(featurized[id(e)].names)
    names = sorted(name for name, n in counts.items() if n >= MIN_COUNT)
    vocabulary = {name: i for i, name in enumerate(names)}
    print(f"features seen >= {MIN_COUNT} times in train: {len(names)}", flush=True)

    def matrix(rows: Sequence[Example]):
        return build_matrix([(featurized[id(e)].names, featurized[id(e)].values) for e in rows],
                            vocabulary)  # fmt: skip

    train_x, dev_x = matrix(train), matrix(dev)
    registers = [e.register for e in train]
    # Hand-written customer-service turns are few and the closest to what the bot will see.
    boosts = [boost_of(e) for e in train]
    weights = np.zeros((len(names), len(HEADS)))
    biases = np.zeros(len(HEADS))
    composed = [e.source in COMPOSED_SOURCES for e in train]
    for k, head in enumerate(HEADS):
        labels = [label_of(e, head) for e in train]
        head_c = HEAD_C.get(head, c)
        scale = COMPOSED_WEIGHT.get(head, 1.0)
        head_boosts = [b * scale if m else b for b, m in zip(boosts, composed, strict=True)]
        if head.startswith("sentiment"):
            head_boosts = [b * SENTIMENT_REGISTER_WEIGHT.get(r, 1.0)
                           for b, r in zip(head_boosts, registers, strict=True)]  # fmt: skip
        weights[:, k], biases[k] = fit_head(train_x, labels, registers, head_boosts, head_c, seed)
        print(f"  fitted {head} ({time.perf_counter() - started:.0f} s)", flush=True)

    thresholds = choose_thresholds(judged_logits(dev_x @ weights + biases, dev), dev)
    print(f"thresholds chosen on dev: {thresholds}")

    english_words = common_english_words(train)
    keep = np.abs(weights).max(axis=1) >= KEEP_WEIGHT
    kept_names = [n for n, k in zip(names, keep, strict=True) if k]
    print(f"features kept (|weight| >= {KEEP_WEIGHT} in a head): {len(kept_names)}")
    metadata = {
        "version": 1,
        "seed": seed,
        "c": c,
        "request_boost": REQUEST_BOOST,
        "head_c": HEAD_C,
        "composed_weight": COMPOSED_WEIGHT,
        "sentiment_register_weight": SENTIMENT_REGISTER_WEIGHT,
        "human_f1_margin": HUMAN_F1_MARGIN,
        "recipe": recipe,
        "heads": list(HEADS),
        "thresholds": thresholds,
        "trained_on": summarize(train),
        "licences": TRAINABLE,
        "data_checksum": zlib.crc32("\n".join(sorted(e.text for e in train)).encode()),
    }
    write_weights(
        out,
        {
            "names": np.array(kept_names),
            "weights": weights[keep].astype(np.float16),
            "biases": biases.astype(np.float32),
            "metadata": np.array(json.dumps(metadata, sort_keys=True)),
            "english_words": np.array(english_words),
        },
    )
    size = out.stat().st_size
    print(f"wrote {out} ({size / 1e6:.2f} MB, sha256 {file_digest(out)}) "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
