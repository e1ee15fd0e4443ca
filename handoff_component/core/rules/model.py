"""A parsed rules file: trigger rules and per-channel safety nets, with the language's settings
(`settings.RuleSettings`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from handoff_component.contract import PRIORITIES
from handoff_component.core.rules.conditions import Condition
from handoff_component.core.rules.settings import RuleSettings

# Higher wins when several rules fire on the same turn.
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
DEFAULT_PRIORITY = "normal"
DEFAULT_SAFETY_NET_KEY = "default"


@dataclass(frozen=True)
class ChannelSafetyNet:
    """What a channel tolerates: whether a handoff pauses the bot there, the least time between
    two handoffs of one conversation, and how long a ticket may wait for an attendant before the
    customer is told and the bot takes over again."""

    channel: str = DEFAULT_SAFETY_NET_KEY
    auto_pause: bool = True
    cooldown: float = 0.0
    unclaimed_timeout: float = 900.0
    line: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "auto_pause": self.auto_pause,
            "cooldown": self.cooldown,
            "unclaimed_timeout": self.unclaimed_timeout,
        }


@dataclass(frozen=True)
class TriggerRule:
    """When `condition` holds on a turn, hand the conversation to `team` with `priority`.

    `channels` None means every channel; `cooldown` is in seconds. `move_open_ticket`: when the
    rule fires while the conversation already has an open ticket (a channel whose safety net
    does not pause), the ticket moves to `team`; otherwise it stays with its team and the
    firing is only recorded (and may raise its priority).
    """

    name: str
    condition: Condition
    team: str | None = None
    priority: str = DEFAULT_PRIORITY
    channels: frozenset[str] | None = None
    cooldown: float = 0.0
    enabled: bool = True
    description: str | None = None
    line: int = 0
    move_open_ticket: bool = False

    def applies_to(self, channel: str | None) -> bool:
        return self.channels is None or channel in self.channels


@dataclass(frozen=True)
class RuleSet:
    """Everything in one rules file; `source` names it in messages."""

    rules: tuple[TriggerRule, ...]
    safety_nets: Mapping[str, ChannelSafetyNet] = field(default_factory=dict)
    settings: RuleSettings = field(default_factory=RuleSettings)
    source: str = "handoff.yml"
    _by_channel: dict[str | None, tuple[TriggerRule, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def rules_for(self, channel: str | None) -> tuple[TriggerRule, ...]:
        """Enabled rules that apply on `channel`, in file order; memoised per channel."""
        found = self._by_channel.get(channel)
        if found is None:
            found = tuple(r for r in self.rules if r.enabled and r.applies_to(channel))
            self._by_channel[channel] = found
        return found

    def safety_net_for(self, channel: str | None) -> ChannelSafetyNet:
        """The channel's own entry, else the `default` entry, else the built-in defaults."""
        if channel is not None and channel in self.safety_nets:
            return self.safety_nets[channel]
        return self.safety_nets.get(DEFAULT_SAFETY_NET_KEY, ChannelSafetyNet())

    @property
    def longest_cooldown(self) -> float:
        """Seconds after which no earlier handoff can hold any rule back."""
        cooldowns = [r.cooldown for r in self.rules]
        cooldowns += [n.cooldown for n in self.safety_nets.values()]
        return max(cooldowns, default=0.0)

    def rule(self, name: str) -> TriggerRule | None:
        return next((r for r in self.rules if r.name == name), None)
