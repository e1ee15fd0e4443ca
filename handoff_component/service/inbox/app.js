// The Inbox's state and wiring: sign-in, the queue, the open ticket, live events, shortcuts.
// Rendering lives in js/queue.js, js/ticket.js and js/rules.js; this file decides what to load
// and when to redraw. The session is the HttpOnly cookie the service sets at sign-in.

import { ApiError, api, post } from "./js/api.js";
import { bindComposer, resetComposer, stopTyping } from "./js/composer.js";
import { $, $$, fill, h, toast } from "./js/dom.js";
import { ago } from "./js/format.js";
import { bindQueueKeys, inTab, queueOrder, queueQuery, renderQueue } from "./js/queue.js";
import { renderRules } from "./js/rules.js";
import { openStream } from "./js/stream.js";
import { bindTakeover } from "./js/takeover.js";
import {
  bindThread,
  permissions,
  renderCanned,
  renderTicket,
  renderTransferTargets,
} from "./js/ticket.js";

const app = {
  me: null,
  teams: [],
  attendants: [],
  rules: new Map(),
  rulesBody: null,
  filter: "open",
  teamId: "",
  tickets: [],
  nextCursor: null,
  counts: {},
  currentId: null,
  detail: null,
  unread: new Map(),
  canned: new Map(),
  soundOn: localStorage.getItem("inbox.sound") !== "off",
  stopStream: null,
  toast,

  async api(path, options) {
    try {
      return await api(path, options);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && app.me) signedOut(error.message);
      throw error;
    }
  },
  post: (path, body) => app.api(path, { method: "POST", body }),
  attendantName(id) {
    const found = app.attendants.find((a) => a.id === id);
    return found ? found.display_name : `attendant ${id}`;
  },
  teamName(id) {
    const found = app.teams.find((t) => t.id === id);
    return found ? found.name : `team ${id}`;
  },
  /** The waiting-time target in seconds: the ticket's own unclaimed timeout when the service
   *  gives one, else its channel's in the rules file (`safety_net`), else none. */
  targetFor(ticket) {
    if (typeof ticket.unclaimed_timeout_seconds === "number") return ticket.unclaimed_timeout_seconds;
    const nets = app.rulesBody ? app.rulesBody.safety_nets : {};
    const net = nets[ticket.channel] || nets.default;
    return net ? net.unclaimed_timeout_seconds : null;
  },
  openTicket(id) {
    window.location.hash = `#/tickets/${id}`;
  },
  async retryDelivery(messageId) {
    await act(() => app.post(`/api/tickets/${app.currentId}/messages/${messageId}/retry`), "Delivered");
  },
  async loadRules() {
    try {
      app.rulesBody = await app.api("/api/rules");
    } catch (error) {
      if (error.status === 401) throw error;
      app.rulesBody = null;
      toast(`Rules unavailable: ${error.message}`, "error");
    }
    app.rules = new Map((app.rulesBody ? app.rulesBody.rules : []).map((rule) => [rule.name, rule]));
    return app.rulesBody;
  },
};

// --- small scheduling helpers ----------------------------------------------------------------

const timers = new Map();
function soon(name, work, delay = 120) {
  clearTimeout(timers.get(name));
  timers.set(name, setTimeout(() => work().catch(reportError), delay));
}

function reportError(error) {
  if (error instanceof ApiError && error.status === 401) return;
  toast(error.message || String(error), "error");
}

async function act(work, success) {
  try {
    await work();
    if (success) toast(success);
  } catch (error) {
    reportError(error);
  } finally {
    await Promise.all([refreshTicket(), refreshQueue(), refreshCounts()]).catch(reportError);
  }
}

// --- loading -----------------------------------------------------------------------------------

/** Reads of the service still in flight. A live event that arrives during one may be missing
 *  from its answer (the service read before the event's change), and the answer replaces what
 *  the event added to the page: such a read is stale and is made again once it lands. */
const reads = new Set();

async function tracked(name, refresh, read) {
  const entry = { name, stale: false };
  reads.add(entry);
  try {
    return await read();
  } finally {
    reads.delete(entry);
    if (entry.stale) soon(name, refresh, 0);
  }
}

function markStale(name) {
  for (const entry of reads) if (entry.name === name) entry.stale = true;
}

async function refreshQueue() {
  const page = await tracked("queue", refreshQueue, () => app.api(queueQuery(app.filter, app.teamId)));
  app.tickets = page.tickets;
  app.nextCursor = page.next_cursor;
  renderQueue(app);
}

/** The next page of the tab, after the tickets already shown. */
async function loadMoreTickets() {
  if (!app.nextCursor) return;
  const page = await app.api(queueQuery(app.filter, app.teamId, app.nextCursor));
  const shown = new Set(app.tickets.map((t) => t.id));
  app.tickets.push(...page.tickets.filter((t) => !shown.has(t.id)));
  app.nextCursor = page.next_cursor;
  renderQueue(app);
}

async function refreshCounts() {
  const { counts } = await app.api("/api/tickets/counts");
  app.counts = counts;
  const open = counts.open || 0;
  const indicator = $("#open-indicator");
  indicator.textContent = open ? `${open} open` : "Queue clear";
  indicator.classList.toggle("has-open", open > 0);
  indicator.dataset.open = String(open);
  $('[data-count="open"]').textContent = String(open);
  $('[data-count="team"]').textContent = String(open + (counts.in_progress || 0) + (counts.awaiting_response || 0));
  renderQueue(app); // its "First 100 of N" reads the counts
}

async function refreshTicket() {
  if (app.currentId === null) {
    app.detail = null;
    renderTicket(app);
    return;
  }
  const id = app.currentId;
  try {
    const { ticket } = await tracked("ticket", refreshTicket, () => app.api(`/api/tickets/${id}`));
    if (id !== app.currentId) return;
    const teamChanged = !app.detail || app.detail.team?.id !== ticket.team?.id;
    app.detail = ticket;
    renderTicket(app);
    if (teamChanged) await loadCanned(ticket);
  } catch (error) {
    if (error.status === 404 || error.status === 403) {
      app.currentId = null;
      app.detail = null;
      renderTicket(app);
    }
    throw error;
  }
}

async function loadCanned(ticket) {
  const teamId = ticket.team?.id;
  if (!teamId) return renderCanned([]);
  if (!app.canned.has(teamId)) {
    try {
      const { canned_replies: replies } = await app.api(`/api/teams/${teamId}/canned-replies`);
      app.canned.set(teamId, replies);
    } catch {
      app.canned.set(teamId, []); // not a member of that team: no canned replies
    }
  }
  renderCanned(app.canned.get(teamId));
}

// --- live events and notifications ------------------------------------------------------------

function updateTitle() {
  const unread = [...app.unread.values()].reduce((sum, n) => sum + n, 0);
  document.title = unread ? `(${unread}) Inbox` : "Inbox";
}

function markRead(ticketId) {
  if (app.unread.delete(ticketId)) {
    updateTitle();
    renderQueue(app);
  }
}

let audio = null;
function chime() {
  if (!app.soundOn) return;
  try {
    audio ??= new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.06, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.35);
  } catch {
    // No audio device (or blocked until a gesture): the title badge still tells.
  }
}

function notify(ticketId) {
  const watching = ticketId === app.currentId && document.visibilityState === "visible";
  if (watching) return;
  app.unread.set(ticketId, (app.unread.get(ticketId) || 0) + 1);
  updateTitle();
  chime();
}

/** A live event changes the page's state in place: no reload of the queue or the ticket. */
function onStreamEvent(type, data) {
  const ticket = data.ticket;
  if (type === "ticket.created") notify(ticket.id);
  if (type === "message.created" && data.message.author === "customer") notify(ticket.id);
  markStale("queue");
  applyToQueue(ticket);
  if (type === "ticket.created" || type === "ticket.updated") soon("counts", refreshCounts);
  if (ticket.id === app.currentId) {
    markStale("ticket");
    applyToTicket(type, data);
  }
}

function applyToQueue(ticket) {
  const index = app.tickets.findIndex((t) => t.id === ticket.id);
  const known = app.tickets[index];
  if (known && (known.team?.id !== ticket.team?.id || known.assignee?.id !== ticket.assignee?.id)) {
    // Moved to another team or attendant: whether this attendant still sees it is the
    // service's to say, so the tab is asked again.
    soon("queue", refreshQueue);
    return;
  }
  const belongs = inTab(ticket, app.filter, app.teamId, app.me);
  if (index >= 0 && belongs) {
    app.tickets[index] = ticket;
    app.tickets.sort(queueOrder);
  } else if (index >= 0) {
    app.tickets.splice(index, 1);
  } else if (belongs) {
    // Past the loaded pages, a ticket that sorts after the last one shown waits for its page.
    const last = app.tickets[app.tickets.length - 1];
    if (app.nextCursor && last && queueOrder(ticket, last) > 0) return;
    app.tickets.push(ticket);
    app.tickets.sort(queueOrder);
  } else {
    return;
  }
  renderQueue(app);
}

function applyToTicket(type, data) {
  const detail = app.detail;
  if (!detail) return;
  if (type === "message.created") {
    // A reply on its way to Rasa's connector is shown once its delivery is known
    // (message.delivery), so the thread never shows a reply the customer may not have.
    if (data.message.delivery === "pending") return;
    if (!detail.messages.some((m) => m.id === data.message.id)) detail.messages.push(data.message);
    Object.assign(detail, data.ticket);
    if (data.message.author !== "attendant") announce(data.message);
  } else if (type === "message.delivery") {
    const known = detail.messages.some((m) => m.id === data.message.id);
    detail.messages = known
      ? detail.messages.map((m) => (m.id === data.message.id ? data.message : m))
      : [...detail.messages, data.message];
    Object.assign(detail, data.ticket);
  } else if (type === "note.created") {
    if (!detail.notes.some((n) => n.id === data.note.id)) detail.notes.push(data.note);
    Object.assign(detail, data.ticket);
  } else {
    // A change of status, holder or team adds a timeline record the event does not carry.
    soon("ticket", refreshTicket, 60);
    return;
  }
  renderTicket(app);
}

/** New messages of the open ticket are read out by screen readers (a polite live region). */
function announce(message) {
  const who = message.author === "customer" ? "Customer" : "Bot";
  $("#thread-announcer").textContent = `${who}: ${message.text}`;
}

function onStreamState(connected) {
  const badge = $("#stream-state");
  badge.textContent = connected ? "Live" : "Reconnecting…";
  badge.classList.toggle("connected", connected);
  // Events sent before the stream opened (the first reads start earlier) or while it was down
  // are not replayed: read again once it is open.
  if (connected) {
    soon("queue", refreshQueue);
    soon("counts", refreshCounts);
    soon("ticket", refreshTicket);
  }
}

// --- routing -----------------------------------------------------------------------------------

async function route() {
  if (!app.me) return;
  const hash = window.location.hash;
  const rules = hash === "#/rules";
  $("#queue-view").hidden = rules;
  $("#rules-view").hidden = !rules;
  $("#nav-queue").setAttribute("aria-current", rules ? "false" : "page");
  $("#nav-rules").setAttribute("aria-current", rules ? "page" : "false");
  if (rules) {
    await renderRules(app).catch(reportError);
    return;
  }
  const match = /^#\/tickets\/(\d+)$/.exec(hash);
  const id = match ? Number(match[1]) : null;
  if (id !== app.currentId) {
    stopTyping();
    app.currentId = id;
    app.detail = null;
    resetComposer({ discardUploads: true });
  }
  $("#queue-view").classList.toggle("has-ticket", id !== null);
  renderQueue(app);
  if (id !== null) markRead(id);
  await refreshTicket().catch(reportError);
}

// --- actions on the ticket ---------------------------------------------------------------------

const ACTION_PATHS = { claim: "claim", close: "close", reopen: "reopen", resume_bot: "resume" };
const ACTION_DONE = {
  claim: "Ticket claimed",
  close: "Ticket closed",
  reopen: "Ticket reopened",
  resume_bot: "The bot is answering again",
};

function runAction(action) {
  const ticket = app.detail;
  if (!ticket || !permissions(ticket)[action]) return;
  act(() => app.post(`/api/tickets/${ticket.id}/${ACTION_PATHS[action]}`), ACTION_DONE[action]);
}

async function submitTransfer(event) {
  event.preventDefault();
  const ticket = app.detail;
  const [kind, id] = $("#transfer-target").value.split(":");
  if (!ticket || !id) return;
  const body = kind === "team" ? { team_id: Number(id) } : { attendant_id: Number(id) };
  const note = $("#transfer-note").value.trim();
  if (note) body.note = note;
  await act(async () => {
    await app.post(`/api/tickets/${ticket.id}/transfer`, body);
    $("#transfer-note").value = "";
    $("#transfer-target").value = "";
  }, "Ticket transferred");
}

// --- keyboard ------------------------------------------------------------------------------------

function onKey(event) {
  const target = event.target;
  if (target.closest("input, textarea, select, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
  const step = { j: 1, k: -1 }[event.key];
  if (step && app.tickets.length) {
    const index = app.tickets.findIndex((t) => t.id === app.currentId);
    const next = app.tickets[Math.min(app.tickets.length - 1, Math.max(0, index + step))];
    if (next) app.openTicket(next.id);
  } else if (event.key === "c") runAction("claim");
  else if (event.key === "r" || event.key === "n") {
    if (!app.detail) return;
    $(`#composer input[value="${event.key === "r" ? "reply" : "note"}"]`).click();
    $("#composer-text").focus();
  } else return;
  event.preventDefault();
}

// --- sign in and out -----------------------------------------------------------------------------

function showSignIn(message = "") {
  $("#app").hidden = true;
  $("#signin").hidden = false;
  $("#signin-error").textContent = message;
  $("#signin-username").focus();
}

function signedOut(message) {
  app.stopStream?.();
  app.stopStream = null;
  app.me = null;
  showSignIn(message);
}

async function signIn(event) {
  event.preventDefault();
  const username = $("#signin-username").value.trim();
  const password = $("#signin-password").value;
  if (!username || !password) {
    $("#signin-error").textContent = "Enter your username and password.";
    return;
  }
  try {
    const { attendant } = await post("/api/auth/login", { username, password });
    $("#signin-password").value = "";
    await start(attendant);
  } catch (error) {
    $("#signin-error").textContent =
      error.status === 401 ? "Wrong username or password." : error.message;
  }
}

async function signOut() {
  stopTyping();
  await post("/api/auth/logout").catch(() => {});
  app.unread.clear();
  updateTitle();
  signedOut("");
}

async function start(me) {
  app.me = me;
  const supervisor = me.role === "supervisor";
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#me").textContent = `${me.display_name}${supervisor ? " · supervisor" : ""}`;
  $("#takeover-open").hidden = !supervisor;
  for (const node of $$("[data-supervisor]")) node.hidden = !supervisor;
  const [{ teams }, { attendants }] = await Promise.all([app.api("/api/teams"), app.api("/api/attendants")]);
  app.teams = teams;
  app.attendants = attendants;
  await app.loadRules();
  const mine = supervisor ? teams : teams.filter((t) => me.teams.some((m) => m.id === t.id));
  fill($("#queue-team"), 
    h("option", { value: "" }, supervisor ? "All teams" : "All my teams"),
    mine.map((team) => h("option", { value: String(team.id) }, team.display_name || team.name)),
  );
  renderTransferTargets(app);
  selectFilter(app.filter);
  app.stopStream?.();
  app.stopStream = openStream({
    onEvent: onStreamEvent,
    onState: onStreamState,
    onLost: () => app.api("/api/me").catch(() => {}),
  });
  await Promise.all([refreshCounts(), route()]);
}

function selectFilter(filter) {
  app.filter = filter;
  for (const tab of $$("#queue-tabs [role=tab]")) {
    const selected = tab.dataset.filter === filter;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1; // one tab stop for the tablist; arrows move within it
    if (selected) $("#queue-panel").setAttribute("aria-labelledby", tab.id);
  }
  $("#queue-team-row").hidden = filter !== "team";
  refreshQueue().catch(reportError);
}

/** The tablist's keys (WAI-ARIA): arrows, Home and End move to a tab and select it. */
function moveBetweenTabs(event) {
  const tabs = $$("#queue-tabs [role=tab]").filter((tab) => !tab.hidden);
  const index = tabs.indexOf(document.activeElement);
  if (index < 0) return;
  const moves = {
    ArrowRight: (index + 1) % tabs.length,
    ArrowLeft: (index - 1 + tabs.length) % tabs.length,
    Home: 0,
    End: tabs.length - 1,
  };
  if (!(event.key in moves)) return;
  event.preventDefault();
  const next = tabs[moves[event.key]];
  next.focus();
  selectFilter(next.dataset.filter);
}

function bind() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#signout").addEventListener("click", signOut);
  $("#queue-tabs").addEventListener("click", (event) => {
    const tab = event.target.closest("[role=tab]");
    if (tab) selectFilter(tab.dataset.filter);
  });
  $("#queue-tabs").addEventListener("keydown", moveBetweenTabs);
  $("#queue-more").addEventListener("click", () => loadMoreTickets().catch(reportError));
  $("#queue-team").addEventListener("change", (event) => {
    app.teamId = event.target.value;
    refreshQueue().catch(reportError);
  });
  bindQueueKeys($("#ticket-list"));
  bindThread();
  bindComposer(app, act);
  for (const button of $$("#details .actions [data-action]")) {
    button.addEventListener("click", () => runAction(button.dataset.action));
  }
  $("#transfer-form").addEventListener("submit", submitTransfer);
  bindTakeover(app);
  const sound = $("#sound-toggle");
  sound.setAttribute("aria-pressed", String(app.soundOn));
  sound.addEventListener("click", () => {
    app.soundOn = !app.soundOn;
    localStorage.setItem("inbox.sound", app.soundOn ? "on" : "off");
    sound.setAttribute("aria-pressed", String(app.soundOn));
    if (app.soundOn) chime();
  });
  document.addEventListener("keydown", onKey);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && app.currentId !== null) markRead(app.currentId);
  });
  window.addEventListener("hashchange", () => route().catch(reportError));
  // Relative times and SLA colours age while the page is open.
  setInterval(() => {
    if (!app.me) return;
    for (const node of $$("time[datetime]")) node.textContent = ago(node.getAttribute("datetime"));
    renderQueue(app);
  }, 30000);
}

async function boot() {
  bind();
  try {
    const { attendant } = await api("/api/me");
    await start(attendant);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn();
    else showSignIn(error.message);
  }
}

boot();
