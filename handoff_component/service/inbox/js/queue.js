// The queue on the left: one row per ticket with its channel, priority, waiting time and SLA state.

import { $, $$, fill, h, icon } from "./dom.js";
import { SLA_TITLES, STATUS_LABELS, channelOf, expectedWait, waiting } from "./format.js";

/** What each queue tab asks the API for; "team" adds the chosen team. */
export const FILTERS = {
  open: { status: "open" },
  mine: { mine: "true", status: "in_progress,awaiting_response" },
  team: { status: "open,in_progress,awaiting_response" },
  closed: { status: "closed" },
  all: {},
};

export const PAGE_SIZE = 100;

export function queueQuery(filter, teamId, cursor = null) {
  const params = new URLSearchParams({ ...FILTERS[filter], limit: String(PAGE_SIZE) });
  if (filter === "team" && teamId) params.set("team_id", teamId);
  if (cursor) params.set("cursor", cursor);
  return `/api/tickets?${params}`;
}

/** Does `ticket` belong in the tab `filter` shows (the same conditions the tab asks the API)? */
export function inTab(ticket, filter, teamId, me) {
  const wanted = FILTERS[filter];
  if (wanted.status && !wanted.status.split(",").includes(ticket.status)) return false;
  if (wanted.mine && ticket.assignee?.id !== me.id) return false;
  if (filter === "team" && teamId && String(ticket.team?.id) !== String(teamId)) return false;
  return true;
}

const PRIORITY_RANK = { low: 0, normal: 1, high: 2, urgent: 3 };

/** The API's order: most urgent first, then oldest first, then by id. */
export function queueOrder(a, b) {
  return (
    PRIORITY_RANK[b.priority] - PRIORITY_RANK[a.priority] ||
    a.created_at.localeCompare(b.created_at) ||
    a.id - b.id
  );
}

/** How many tickets the tab holds in all, when the status counts tell (else null). */
function tabTotal(app) {
  const counts = app.counts || {};
  const active = (counts.open || 0) + (counts.in_progress || 0) + (counts.awaiting_response || 0);
  if (app.filter === "open") return counts.open ?? null;
  if (app.filter === "closed") return counts.closed ?? null;
  if (app.filter === "team" && !app.teamId) return active;
  if (app.filter === "all") return active + (counts.closed || 0);
  return null;
}

function row(ticket, app) {
  const channel = channelOf(ticket.channel, ticket.conversation_id);
  const wait = waiting(ticket, app.targetFor(ticket));
  const unread = app.unread.get(ticket.id) || 0;
  const summary = ticket.summary?.reason || ticket.reason;
  const owner = ticket.assignee ? ` · ${ticket.assignee.display_name}` : "";
  // While nobody has claimed it: what the customer was told to expect.
  const expected = ticket.status === "open" ? expectedWait(ticket) : null;
  return h(
    "li",
    {},
    h(
      "button",
      {
        type: "button",
        class: `ticket-row${unread ? " unread" : ""}`,
        "aria-current": ticket.id === app.currentId ? "true" : null,
        dataset: { ticketId: ticket.id },
        onclick: () => app.openTicket(ticket.id),
      },
      h(
        "span",
        { class: "row-top" },
        h("span", { class: "channel", title: channel.label }, icon(channel.icon), h("span", { class: "visually-hidden" }, channel.label)),
        h("span", { class: "row-title" }, `#${ticket.id} · ${ticket.conversation_id}`),
        unread ? h("span", { class: "unread-dot", "aria-label": `${unread} new` }, String(unread)) : null,
        h("span", { class: `priority priority-${ticket.priority}` }, ticket.priority),
      ),
      h("span", { class: "row-summary" }, summary),
      expected
        ? h("span", { class: "expected-wait", title: "The wait the customer was told to expect" }, `expected wait ${expected}`)
        : null,
      h(
        "span",
        { class: "row-bottom" },
        h("span", { class: `status status-${ticket.status}` }, STATUS_LABELS[ticket.status] || ticket.status),
        h("span", { class: `sla sla-${wait.state}`, title: SLA_TITLES[wait.state] }, wait.text),
        h("span", { class: "row-owner muted" }, `${ticket.team ? ticket.team.name : "no team"}${owner}`),
      ),
    ),
  );
}

export function renderQueue(app) {
  const list = $("#ticket-list");
  const hadFocus = list.contains(document.activeElement) ? document.activeElement.dataset.ticketId : null;
  fill(list, ...app.tickets.map((ticket) => row(ticket, app)));
  $("#queue-empty").hidden = app.tickets.length > 0;
  // Past the first page the queue says how far it goes, and loads the next page on request.
  const total = tabTotal(app);
  $("#queue-more-row").hidden = !app.nextCursor;
  $("#queue-shown").textContent = app.nextCursor
    ? total !== null && total > app.tickets.length
      ? `First ${app.tickets.length} of ${total}`
      : `First ${app.tickets.length}`
    : "";
  if (hadFocus) $(`[data-ticket-id="${CSS.escape(hadFocus)}"]`, list)?.focus();
}

/** Arrow keys move between rows; the page's j/k shortcuts open the next or previous ticket. */
export function bindQueueKeys(list) {
  list.addEventListener("keydown", (event) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    const rows = $$(".ticket-row", list);
    const index = rows.indexOf(document.activeElement);
    const next = rows[index + (event.key === "ArrowDown" ? 1 : -1)];
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });
}
