// Supervisors take over a live bot conversation: the service pauses the bot through Rasa's
// connector and opens a ticket claimed by them. The dialog lists the conversations customers
// wrote in lately that have no open ticket (GET /api/conversations, refreshed every 10 s while
// the dialog is open); one not listed can still be named by its sender id and channel.
// The customer's last message is untrusted text: it only ever becomes a text node.

import { $, fill, h, icon } from "./dom.js";
import { CHANNELS, ago, channelOf } from "./format.js";

const REFRESH_MS = 10000;

let app = null;
let refreshTimer = null;

function open() {
  fill(
    $("#takeover-team"),
    h("option", { value: "" }, "No team"),
    app.teams.map((team) => h("option", { value: String(team.id) }, team.display_name || team.name)),
  );
  const channels = new Set([...Object.keys(CHANNELS), ...Object.keys(app.rulesBody?.safety_nets || {})]);
  channels.delete("default");
  fill($("#channel-names"), [...channels].map((name) => h("option", { value: name })));
  $("#takeover-error").textContent = "";
  fill($("#live-conversations"));
  $("#live-status").textContent = "Loading live conversations…";
  $("#takeover-dialog").showModal();
  $("#takeover-reason").focus();
  refreshLive();
  clearInterval(refreshTimer);
  refreshTimer = setInterval(refreshLive, REFRESH_MS);
}

function stopRefreshing() {
  clearInterval(refreshTimer);
  refreshTimer = null;
}

async function refreshLive() {
  if (!$("#takeover-dialog").open) return stopRefreshing();
  try {
    const { conversations } = await app.api("/api/conversations");
    if (!$("#takeover-dialog").open) return;
    fill($("#live-conversations"), conversations.map(liveRow));
    $("#live-status").textContent = conversations.length
      ? ""
      : "No bot conversation without a ticket in the last 30 minutes.";
  } catch (error) {
    $("#live-status").textContent = `Live conversations unavailable: ${error.message}`;
  }
}

function liveRow(conversation) {
  const channel = channelOf(conversation.channel || "", conversation.conversation_id);
  return h(
    "li",
    { dataset: { conversation: conversation.conversation_id } },
    h(
      "div",
      { class: "live-main" },
      h(
        "div",
        { class: "live-top" },
        h("span", { class: "channel" }, icon(channel.icon), conversation.channel ? channel.label : "Unknown channel"),
        h("span", { class: "live-id muted", title: conversation.conversation_id }, conversation.conversation_id),
        h("span", { class: "live-seen muted" }, `seen ${ago(conversation.last_seen_at)}`),
      ),
      h("div", { class: "live-text", title: conversation.last_text }, conversation.last_text),
    ),
    h(
      "button",
      {
        type: "button",
        class: "primary",
        "aria-label": `Take over ${conversation.conversation_id}`,
        onclick: () => takeOverListed(conversation),
      },
      "Take over",
    ),
  );
}

function choices() {
  const body = {
    reason: $("#takeover-reason").value.trim(),
    priority: $("#takeover-priority").value,
  };
  if ($("#takeover-team").value) body.team_id = Number($("#takeover-team").value);
  return body;
}

function takeOverListed(conversation) {
  if (!conversation.channel) {
    // The service never saw its channel: let the supervisor name it in the form below.
    $("#takeover-conversation").value = conversation.conversation_id;
    $("#takeover-error").textContent = "This conversation's channel is unknown; name it below.";
    $("#takeover-channel").focus();
    return;
  }
  const body = { ...choices(), conversation_id: conversation.conversation_id, channel: conversation.channel };
  if (!body.reason) {
    $("#takeover-error").textContent = "Give a reason for the takeover first.";
    $("#takeover-reason").focus();
    return;
  }
  takeOver(body);
}

async function submit(event) {
  event.preventDefault();
  takeOver({
    ...choices(),
    conversation_id: $("#takeover-conversation").value.trim(),
    channel: $("#takeover-channel").value.trim(),
  });
}

async function takeOver(body) {
  try {
    const { ticket } = await app.post("/api/takeovers", body);
    $("#takeover-dialog").close();
    $("#takeover-form").reset();
    app.toast(`Ticket #${ticket.id} opened; the bot is paused`);
    app.openTicket(ticket.id);
  } catch (error) {
    $("#takeover-error").textContent = error.message;
  }
}

export function bindTakeover(theApp) {
  app = theApp;
  $("#takeover-open").addEventListener("click", open);
  $("#takeover-form").addEventListener("submit", submit);
  $("#takeover-cancel").addEventListener("click", () => $("#takeover-dialog").close());
  $("#takeover-dialog").addEventListener("close", stopRefreshing);
}
