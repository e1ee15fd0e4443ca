// How times, channels, priorities, scores and SLA states read in the Inbox.

export const CHANNELS = {
  socketio: { label: "Web chat", icon: "web" },
  rest: { label: "REST", icon: "rest" },
  callback: { label: "Callback", icon: "callback" },
  facebook: { label: "Messenger", icon: "messenger" },
  instagram: { label: "Instagram", icon: "instagram" },
  telegram: { label: "Telegram", icon: "telegram" },
  twilio: { label: "Twilio (SMS, WhatsApp)", icon: "phone" },
  slack: { label: "Slack", icon: "slack" },
  rocketchat: { label: "Rocket.Chat", icon: "hash" },
  webexteams: { label: "Webex", icon: "hash" },
};

/** How a channel reads; Twilio carries SMS and WhatsApp, told apart by the sender id
 *  (Rasa's twilio channel names a WhatsApp customer `whatsapp:+15551234567`). */
export function channelOf(name, conversationId = "") {
  if (name === "twilio" && conversationId) {
    return String(conversationId).startsWith("whatsapp:") ? TWILIO_WHATSAPP : TWILIO_SMS;
  }
  return CHANNELS[name] || { label: name, icon: "web" };
}

const TWILIO_WHATSAPP = { label: "WhatsApp", icon: "whatsapp" };
const TWILIO_SMS = { label: "SMS", icon: "phone" };

export const STATUS_LABELS = {
  open: "Open",
  in_progress: "In progress",
  awaiting_response: "Awaiting customer",
  closed: "Closed",
};

export const RESOLUTION_LABELS = {
  closed: "closed by attendant",
  resumed_bot: "handed back to bot",
  inactivity: "closed for inactivity",
  unclaimed: "handed back, nobody claimed it",
};

/** "8 s", "4 min", "2 h 5 min", "3 d 2 h" */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

export const secondsSince = (iso, now = Date.now()) => (now - Date.parse(iso)) / 1000;

/** "just now", "45 s ago", "4 min ago" */
export function ago(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = secondsSince(iso, now);
  return seconds < 10 ? "just now" : `${duration(seconds)} ago`;
}

export const clock = (iso) =>
  iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";

/**
 * Who is waiting, since when, and how that compares with the channel's target.
 * `target` is the channel's unclaimed timeout from the rules file (seconds), or null.
 * state: ok (< half the target), warn (< target), breach, or idle (nobody waits on us).
 */
export function waiting(ticket, target, now = Date.now()) {
  let since;
  let label;
  if (ticket.status === "open") {
    since = ticket.reopen_count > 0 ? ticket.updated_at : ticket.created_at;
    label = "waiting";
  } else if (ticket.status === "in_progress") {
    since = ticket.first_response_at ? ticket.updated_at : ticket.created_at;
    label = "waiting";
  } else if (ticket.status === "awaiting_response") {
    const seconds = secondsSince(ticket.awaiting_since || ticket.updated_at, now);
    return { state: "idle", seconds, text: `replied ${ago(ticket.awaiting_since || ticket.updated_at, now)}` };
  } else {
    const seconds = secondsSince(ticket.closed_at || ticket.updated_at, now);
    return { state: "idle", seconds, text: `closed ${ago(ticket.closed_at || ticket.updated_at, now)}` };
  }
  const seconds = secondsSince(since, now);
  const waited = seconds < 60 ? "<1 min" : duration(seconds);
  let state = "none";
  if (target) state = seconds >= target ? "breach" : seconds >= target / 2 ? "warn" : "ok";
  return { state, seconds, text: `${label} ${waited}` };
}

/**
 * The expected wait the customer was told, as "about N min" (the service rounds it once, the way
 * the customer heard it: `expected_wait_minutes`); null when it is unknown.
 */
export function expectedWait(ticket) {
  const minutes = ticket.expected_wait_minutes;
  return typeof minutes === "number" ? `about ${minutes} min` : null;
}

export const SLA_TITLES = {
  ok: "Within the waiting-time target",
  warn: "Past half the waiting-time target",
  breach: "Past the waiting-time target",
  none: "No waiting-time target for this channel",
  idle: "Nobody is waiting on an attendant",
};

const SCORE_LABELS = { human_request: "human request" };
// Order of the chips: how the customer feels first, then what the bot can handle.
export const SCORE_ORDER = ["frustration", "sentiment", "human_request", "complexity", "uncertainty"];

/** A score chip's text and tone: sentiment -0.72 is "negative", complexity 0.9 is "high". */
export function scoreChip(name, value) {
  const text = `${SCORE_LABELS[name] || name} ${value.toFixed(2)}`;
  let tone = "neutral";
  if (name === "sentiment") tone = value <= -0.3 ? "negative" : value >= 0.3 ? "positive" : "neutral";
  else if (value >= 0.7) tone = "high";
  else if (value >= 0.4) tone = "medium";
  return { text, tone };
}
