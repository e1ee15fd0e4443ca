// The queue on the left: one row per ticket with its channel, priority, waiting time and SLA state.

import { $, $$, fill, h, icon } from "./dom.js";
import { SLA_TITLES, STATUS_LABELS, channelOf, waiting } from "./format.js";

/** What each queue tab asks the API for; "team" adds the chosen team. */
export const FILTERS = {
  open: { status: "open" },
  mine: { mine: "true", status: "in_progress,awaiting_response" },
  team: { status: "open,in_progress,awaiting_response" },
  closed: { status: "closed" },
  all: {},
};

export function queueQuery(filter, teamId) {
  const params = new URLSearchParams({ ...FILTERS[filter], limit: "100" });
  if (filter === "team" && teamId) params.set("team_id", teamId);
  return `/api/tickets?${params}`;
}

function row(ticket, app) {
  const channel = channelOf(ticket.channel, ticket.conversation_id);
  const wait = waiting(ticket, app.targetFor(ticket));
  const unread = app.unread.get(ticket.id) || 0;
  const summary = ticket.summary?.reason || ticket.reason;
  const owner = ticket.assignee ? ` · ${ticket.assignee.display_name}` : "";
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
