// The composer under the conversation: replies (text, canned replies, files: attachments.js),
// internal notes, and the typing indicator the customer sees while the attendant writes.

import { bindAttachments, clearAttachments, readyAttachments, uploading } from "./attachments.js";
import { $ } from "./dom.js";
import { followNewMessages, permissions, renderTicket } from "./ticket.js";

const TYPING_REPEAT_MS = 4000; // re-announce while typing goes on
const TYPING_IDLE_MS = 3000; // then say it stopped

let typing = { ticketId: null, since: 0, timer: null };
let app = null;
let act = null;

const mode = () => $("#composer").elements.mode.value;

function sendTyping(ticketId, on) {
  app.post(`/api/tickets/${ticketId}/typing`, { typing: on }).catch(() => {
    // The indicator is best effort; a reply reports its own delivery problems.
  });
}

export function stopTyping() {
  clearTimeout(typing.timer);
  if (typing.ticketId !== null) sendTyping(typing.ticketId, false);
  typing = { ticketId: null, since: 0, timer: null };
}

function onInput() {
  const ticket = app.detail;
  if (!ticket || mode() !== "reply" || !permissions(ticket).reply) return;
  const now = Date.now();
  if (typing.ticketId !== ticket.id || now - typing.since > TYPING_REPEAT_MS) {
    typing.ticketId = ticket.id;
    typing.since = now;
    sendTyping(ticket.id, true);
  }
  clearTimeout(typing.timer);
  typing.timer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

/** Empty the composer; `discardUploads` when leaving the ticket (its unsent uploads go). */
export function resetComposer({ discardUploads = false } = {}) {
  $("#composer-text").value = "";
  clearAttachments({ discard: discardUploads });
}

async function submit(event) {
  event.preventDefault();
  const ticket = app.detail;
  if (!ticket) return;
  const text = $("#composer-text").value.trim();
  followNewMessages();
  if (mode() === "note") {
    if (!text) return;
    await act(async () => {
      await app.post(`/api/tickets/${ticket.id}/notes`, { text });
      resetComposer();
    });
    return;
  }
  if (uploading()) {
    app.toast("Wait for the files to finish uploading", "error");
    return;
  }
  const attachments = readyAttachments(ticket.id);
  if (!text && !attachments.length) return;
  stopTyping();
  await act(async () => {
    try {
      await app.post(`/api/tickets/${ticket.id}/reply`, { text, attachments });
    } catch (error) {
      // 502: the reply is saved but undelivered (it shows a Retry button), so the box is cleared;
      // any other refusal stored nothing, so the text stays for the attendant to fix.
      if (error.status === 502) resetComposer();
      throw error;
    }
    resetComposer();
  });
}

function insertCanned(event) {
  const replies = app.canned.get(app.detail?.team?.id) || [];
  const reply = replies.find((r) => String(r.id) === event.target.value);
  event.target.value = "";
  if (!reply) return;
  const box = $("#composer-text");
  box.value = box.value.trim() ? `${box.value.trimEnd()}\n${reply.text}` : reply.text;
  box.focus();
  onInput();
}

/** Wire the composer; `act(work, success)` runs an API call and redraws (app.js). */
export function bindComposer(theApp, runAndRefresh) {
  app = theApp;
  act = runAndRefresh;
  const form = $("#composer");
  form.addEventListener("submit", submit);
  form.addEventListener("change", (event) => {
    if (event.target.name !== "mode") return;
    if (mode() === "note") stopTyping();
    renderTicket(app);
  });
  const box = $("#composer-text");
  box.addEventListener("input", onInput);
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  $("#canned").addEventListener("change", insertCanned);
  bindAttachments(app);
}
