// Supervisors take over a live bot conversation: the service pauses the bot through Rasa's
// connector and opens a ticket claimed by them. The service keeps no list of live bot
// conversations, so the supervisor names one (its sender id) and its channel.

import { $, fill, h } from "./dom.js";
import { CHANNELS } from "./format.js";

let app = null;

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
  $("#takeover-dialog").showModal();
  $("#takeover-conversation").focus();
}

async function submit(event) {
  event.preventDefault();
  const body = {
    conversation_id: $("#takeover-conversation").value.trim(),
    channel: $("#takeover-channel").value.trim(),
    reason: $("#takeover-reason").value.trim(),
    priority: $("#takeover-priority").value,
  };
  if ($("#takeover-team").value) body.team_id = Number($("#takeover-team").value);
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
}
