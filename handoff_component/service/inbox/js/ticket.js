// The open ticket: summary on top, the conversation with internal notes, the composer, and on the
// right its details, actions and timeline. Rendering only; app.js decides when to redraw.

import { filePath, formatSize } from "./attachments.js";
import { $, $$, fill, h, icon, safeUrl } from "./dom.js";
import {
  RESOLUTION_LABELS,
  SLA_TITLES,
  STATUS_LABELS,
  ago,
  channelOf,
  clock,
  expectedWait,
  scoreChip,
  SCORE_ORDER,
  waiting,
} from "./format.js";

const ACTION_LABELS = {
  create: "Ticket opened",
  claim: "Claimed",
  reply: "Replied",
  customer_message: "Customer wrote",
  transfer: "Transferred",
  note: "Note",
  close: "Closed",
  reopen: "Reopened",
  resume_bot: "Bot resumed",
  hand_back: "Handed back",
  inactivity_close: "Closed for inactivity",
  trigger: "Rule fired again",
  wait_update: "Customer told a longer wait",
};

const time = (iso) => h("time", { datetime: iso, title: clock(iso) }, ago(iso));

function scoreChips(scores) {
  if (!scores || typeof scores !== "object") return null;
  const rank = (name) => (SCORE_ORDER.includes(name) ? SCORE_ORDER.indexOf(name) : SCORE_ORDER.length);
  const entries = Object.entries(scores)
    .filter(([, v]) => typeof v === "number")
    .sort(([a], [b]) => rank(a) - rank(b));
  if (!entries.length) return null;
  return h(
    "span",
    { class: "scores" },
    entries.map(([name, value]) => {
      const chip = scoreChip(name, value);
      return h("span", { class: `chip chip-${chip.tone}`, dataset: { score: name } }, chip.text);
    }),
  );
}

/** A file the service holds (uploaded by an attendant): shown from the service itself. */
function storedFileView(attachment, ticketId) {
  const src = filePath(ticketId, attachment.file_id);
  const name = attachment.name || "file";
  const mime = attachment.mime_type || "";
  const size = h("span", { class: "size" }, formatSize(attachment.size || 0));
  if (mime.startsWith("image/")) {
    return h("a", { class: "attachment", href: src, target: "_blank", rel: "noopener" },
      h("img", { src, alt: name, loading: "lazy" }));
  }
  if (mime.startsWith("audio/")) {
    return h("span", { class: "attachment" }, h("audio", { src, controls: true, preload: "none" }), name, size);
  }
  return h("a", { class: "attachment file", href: src, download: name }, icon("file"), name, size);
}

/** A file elsewhere (what a customer's channel delivered, a bot's image): a reference, loaded
 *  only when the attendant clicks it, so opening a ticket never fetches a stranger's URL. */
function externalView(attachment) {
  const url = safeUrl(attachment.url);
  if (!url) return null;
  const host = new URL(url).host;
  const name = attachment.name || decodeURIComponent(url.split("?")[0].split("/").pop() || "") || url;
  const mime = attachment.mime_type || "";
  const media = mime.startsWith("image/") ? "image" : mime.startsWith("audio/") ? "audio" : null;
  if (!media) {
    return h("a", { class: "attachment file external", href: url, target: "_blank", rel: "noopener noreferrer" },
      icon("file"), name, h("span", { class: "size" }, ` (${host})`));
  }
  const button = h("button", {
    type: "button",
    class: "attachment external",
    title: url,
    onclick: () => {
      const shown = media === "image"
        ? h("a", { class: "attachment", href: url, target: "_blank", rel: "noopener noreferrer" },
            h("img", { src: url, alt: name, referrerpolicy: "no-referrer" }))
        : h("span", { class: "attachment" }, h("audio", { src: url, controls: true, autoplay: true }), name);
      button.replaceWith(shown);
    },
  }, icon("file"), `Show ${media} from ${host}`);
  return button;
}

function attachmentView(attachment, message) {
  return attachment.file_id ? storedFileView(attachment, message.ticket_id) : externalView(attachment);
}

function deliveryView(message, app) {
  const states = {
    delivered: ["delivered", "Delivered"],
    pending: ["pending", "Sending…"],
    not_configured: ["warn", "Saved; no connector configured, not sent"],
    failed: ["failed", `Not delivered: ${message.delivery_error || "unknown error"}`],
  };
  const [tone, text] = states[message.delivery] || ["pending", message.delivery || ""];
  return h(
    "span",
    { class: `delivery delivery-${tone}` },
    text,
    message.delivery === "failed"
      ? h("button", { type: "button", class: "link", onclick: () => app.retryDelivery(message.id) }, "Retry")
      : null,
  );
}

function messageItem(message, app) {
  const author =
    message.author === "attendant"
      ? app.attendantName(message.attendant_id)
      : message.author === "bot"
        ? "Bot"
        : "Customer";
  return h(
    "li",
    { class: `msg msg-${message.author}`, dataset: { messageId: message.id, author: message.author } },
    h("div", { class: "msg-meta" }, h("strong", {}, author), " · ", time(message.sent_at)),
    message.text ? h("p", { class: "msg-text" }, message.text) : null,
    (message.attachments || []).map((attachment) => attachmentView(attachment, message)),
    message.author === "customer" ? scoreChips(message.scores) : null,
    message.author === "attendant" ? deliveryView(message, app) : null,
  );
}

function noteItem(note, app) {
  return h(
    "li",
    { class: "note", dataset: { noteId: note.id } },
    h("div", { class: "msg-meta" }, icon("lock"), h("strong", {}, "Internal note"), ` · ${app.attendantName(note.attendant_id)} · `, time(note.created_at)),
    h("p", { class: "msg-text" }, note.text),
  );
}

function handoffDivider(ticket) {
  const team = ticket.team ? ticket.team.name : "no team";
  return h("li", { class: "divider" }, h("span", {}, `Handed off to ${team} · rule ${ticket.rule} · `, time(ticket.created_at)));
}

/** Messages and notes in time order, with a divider where the bot handed off. */
function threadItems(ticket, app) {
  const entries = [
    ...ticket.messages.map((m) => ({ at: Date.parse(m.sent_at), node: () => messageItem(m, app) })),
    ...ticket.notes.map((n) => ({ at: Date.parse(n.created_at), node: () => noteItem(n, app) })),
    { at: Date.parse(ticket.created_at) - 0.5, node: () => handoffDivider(ticket) },
  ];
  return entries.sort((a, b) => a.at - b.at).map((entry) => entry.node());
}

const pair = (label, ...value) => h("div", { class: "pair" }, h("dt", {}, label), h("dd", {}, ...value));

function summaryCard(ticket, app) {
  const summary = ticket.summary || {};
  const rule = app.rules.get(ticket.rule);
  const firing = ticket.scores?.length ? ticket.scores[ticket.scores.length - 1] : null;
  const recent = ticket.scores || [];
  return [
    h("div", { class: "summary-head" },
      h("h3", {}, "Agent summary"),
      h("span", { class: "rule-chip", title: rule ? rule.description || "" : "not a rule of the rules file" }, ticket.rule)),
    h("p", { class: "summary-reason" }, summary.reason || ticket.reason),
    h("dl", { class: "summary-facts" },
      rule ? pair("Rule", h("code", { class: "condition" }, rule.condition)) : null,
      firing ? pair("Scores when it fired", scoreChips(firing)) : null,
      summary.topics?.length
        ? pair("Topics", summary.topics.map((t) => h("span", { class: "chip chip-topic" }, t)))
        : null,
      summary.last_bot_action ? pair("Last bot action", h("code", {}, summary.last_bot_action)) : null,
      summary.message_count ? pair("Messages before handoff", String(summary.message_count)) : null,
      expectedWait(ticket)
        ? pair(
            "Expected wait",
            h("span", { class: "expected-wait" }, expectedWait(ticket)),
            h("span", { class: "muted" }, ticket.wait_update_sent ? " (updated; as the customer was told)" : " (as the customer was told)"),
          )
        : null,
    ),
    recent.length > 1
      ? h("details", { class: "recent-scores" },
          h("summary", {}, `Scores of the last ${recent.length} scored turns`),
          h("ol", {}, recent.map((scores) => h("li", {}, scoreChips(scores)))))
      : null,
  ];
}

function fact(label, ...value) {
  return [h("dt", {}, label), h("dd", {}, ...value)];
}

function facts(ticket, app) {
  const channel = channelOf(ticket.channel, ticket.conversation_id);
  const wait = waiting(ticket, app.targetFor(ticket));
  return [
    fact("Status", h("span", { class: `status status-${ticket.status}` }, STATUS_LABELS[ticket.status] || ticket.status)),
    wait.state === "idle"
      ? null
      : fact("Waiting", h("span", { class: `sla sla-${wait.state}`, title: SLA_TITLES[wait.state] }, wait.text)),
    fact("Priority", h("span", { class: `priority priority-${ticket.priority}` }, ticket.priority)),
    fact("Channel", h("span", { class: "channel" }, icon(channel.icon), ` ${channel.label}`)),
    fact("Team", ticket.team ? ticket.team.name : "none"),
    fact("Assignee", ticket.assignee ? ticket.assignee.display_name : "unassigned"),
    fact("Conversation", h("code", {}, ticket.conversation_id)),
    fact("Opened", time(ticket.created_at)),
    ticket.claimed_at ? fact("Claimed", time(ticket.claimed_at)) : null,
    ticket.first_response_at ? fact("First reply", time(ticket.first_response_at)) : null,
    ticket.closed_at ? fact("Closed", time(ticket.closed_at), ticket.resolution ? ` (${RESOLUTION_LABELS[ticket.resolution] || ticket.resolution})` : "") : null,
    ticket.reopen_count ? fact("Reopened", `${ticket.reopen_count}×`) : null,
    ticket.handed_back ? fact("Bot", "answering again") : null,
  ];
}

function actorName(actor, app) {
  if (actor.kind === "attendant") return app.attendantName(Number(actor.id));
  if (actor.kind === "rasa") return actor.id ? `bot (rule ${actor.id})` : "bot";
  if (actor.kind === "system") return actor.id ? `service (${actor.id.replaceAll("_", " ")})` : "service";
  return actor.kind;
}

const DETAIL_LABELS = {
  team: "team",
  assignee: "assignee",
  from_team: "from team",
  to_team: "to team",
  from_assignee: "from",
  to_assignee: "to",
  resolution: "outcome",
  reopened_by: "by",
  was_handed_back: "bot had it",
  routing: "routing",
  expected_wait_minutes: "expected wait, min",
};
// Kept for integrations; the timeline shows the minutes beside them instead.
const HIDDEN_DETAILS = new Set(["expected_wait_seconds"]);

function detailValue(key, value, app) {
  if (key.endsWith("team") && /^\d+$/.test(String(value))) return app.teamName(Number(value));
  // A change (a later trigger's priority): "high → urgent".
  if (value && typeof value === "object" && "from" in value && "to" in value) {
    return value.from === value.to ? `${value.to} (kept)` : `${value.from} → ${value.to}`;
  }
  if (key.endsWith("assignee")) return app.attendantName(Number(value));
  if (key === "resolution") return RESOLUTION_LABELS[value] || value;
  if (typeof value === "boolean") return value ? "yes" : "no";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** A transition's detail in words: team and attendant ids become names. */
function detailText(detail, app) {
  if (!detail || typeof detail !== "object") return null;
  const parts = Object.entries(detail)
    .filter(([k, v]) => !HIDDEN_DETAILS.has(k) && v !== null && v !== undefined && v !== "" && v !== false)
    .map(([k, v]) => `${DETAIL_LABELS[k] || k.replaceAll("_", " ")}: ${detailValue(k, v, app)}`);
  return parts.length ? h("span", { class: "timeline-detail" }, parts.join(" · ")) : null;
}

function timelineItem(record, app) {
  const moved = record.from_status !== record.to_status;
  return h(
    "li",
    { class: `timeline-item to-${record.to_status}`, dataset: { action: record.action } },
    h("span", { class: "timeline-action" }, ACTION_LABELS[record.action] || record.action.replaceAll("_", " ")),
    moved ? h("span", { class: "timeline-move muted" }, ` ${STATUS_LABELS[record.from_status] || record.from_status} → ${STATUS_LABELS[record.to_status] || record.to_status}`) : null,
    h("span", { class: "timeline-who muted" }, `${actorName(record.actor, app)} · `, time(record.at)),
    detailText(record.detail, app),
  );
}

// The thread follows new messages while the attendant is at its end, and stays put while they
// read further up. Images load after the redraw, so they re-scroll too.
let followThread = true;

export function bindThread() {
  const thread = $("#thread");
  thread.addEventListener("scroll", () => {
    followThread = thread.scrollHeight - thread.scrollTop - thread.clientHeight < 60;
  });
  thread.addEventListener(
    "load",
    () => {
      if (followThread) thread.scrollTop = thread.scrollHeight;
    },
    true,
  );
}

export function followNewMessages() {
  followThread = true;
}

/**
 * What the signed-in attendant may do with this ticket now. The service decides (the lifecycle
 * and who holds the ticket, `service/access.py`) and says so in `allowed_actions`, in every
 * answer and live event; the Inbox only enables the buttons it lists.
 */
export function permissions(ticket) {
  const allowed = new Set(ticket.allowed_actions);
  return {
    claim: allowed.has("claim"),
    reply: allowed.has("reply"),
    note: allowed.has("note"),
    transfer: allowed.has("transfer"),
    close: allowed.has("close"),
    reopen: allowed.has("reopen"),
    resume_bot: allowed.has("resume_bot"),
  };
}

function replyHint(ticket, can) {
  if (can.reply) return "";
  if (ticket.status === "open") return "Claim the ticket to reply.";
  if (ticket.status === "closed") return "Closed: reopen it to reply.";
  return `Assigned to ${ticket.assignee ? ticket.assignee.display_name : "someone else"}.`;
}

export function renderTicket(app) {
  const ticket = app.detail;
  $("#empty-state").hidden = Boolean(ticket);
  $("#ticket").hidden = !ticket;
  $("#details").hidden = !ticket;
  if (!ticket) return;
  const can = permissions(ticket);
  $("#ticket-title").textContent = `Ticket #${ticket.id}`;
  fill($("#ticket-subtitle"), 
    icon(channelOf(ticket.channel, ticket.conversation_id).icon),
    ` ${channelOf(ticket.channel, ticket.conversation_id).label} · ${ticket.conversation_id}`,
  );
  const status = $("#ticket-status");
  status.className = `badge status status-${ticket.status}`;
  status.textContent = STATUS_LABELS[ticket.status] || ticket.status;
  fill($("#summary"), ...summaryCard(ticket, app).flat().filter(Boolean));

  const thread = $("#thread");
  const sameTicket = thread.dataset.ticketId === String(ticket.id);
  fill(thread, ...threadItems(ticket, app));
  thread.dataset.ticketId = String(ticket.id);
  if (!sameTicket) followThread = true;
  if (followThread) {
    thread.scrollTop = thread.scrollHeight;
    // On narrow screens the page scrolls, not the thread: bring the newest message into view.
    if (thread.scrollHeight <= thread.clientHeight + 1) thread.lastElementChild?.scrollIntoView({ block: "end" });
  }

  fill($("#facts"), ...facts(ticket, app).flat(Infinity).filter(Boolean));
  fill($("#timeline"), ...ticket.timeline.map((record) => timelineItem(record, app)));

  for (const button of $$("[data-action]", $("#details"))) {
    button.disabled = !can[button.dataset.action];
  }
  $("#transfer-target").disabled = !can.transfer;
  $("#transfer-note").disabled = !can.transfer;

  const mode = $("#composer").elements.mode.value;
  const canWrite = mode === "note" ? can.note : can.reply;
  $("#composer-text").disabled = !canWrite;
  $("#send").disabled = !canWrite;
  $("#canned").disabled = mode !== "reply" || !can.reply;
  $("#attach-toggle").disabled = mode !== "reply" || !can.reply;
  $("#composer-hint").textContent = mode === "reply" ? replyHint(ticket, can) : "Only attendants see notes.";
  $("#composer").classList.toggle("note-mode", mode === "note");
  $("#composer-text").placeholder =
    mode === "note" ? "Write an internal note (Ctrl+Enter to save)" : "Write a reply (Ctrl+Enter to send)";
  $("#send").textContent = mode === "note" ? "Add note" : "Send";
}

/** The transfer menu: teams first, then active attendants. */
export function renderTransferTargets(app) {
  const select = $("#transfer-target");
  fill(select, 
    h("option", { value: "" }, "Choose a team or attendant…"),
    h("optgroup", { label: "Teams" }, app.teams.map((t) => h("option", { value: `team:${t.id}` }, t.display_name || t.name))),
    h("optgroup", { label: "Attendants" },
      app.attendants.filter((a) => a.active).map((a) => h("option", { value: `attendant:${a.id}` }, a.display_name))),
  );
}

export function renderCanned(replies) {
  fill($("#canned"), 
    h("option", { value: "" }, replies.length ? "Canned replies…" : "No canned replies"),
    replies.map((reply) => h("option", { value: String(reply.id) }, reply.title)),
  );
}
