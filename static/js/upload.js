// The picture a run starts from (image-to-image): file picker, the tablet's camera, drag and
// drop onto the composer, a progress bar while it is sent (XMLHttpRequest: fetch reports no
// upload progress, and a classroom's shared line makes a picture take many seconds), the
// thumbnail and "remove picture". Offered only where the chosen perspective's output takes an
// image (the catalog says so). The server checks every file; the child reads one of our
// sentences for each refusal, chosen by the stable code, never the server's text.
// Also: the small "started from" thumbnail of a run card (runview.js calls showInput).

import { t, translatePage } from "./i18n.js";
import "./strings-upload.js";

export const ACCEPT = "image/png,image/jpeg,image/webp";
const REFUSALS = {
  upload_too_large: "upload.too_large",
  upload_not_image: "upload.not_image",
  upload_bad_image: "upload.bad_image",
  upload_limit: "upload.limit",
  offline: "upload.offline",
};

// The socket's refusals of a run.start's `image` (docs/protocol.md), as the child's sentence.
const START_REFUSALS = {
  unknown_upload: "upload.gone",
  image_not_accepted: "upload.not_here",
  image_required: "upload.required",
};

export function startRefusal(code) {
  return START_REFUSALS[code] ? t(START_REFUSALS[code]) : null;
}

export class ImageUpload {
  constructor(root, dropZone, api) {
    this.root = root;
    this.api = api;
    this.outputs = new Map(); // output id -> its catalog entry
    this.config = null; // the chosen perspective while it takes an image; null: hidden
    this.state = "empty"; // empty | sending | ready
    this.upload = null; // the server's answer {id, width, height, url} once sent
    this.xhr = null;
    this.attempt = 0; // which choice is being sent: a newer one makes an older answer moot
    this.preview = null; // the chosen file's object URL, shown while it is sent
    this.file = null; // the chosen file itself, sent again for the next run
    this.maxBytes = null; // the server's bound, once the welcome names it
    root.innerHTML = TEMPLATE; // our own constant markup; texts go in through t()
    this.el = (name) => root.querySelector(`.upload-${name}`);
    for (const input of root.querySelectorAll("input[type=file]")) {
      input.accept = ACCEPT;
      input.addEventListener("change", () => this.picked(input));
    }
    this.el("choose").addEventListener("click", () => this.el("file").click());
    this.el("camera").addEventListener("click", () => this.el("photo").click());
    this.el("remove").addEventListener("click", () => this.remove());
    this.el("camera").hidden = !matchMedia("(pointer: coarse)").matches; // tablets and phones
    this.watchDrops(dropZone);
    this.render();
  }

  // The catalog's outputs say which take an image (`accepts_image`, `requires_image`); a
  // perspective may say so itself.
  setCatalog(catalog) {
    this.outputs = new Map((catalog.outputs ?? []).map((output) => [output.id, output]));
  }

  flag(config, name) {
    return Boolean(config && (config[name] || this.outputs.get(config.output)?.[name]));
  }

  // Shown for a single run whose perspective takes an image; a compare sends none.
  offer(config, comparing) {
    this.config = !comparing && this.flag(config, "accepts_image") ? config : null;
    this.render();
  }

  // The upload id for run.start, or null (none chosen, or this perspective takes none).
  field() {
    return this.config && this.state === "ready" ? this.upload.id : null;
  }

  // The run this page just started took the picture (run.accepted's `input`): that upload is
  // the run's now. The picture stays in the composer as the prompt does (children change one
  // word and go again): the same file is sent again for the next run, quietly; "remove" if
  // they want none.
  used(input) {
    if (!input || input !== this.upload?.url) return;
    this.upload = null; // not deleted: the run holds it
    this.send(this.file, { again: true });
  }

  // Why a start cannot go yet (as composer.problem() answers), or null.
  problem() {
    if (!this.config) return null;
    if (this.state === "sending") return { key: "upload.wait" };
    if (this.state !== "ready" && this.flag(this.config, "requires_image")) return { key: "upload.required" };
    return null;
  }

  picked(input) {
    const file = input.files?.[0];
    input.value = ""; // the same file chosen again is a new choice
    if (file) this.send(file);
  }

  watchDrops(zone) {
    const files = (event) => this.config && [...(event.dataTransfer?.types ?? [])].includes("Files");
    zone.addEventListener("dragover", (event) => {
      if (!files(event)) return;
      event.preventDefault();
      zone.classList.add("upload-dropping");
    });
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("upload-dropping");
    });
    zone.addEventListener("drop", (event) => {
      zone.classList.remove("upload-dropping");
      if (!files(event)) return;
      event.preventDefault();
      const dropped = [...event.dataTransfer.files];
      if (dropped.length > 1) return this.refused("upload.one");
      if (dropped.length === 1) this.send(dropped[0]);
    });
  }

  // The welcome's limits; `max_upload_bytes`, where the server names it, refuses a too-big
  // photo at once instead of after minutes on a slow line.
  setLimits(limits) {
    this.maxBytes = limits?.max_upload_bytes ?? null;
  }

  async send(file, { again = false } = {}) {
    await this.discard(); // one picture per run: a new choice replaces the old one
    const attempt = ++this.attempt;
    this.file = file;
    if (this.maxBytes && file.size > this.maxBytes) return this.refused("upload.too_large");
    this.state = "sending";
    this.preview = URL.createObjectURL(file);
    this.showError(null);
    this.progress(0);
    this.render();
    const current = () => attempt === this.attempt && this.state === "sending"; // not replaced or removed
    let answer = await this.post(file);
    if (answer.code === "csrf" && (await this.renewCsrf()) && current()) answer = await this.post(file);
    if (!current()) return this.forget(answer);
    if (!answer.ok) return this.refused(again ? null : REFUSALS[answer.code] ?? "upload.failed");
    this.upload = answer.data;
    this.state = "ready";
    this.render(); // the server's cleaned picture (turned upright) replaces the local one
    URL.revokeObjectURL(this.preview);
    this.preview = null;
    if (!again) this.announce(t("upload.ready"));
  }

  // POST /api/uploads with the CSRF token as api.js sends it; resolves to api.js's shape.
  post(file) {
    const form = new FormData();
    form.append("image", file, file.name || "picture");
    const xhr = (this.xhr = new XMLHttpRequest());
    xhr.open("POST", "/api/uploads");
    xhr.setRequestHeader("Accept", "application/json");
    if (this.api.csrf) xhr.setRequestHeader("X-CSRF-Token", this.api.csrf);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) this.progress(event.loaded / event.total);
    });
    return new Promise((resolve) => {
      const fail = (code) => resolve({ ok: false, status: 0, data: null, code });
      xhr.addEventListener("load", () => resolve(answerOf(xhr)));
      xhr.addEventListener("error", () => fail("offline"));
      xhr.addEventListener("abort", () => fail("aborted"));
      xhr.send(form);
    });
  }

  // A picture the server took after the child removed it is deleted there too.
  forget(answer) {
    if (answer.ok) this.api.delete(`/api/uploads/${encodeURIComponent(answer.data.id)}`);
  }

  async renewCsrf() {
    const me = await this.api.get("/api/me");
    this.api.csrf = me.ok ? me.data?.csrf ?? null : this.api.csrf;
    return me.ok;
  }

  progress(fraction) {
    const percent = Math.round(Math.min(1, Math.max(0, fraction)) * 100);
    this.el("bar").value = percent;
    this.el("percent").textContent = t("upload.sending", { n: percent });
  }

  // "Remove picture" (or "stop sending"): the server deletes what it holds at once.
  async remove() {
    await this.discard();
    this.render();
    this.announce(t("upload.removed"));
    this.el("choose").focus(); // the removed button is hidden: the focus stays in the control
  }

  async discard() {
    const { upload, xhr } = this;
    this.state = "empty";
    this.upload = this.xhr = this.file = null;
    if (this.preview) URL.revokeObjectURL(this.preview);
    this.preview = null;
    xhr?.abort();
    if (upload) await this.api.delete(`/api/uploads/${encodeURIComponent(upload.id)}`);
  }

  refused(key) {
    this.discard();
    this.render();
    this.showError(key);
  }

  // By its key (data-i18n), so a language switch translates a refusal already shown.
  showError(key) {
    const box = this.el("error");
    if (key) box.dataset.i18n = key;
    else delete box.dataset.i18n;
    box.textContent = key ? t(key) : "";
    box.hidden = !key;
  }

  announce(text) {
    this.el("status").textContent = text;
  }

  render() {
    this.root.hidden = !this.config;
    translatePage(this.root);
    const need = this.flag(this.config, "requires_image");
    this.el("need").textContent = t(need ? "upload.needed" : "upload.optional");
    this.el("sending").hidden = this.state !== "sending";
    this.el("chosen").hidden = this.state === "empty";
    this.el("remove").textContent = t(this.state === "sending" ? "upload.stop" : "upload.remove");
    const img = this.el("thumb");
    const src = this.upload?.url ?? this.preview;
    if (src && img.getAttribute("src") !== src) img.src = src;
    img.alt = t("upload.alt");
    this.root.dataset.state = this.state;
  }
}

function answerOf(xhr) {
  let data = null;
  try {
    data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
  } catch {
    data = null; // a proxy's HTML error page
  }
  const ok = xhr.status >= 200 && xhr.status < 300;
  const code = ok ? null : data?.error?.code ?? (xhr.status === 413 ? "upload_too_large" : `http_${xhr.status}`);
  return { ok, status: xhr.status, data, code };
}

// A run card's "started from" thumbnail: the run's input picture (run.accepted's `input`),
// made the first time a run has one. `card` is the run's <li>. The upload's URL serves it
// while the server remembers the upload; after a restart a completed run still has it beside
// its pictures (/media/{run}/input.png), any other run none.
export function showInput(card, run) {
  let img = card.querySelector(".run-input");
  if (!run.input && !img) return;
  if (!img) {
    img = document.createElement("img");
    img.className = "run-input";
    img.decoding = "async";
    img.addEventListener("error", () => inputMissing(img, run.id));
    card.querySelector(".run-head").append(img);
  }
  if (run.input && img.dataset.input !== run.input) img.dataset.input = img.src = run.input;
  img.dataset.status = run.status;
  img.hidden = !run.input || img.dataset.missing === "1";
  img.alt = t("run.input_alt");
}

function inputMissing(img, runId) {
  const kept = `/media/${encodeURIComponent(runId)}/input.png`;
  if (img.dataset.status === "completed" && !img.src.endsWith(kept)) {
    img.src = kept;
    return;
  }
  img.dataset.missing = "1";
  img.hidden = true;
}

const TEMPLATE = `
<div class="upload-box" role="group" aria-labelledby="upload-title">
  <p id="upload-title" class="upload-heading"><span data-i18n="upload.title"></span> <span class="upload-need"></span></p>
  <div class="upload-actions">
    <button type="button" class="upload-choose secondary" data-i18n="upload.choose"></button>
    <button type="button" class="upload-camera secondary" data-i18n="upload.camera"></button>
    <input type="file" class="upload-file" hidden>
    <input type="file" class="upload-photo" capture="environment" hidden>
  </div>
  <p class="upload-hint muted" data-i18n="upload.hint"></p>
  <p class="upload-drop-hint" data-i18n="upload.drop"></p>
  <div class="upload-chosen" hidden>
    <img class="upload-thumb" alt="">
    <div class="upload-side">
      <div class="upload-sending" hidden>
        <progress class="upload-bar" max="100" value="0" data-i18n-label="upload.progress"></progress>
        <span class="upload-percent"></span>
      </div>
      <button type="button" class="upload-remove secondary"></button>
    </div>
  </div>
  <p class="upload-error form-error" role="alert" hidden></p>
  <p class="upload-status visually-hidden" role="status"></p>
</div>`;
