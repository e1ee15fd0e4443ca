// The composer's files: picked, dropped or pasted, uploaded to the ticket at once, previewed
// (a thumbnail for images, name and size for the rest) with Remove, then sent with the reply by
// id. The service checks the size and the real type of each file; the Inbox checks the size
// first only to say so sooner, and shows the service's own words when it refuses a file.

import { upload } from "./api.js";
import { $, fill, h, icon } from "./dom.js";

let app = null;
let limits = null;
// { key, ticketId, name, size, mime, state: "uploading" | "ready", file: {id, ...} }
let drafts = [];
let counter = 0;

export const filePath = (ticketId, fileId) =>
  `/api/tickets/${ticketId}/attachments/${encodeURIComponent(fileId)}`;

export function formatSize(bytes) {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  if (bytes >= 1_000) return `${Math.round(bytes / 1_000)} kB`;
  return `${bytes} bytes`;
}

function showError(message) {
  const box = $("#attachment-error");
  box.textContent = message;
  box.hidden = !message;
}

function render() {
  const list = $("#attachment-previews");
  list.hidden = drafts.length === 0;
  fill(
    list,
    drafts.map((draft) =>
      h(
        "li",
        { class: `attachment-preview ${draft.state}`, dataset: { name: draft.name } },
        draft.state === "ready" && draft.file.mime_type.startsWith("image/")
          ? h("img", { src: filePath(draft.ticketId, draft.file.id), alt: draft.name })
          : icon("file"),
        h("span", { class: "attachment-name" }, draft.name),
        h("span", { class: "muted" }, draft.state === "uploading" ? "Uploading…" : formatSize(draft.size)),
        h(
          "button",
          { type: "button", class: "link", "aria-label": `Remove ${draft.name}`, onclick: () => remove(draft.key) },
          "Remove",
        ),
      ),
    ),
  );
  $("#send").toggleAttribute("data-uploading", uploading());
}

async function loadLimits() {
  if (!limits) limits = await app.api("/api/attachments/limits");
  return limits;
}

/** Upload each file to the open ticket; a refusal (too large, a disguised type) is shown and
 *  stores nothing. */
export async function addFiles(fileList) {
  const ticket = app.detail;
  const files = [...(fileList || [])];
  if (!ticket || !files.length) return;
  showError("");
  const { max_bytes: maxBytes } = await loadLimits();
  const refusals = [];
  await Promise.all(
    files.map(async (file) => {
      const name = file.name || "pasted-image.png";
      if (file.size > maxBytes) {
        refusals.push(`${name} is ${formatSize(file.size)}; the limit is ${formatSize(maxBytes)}. Nothing was sent.`);
        return;
      }
      const draft = { key: ++counter, ticketId: ticket.id, name, size: file.size, state: "uploading" };
      drafts.push(draft);
      render();
      try {
        const answer = await upload(`/api/tickets/${ticket.id}/attachments?name=${encodeURIComponent(name)}`, file);
        Object.assign(draft, { state: "ready", file: answer.attachment, size: answer.attachment.size });
      } catch (error) {
        drafts = drafts.filter((d) => d !== draft);
        refusals.push(error.message);
      }
      render();
    }),
  );
  showError(refusals.join(" "));
}

async function remove(key) {
  const draft = drafts.find((d) => d.key === key);
  if (!draft) return;
  drafts = drafts.filter((d) => d !== draft);
  render();
  if (draft.state === "ready") {
    await app.api(filePath(draft.ticketId, draft.file.id), { method: "DELETE" }).catch((error) => showError(error.message));
  }
}

export const uploading = () => drafts.some((d) => d.state === "uploading");

/** What the reply sends: the ready uploads of this ticket, by id. */
export function readyAttachments(ticketId) {
  return drafts.filter((d) => d.state === "ready" && d.ticketId === ticketId).map((d) => ({ file_id: d.file.id }));
}

/** Forget the drafts: after a send (they were sent), or when leaving the ticket (`discard`:
 *  the uploads nobody sent are deleted on the service). */
export function clearAttachments({ discard = false } = {}) {
  const left = drafts;
  drafts = [];
  showError("");
  if (app) render();
  if (discard) {
    for (const draft of left.filter((d) => d.state === "ready")) {
      app.api(filePath(draft.ticketId, draft.file.id), { method: "DELETE" }).catch(() => {});
    }
  }
}

function filesOf(transfer) {
  return [...(transfer?.files || [])];
}

export function bindAttachments(theApp) {
  app = theApp;
  const picker = $("#attachment-file");
  $("#attach-toggle").addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    addFiles(picker.files);
    picker.value = "";
  });
  const form = $("#composer");
  form.addEventListener("dragover", (event) => {
    if (!event.dataTransfer?.types?.includes("Files")) return;
    event.preventDefault();
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", () => form.classList.remove("dropping"));
  form.addEventListener("drop", (event) => {
    form.classList.remove("dropping");
    const files = filesOf(event.dataTransfer);
    if (!files.length) return;
    event.preventDefault();
    if (!$("#attach-toggle").disabled) addFiles(files);
  });
  $("#composer-text").addEventListener("paste", (event) => {
    const files = filesOf(event.clipboardData);
    if (!files.length || $("#attach-toggle").disabled) return;
    event.preventDefault();
    addFiles(files);
  });
}
