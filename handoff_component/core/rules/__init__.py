"""Trigger rules: when the bot must hand a conversation to a human.

Pure core: parse `handoff.yml` (`load_ruleset`: `parser` for the file, `condition_parser` for
each `when:`, both on `yaml_nodes`; mistakes are `problems`), check it against a domain
(`domain_check`), evaluate it on a ConversationView (`evaluate`), and replay files of turns for
designers (`replay`). No Rasa import anywhere in this package;
`handoff_component.bot.policy` adapts Rasa trackers to ConversationView.
"""

from handoff_component.core.rules.channels import KNOWN_CHANNELS, channels_from_credentials
from handoff_component.core.rules.domain_check import check_against_domain
from handoff_component.core.rules.evaluator import (
    Evaluation,
    RuleMatch,
    Suppression,
    evaluate,
    evaluate_in_detail,
)
from handoff_component.core.rules.model import (
    ChannelSafetyNet,
    RuleSet,
    TriggerRule,
)
from handoff_component.core.rules.parser import load_ruleset, parse_ruleset
from handoff_component.core.rules.problems import RuleProblem, RulesFileError
from handoff_component.core.rules.settings import RuleSettings
from handoff_component.core.rules.view import (
    ConversationView,
    Entity,
    Firing,
    Turn,
    scores_from_parse_data,
)

__all__ = [
    "KNOWN_CHANNELS",
    "ChannelSafetyNet",
    "ConversationView",
    "Entity",
    "Evaluation",
    "Firing",
    "RuleMatch",
    "RuleProblem",
    "RuleSet",
    "RuleSettings",
    "RulesFileError",
    "Suppression",
    "TriggerRule",
    "Turn",
    "channels_from_credentials",
    "check_against_domain",
    "evaluate",
    "evaluate_in_detail",
    "load_ruleset",
    "parse_ruleset",
    "scores_from_parse_data",
]
