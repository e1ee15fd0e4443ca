"""The rules file: what it accepts, and that every mistake names the file, the line and the rule."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from handoff_component.core.rules import (
    KNOWN_CHANNELS,
    RuleSet,
    RulesFileError,
    check_against_domain,
    load_ruleset,
    parse_ruleset,
)
from handoff_component.core.rules.conditions import (
    AllOf,
    CountCondition,
    CustomCondition,
    EntityCondition,
    IntentCondition,
    KeywordCondition,
    Not,
    ScoreCondition,
    WindowCondition,
)

PROJECT = Path(__file__).resolve().parents[2]
RULES_DATA = PROJECT / "tests" / "data" / "rules"


def parse(text: str, **kwargs) -> RuleSet:
    return parse_ruleset(textwrap.dedent(text), "handoff.yml", **kwargs)


def problems(text: str, **kwargs) -> RulesFileError:
    with pytest.raises(RulesFileError) as caught:
        parse(text, **kwargs)
    return caught.value


@pytest.fixture()
def hooks_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(RULES_DATA))


# --- what the language accepts -------------------------------------------------------------------


def test_a_rule_with_every_field_is_read() -> None:
    ruleset = parse(
        """
        version: "1"
        rules:
          - name: angry_sentiment
            description: The customer is upset
            when:
              all:
                - sentiment: "<= -0.6"
                - message_count: ">= 2"
            team: support
            priority: high
            channels: [socketio, facebook, instagram]
            cooldown: 15m
            enabled: true
        """
    )
    (rule,) = ruleset.rules
    assert rule.name == "angry_sentiment"
    assert rule.description == "The customer is upset"
    assert rule.team == "support"
    assert rule.priority == "high"
    assert rule.channels == frozenset({"socketio", "facebook", "instagram"})
    assert rule.cooldown == 900
    assert rule.enabled is True
    assert rule.line == 4
    assert isinstance(rule.condition, AllOf)
    score, count = rule.condition.children
    assert (score.score, score.comparison.op, score.comparison.threshold) == (
        "sentiment",
        "<=",
        -0.6,
    )
    assert (count.counter, count.comparison.threshold) == ("message_count", 2)


def test_defaults_of_a_rule_are_normal_priority_every_channel_no_cooldown() -> None:
    (rule,) = parse("rules: [{name: r, when: {uncertainty: '>= 0.9'}}]").rules
    assert (rule.priority, rule.channels, rule.cooldown, rule.enabled, rule.team) == (
        "normal",
        None,
        0.0,
        True,
        None,
    )


def test_a_list_or_several_keys_under_when_mean_all() -> None:
    ruleset = parse(
        """
        rules:
          - name: listed
            when:
              - sentiment: "<= -0.5"
              - intent: complaint
          - name: keyed
            when:
              sentiment: "<= -0.5"
              intent: complaint
        """
    )
    for rule in ruleset.rules:
        assert isinstance(rule.condition, AllOf)
        assert [type(c) for c in rule.condition.children] == [ScoreCondition, IntentCondition]


def test_every_condition_kind_is_read() -> None:
    ruleset = parse(
        """
        rules:
          - name: everything
            when:
              any:
                - complexity: "> 0.8"
                - uncertainty: ">= 0.7"
                - human_request: ">= 0.7"
                - average: {score: sentiment, last: 3, is: "<= -0.5"}
                - trend: {last: 4, is: "<= -0.2"}
                - failed_attempts: {is: ">= 3", within_last: 6, consecutive: true}
                - fallbacks: ">= 2"
                - rephrasings: ">= 2"
                - intent: {name: [request_human, complaint], min_confidence: 0.6, within_last: 2}
                - entity: {name: order_id, value: ["123", "456"]}
                - keywords: {any: [chargeback*, legal action], within_last: 3}
                - not: {intent: greet}
                - custom: {function: "rules_hooks:order_share", is: ">= 0.5"}
        """,
        import_hooks=False,
    )
    children = ruleset.rules[0].condition.children
    kinds = [type(c) for c in children]
    assert kinds == [
        ScoreCondition,
        ScoreCondition,
        ScoreCondition,
        WindowCondition,
        WindowCondition,
        CountCondition,
        CountCondition,
        CountCondition,
        IntentCondition,
        EntityCondition,
        KeywordCondition,
        Not,
        CustomCondition,
    ]
    assert (children[3].kind, children[4].kind) == ("average", "trend")
    assert children[4].score == "sentiment"  # the default score of average and trend
    assert children[5].consecutive and children[5].within_last == 6
    assert children[8].names == frozenset({"request_human", "complaint"})
    assert children[9].values == frozenset({"123", "456"})
    assert children[10].needles == (" chargeback", " legal action ")


def test_safety_nets_inherit_from_default() -> None:
    ruleset = parse(
        """
        safety_net:
          default: {auto_pause: true, cooldown: 10m, unclaimed_timeout: 10m}
          rest: {auto_pause: false}
        rules: []
        """
    )
    rest = ruleset.safety_net_for("rest")
    assert (rest.auto_pause, rest.cooldown, rest.unclaimed_timeout) == (False, 600, 600)
    assert ruleset.safety_net_for("telegram").channel == "default"
    assert ruleset.safety_net_for(None).cooldown == 600


def test_without_safety_nets_the_built_in_default_applies() -> None:
    net = parse("rules: []").safety_net_for("socketio")
    assert (net.auto_pause, net.cooldown, net.unclaimed_timeout) == (True, 0.0, 900.0)


def test_settings_change_the_language_knobs() -> None:
    settings = parse(
        """
        settings:
          rephrase_similarity: 0.8
          rephrase_window: 2
          rephrase_min_words: 4
          fallback_intents: [nlu_fallback, out_of_scope]
          fallback_actions: action_my_fallback
          human_request_intents: [request_human, talk_to_agent]
          extra_channels: [whatsapp]
        rules: [{name: r, when: {intent: x}, channels: [whatsapp]}]
        """
    ).settings
    assert settings.rephrase_similarity == 0.8
    assert settings.rephrase_window == 2
    assert settings.fallback_intents == ("nlu_fallback", "out_of_scope")
    assert settings.fallback_actions == ("action_my_fallback",)
    assert settings.extra_channels == ("whatsapp",)


def test_custom_hook_is_imported_at_load(hooks_on_path: None) -> None:
    (rule,) = parse("rules: [{name: r, when: {custom: 'rules_hooks:shouting'}}]").rules
    assert rule.condition.function.__name__ == "shouting"


def test_the_example_bot_rules_file_is_valid() -> None:
    ruleset = load_ruleset(PROJECT / "handoff.yml", PROJECT / "credentials.yml")
    names = {rule.name for rule in ruleset.rules}
    assert {
        "explicit_request",
        "angry_sentiment",
        "complex_request",
        "three_failed_attempts",
        "legal_chargeback",
    } <= names
    assert {"support", "billing", "legal"} <= {rule.team for rule in ruleset.rules}
    assert {"default", "socketio", "rest", "callback"} <= set(ruleset.safety_nets)
    platforms = {"facebook", "instagram", "twilio", "telegram", "slack"}  # each its own window
    assert platforms <= set(ruleset.safety_nets)
    assert platforms <= set(next(r for r in ruleset.rules if r.name == "angry_sentiment").channels)


# --- mistakes ------------------------------------------------------------------------------------


def test_unknown_field_names_file_line_and_rule() -> None:
    error = problems(
        """
        rules:
          - name: angry
            when: {sentiment: "<= -0.6"}
            chanels: [socketio]
        """
    )
    assert (error.file, error.line, error.rule) == ("handoff.yml", 5, "angry")
    assert "unknown field 'chanels'" in error.message
    assert "did you mean 'channels'" in error.message
    assert str(error).startswith("handoff.yml:5: rule 'angry': unknown field 'chanels'")


def test_unknown_top_level_field_is_reported() -> None:
    error = problems("rule: []\n")
    assert error.line == 1
    assert "unknown field 'rule'" in error.message


def test_bad_operator_names_file_line_and_rule() -> None:
    error = problems(
        """
        rules:
          - name: angry
            when:
              sentiment: "=< -0.6"
        """
    )
    assert (error.line, error.rule) == (5, "angry")
    assert "bad comparison '=< -0.6'" in error.message


def test_a_number_without_operator_is_a_bad_comparison() -> None:
    error = problems("rules: [{name: r, when: {complexity: 0.8}}]")
    assert "bad comparison 0.8" in error.message


def test_an_unquoted_greater_than_is_explained() -> None:
    error = problems(
        """
        rules:
          - name: complex
            when:
              complexity: >= 0.8
        """
    )
    assert (error.line, error.rule) == (5, "complex")
    assert 'must be quoted: ">= 0.8"' in error.message


def test_unknown_channel_names_file_line_and_rule() -> None:
    error = problems(
        """
        rules:
          - name: somewhere
            when: {intent: request_human}
            channels:
              - socketio
              - whatsap
        """
    )
    assert (error.line, error.rule) == (7, "somewhere")
    assert "unknown channel 'whatsap'" in error.message


def test_unknown_channel_in_a_safety_net_is_reported() -> None:
    error = problems(
        """
        safety_net:
          sockettio: {auto_pause: false}
        rules: []
        """
    )
    assert error.line == 3
    assert "unknown channel 'sockettio'" in error.message
    assert "did you mean 'socketio'" in error.message
    assert str(error).startswith("handoff.yml:3: safety_net 'sockettio':")


def test_channels_declared_in_credentials_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "credentials.yml").write_text("my_app.connectors.WhatsApp:\n  token: x\n")
    (tmp_path / "handoff.yml").write_text(
        "rules: [{name: r, when: {intent: x}, channels: [my_app.connectors.WhatsApp]}]\n"
    )
    ruleset = load_ruleset(tmp_path / "handoff.yml", tmp_path / "credentials.yml")
    assert ruleset.rules[0].channels == frozenset({"my_app.connectors.WhatsApp"})
    with pytest.raises(RulesFileError, match="unknown channel"):
        load_ruleset(tmp_path / "handoff.yml", credentials=None)


def test_known_channels_cover_rasa_and_the_connector() -> None:
    assert {"rest", "socketio", "callback", "facebook", "instagram", "handoff"} <= KNOWN_CHANNELS


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{sentiment: '<= -1.5'}", "threshold -1.5 out of range for sentiment (-1..1)"),
        ("{complexity: '>= 1.2'}", "threshold 1.2 out of range for complexity (0..1)"),
        ("{uncertainty: '>= -0.1'}", "out of range for uncertainty"),
        ("{frustration: '>= 1.1'}", "threshold 1.1 out of range for frustration (0..1)"),
        ("{frustation: '>= 0.7'}", "did you mean 'frustration'"),
        ("{average: {last: 3, is: '<= -2'}}", "out of range for average of sentiment"),
        ("{trend: {last: 1, is: '<= -0.2'}}", "last 1 out of range (2..100)"),
        ("{message_count: '>= 2.5'}", "must be a whole number"),
        ("{intent: {name: x, min_confidence: 2}}", "min_confidence 2 out of range (0..1)"),
    ],
)
def test_threshold_out_of_range_is_reported(condition: str, expected: str) -> None:
    error = problems(f"rules:\n  - name: r\n    when: {condition}\n")
    assert (error.line, error.rule) == (3, "r")
    assert expected in error.message


def test_duplicate_rule_name_names_both_lines() -> None:
    error = problems(
        """
        rules:
          - name: angry
            when: {sentiment: "<= -0.6"}
          - name: angry
            when: {sentiment: "<= -0.8"}
        """
    )
    assert (error.line, error.rule) == (5, "angry")
    assert "duplicate rule name 'angry' (first defined at line 3)" in error.message


def test_unknown_condition_suggests_the_closest() -> None:
    error = problems("rules:\n  - name: r\n    when: {sentimnt: '<= -0.6'}\n")
    assert "unknown condition 'sentimnt'" in error.message
    assert "did you mean 'sentiment'" in error.message


def test_a_rule_without_name_or_when_is_reported() -> None:
    error = problems("rules:\n  - when: {intent: x}\n  - name: lonely\n")
    messages = [p.message for p in error.problems]
    assert any("every rule needs a 'name'" in m for m in messages)
    assert any("no 'when:' condition" in m for m in messages)
    assert error.problems[1].rule == "lonely"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("priority: asap", "unknown priority 'asap'"),
        ("cooldown: soon", "expected a duration such as 90s, 15m or 1h30m"),
        ("enabled: maybe", "enabled must be true or false"),
        ("name: 'bad name!'", "must start with a letter"),
    ],
)
def test_bad_rule_fields_are_reported(field: str, expected: str) -> None:
    text = "rules:\n  - name: r\n    when: {intent: x}\n    " + field + "\n"
    if field.startswith("name:"):
        text = "rules:\n  - " + field + "\n    when: {intent: x}\n"
    error = problems(text)
    assert expected in error.message


def test_a_field_given_twice_is_reported() -> None:
    error = problems("rules:\n  - name: r\n    when: {intent: x}\n    team: a\n    team: b\n")
    assert (error.line, error.rule) == (5, "r")
    assert "field 'team' given twice (first at line 4)" in error.message


def test_custom_hook_that_cannot_be_imported_names_the_line() -> None:
    error = problems("rules:\n  - name: r\n    when:\n      custom: no_such_pkg.hooks:check\n")
    assert (error.line, error.rule) == (4, "r")
    assert "cannot import module 'no_such_pkg.hooks'" in error.message


def test_custom_hook_missing_function_is_reported(hooks_on_path: None) -> None:
    error = problems("rules:\n  - name: r\n    when: {custom: 'rules_hooks:NOT_CALLABLE'}\n")
    assert "'rules_hooks' has no function 'NOT_CALLABLE'" in error.message


def test_custom_hook_path_must_name_a_function() -> None:
    error = problems("rules:\n  - name: r\n    when: {custom: 'rules_hooks.shouting'}\n")
    assert "must be written package.module:function" in error.message


def test_all_problems_of_a_file_are_reported_together() -> None:
    with pytest.raises(RulesFileError) as caught:
        load_ruleset(RULES_DATA / "broken_handoff.yml")
    error = caught.value
    found = [(p.line, p.rule) for p in error.problems]
    assert found == [
        (6, "angry"),
        (10, "complex"),
        (11, "complex"),
        (15, "somewhere"),
        (16, "angry"),
    ]
    assert error.file.endswith("broken_handoff.yml")
    lines = str(error).splitlines()
    assert lines[0].endswith(
        "broken_handoff.yml:6: rule 'angry': bad comparison '=< -0.6' for "
        "sentiment: write an operator (<, >, <=, >=, ==, !=) and a number, "
        "e.g. \"<= -0.6\" (quote it: YAML reads a leading '>' as a block)"
    )


def test_yaml_syntax_errors_name_the_line_and_the_rule_above() -> None:
    error = problems("rules:\n  - name: r\n    when: {intent: [x}\n")
    assert (error.line, error.rule) == (3, "r")
    outside = problems("settings: {rephrase_window: [}\nrules: []\n")
    assert (outside.line, outside.rule) == (1, None)


def test_an_empty_or_unreadable_file_is_reported(tmp_path: Path) -> None:
    assert "empty" in problems("").message
    with pytest.raises(RulesFileError, match="cannot read the rules file"):
        load_ruleset(tmp_path / "missing.yml")


def test_unsupported_version_is_reported() -> None:
    assert "unsupported version '2'" in problems("version: 2\nrules: []\n").message


def test_intents_and_entities_missing_from_the_domain_are_reported() -> None:
    ruleset = parse(
        """
        rules:
          - name: r
            when:
              any:
                - intent: [request_human, talk_to_human]
                - entity: order_number
        """
    )
    found = check_against_domain(ruleset, {"request_human", "talk_to_agent"}, {"order_id"})
    assert [(p.line, p.rule) for p in found] == [(6, "r"), (7, "r")]
    assert "intent 'talk_to_human' is not in the domain (did you mean 'talk_to_agent'?)" in str(
        found[0]
    )
    assert "entity 'order_number' is not in the domain" in str(found[1])


# --- malformed files: every one a RulesFileError with a line, never another exception ----------


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("- a\n- b\n", 1, "must be a mapping of fields"),
        ("version: 1\nrules:\n  angry: {when: {sentiment: '< -0.5'}}\n", 3, "rules must be a list"),
        ("version: 1\nrules:\n  - angry\n", 3, "a rule must be a mapping"),
        ("version: 1\nrules:\n\t- name: r\n", 3, "'\\t'"),
        ("version: 1\nrules: []\n---\nversion: 1\n", 3, "another document"),
        ("version: 1\nrules: !!python/object/apply:os.system ['true']\n", 2, "must be"),
    ],
    ids=["top-level-list", "rules-mapping", "rule-scalar", "tab-indent", "two-documents", "tag"],
)
def test_a_malformed_structure_names_its_line(text: str, line: int, expected: str) -> None:
    error = problems(text)

    assert error.line == line
    assert expected in error.message


def test_a_priority_that_is_not_text_is_reported_not_crashed_on() -> None:
    error = problems(
        """\
        version: 1
        rules:
          - name: r
            when: {sentiment: "< -0.5"}
            priority: [high]
        """
    )

    assert (error.line, error.rule) == (5, "r")
    assert "unknown priority ['high']" in error.message


def test_conditions_nested_too_deeply_are_reported_on_their_line() -> None:
    deep = "{not: " * 40 + '{sentiment: "< -0.5"}' + "}" * 40
    absurd = "{not: " * 3000 + '{sentiment: "< -0.5"}' + "}" * 3000

    error = problems(f"version: 1\nrules:\n  - name: r\n    when:\n      {deep}\n")
    huge = problems(f"version: 1\nrules:\n  - name: r\n    when: {absurd}\n")

    assert (error.line, error.rule) == (5, "r")
    assert "nested more than 32 levels" in error.message
    assert huge.line == 1 and "nested too deeply" in huge.message


def test_a_binary_or_non_utf8_file_names_the_line_of_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "handoff.yml"
    path.write_bytes(b"version: 1\nrules:\n  - name: caf\xe9\n")

    with pytest.raises(RulesFileError) as caught:
        load_ruleset(path, credentials=None)

    assert caught.value.line == 3
    assert "not UTF-8 text (byte 0xe9" in caught.value.message


def test_a_nul_character_names_its_line() -> None:
    error = problems("version: 1\nrules:\n  - name: a\x00b\n    when: {sentiment: '< -0.5'}\n")

    assert error.line == 3
    assert "#x0000" in error.message
