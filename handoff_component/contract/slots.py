"""Names of the slots the plugin reads and writes, shared by the policy, actions and connector.

The example bot's `domain.yml` declares each of them (`influence_conversation: false`), and any bot
that adds the plugin must do the same; `docs/` lists them.
"""

# Set by HandoffPolicy when a trigger rule fires.
HANDOFF_RULE_SLOT = "handoff_rule"
HANDOFF_REASON_SLOT = "handoff_reason"
HANDOFF_SCORE_SLOT = "handoff_score"
HANDOFF_TEAM_SLOT = "handoff_team"
HANDOFF_PRIORITY_SLOT = "handoff_priority"
# The channel's safety net (handoff.yml), set beside the rule: pause or only alert, and how long
# the ticket may wait unclaimed (seconds) before the bot takes the conversation back.
HANDOFF_AUTO_PAUSE_SLOT = "handoff_auto_pause"
HANDOFF_UNCLAIMED_TIMEOUT_SLOT = "handoff_unclaimed_timeout"
# The rule's `move_open_ticket`: a firing while a ticket is open moves it to the rule's team.
HANDOFF_MOVE_OPEN_TICKET_SLOT = "handoff_move_open_ticket"

# Set by action_handoff and the connector: the state of the human stretch.
HANDOFF_ACTIVE_SLOT = "handoff_active"
HANDOFF_TICKET_SLOT = "handoff_ticket_id"
HANDOFF_CHANNEL_SLOT = "handoff_channel"
# Earlier firings (rule, time) that outlive a session, so cooldowns hold across a hand-back.
HANDOFF_HISTORY_SLOT = "handoff_history"
# A ticket request the action could not deliver; the event broker delivers it later.
HANDOFF_REQUEST_SLOT = "handoff_request"

HANDOFF_SLOTS = (
    HANDOFF_RULE_SLOT,
    HANDOFF_REASON_SLOT,
    HANDOFF_SCORE_SLOT,
    HANDOFF_TEAM_SLOT,
    HANDOFF_PRIORITY_SLOT,
    HANDOFF_AUTO_PAUSE_SLOT,
    HANDOFF_UNCLAIMED_TIMEOUT_SLOT,
    HANDOFF_MOVE_OPEN_TICKET_SLOT,
    HANDOFF_ACTIVE_SLOT,
    HANDOFF_TICKET_SLOT,
    HANDOFF_CHANNEL_SLOT,
    HANDOFF_REQUEST_SLOT,
    HANDOFF_HISTORY_SLOT,
)
# Slots a hand-back to the bot clears: the state of the human stretch that just ended.
HANDOFF_STATE_SLOTS = tuple(s for s in HANDOFF_SLOTS if s != HANDOFF_HISTORY_SLOT)
