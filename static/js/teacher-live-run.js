// One run in the live view, updated in place from each `class.run`: perspective and prompt,
// the stage it is in and how that stage is going, its place in line and the estimate, the
// picture's progress and preview, the text so far, and a button to cancel it. Updating in
// place (never rebuilding) keeps the keyboard focus on the cancel button while text streams.

import { duration, ordinal, t } from "./i18n.js";
import { build } from "./teacher-ui.js";

const ENDED = new Set(["completed", "blocked", "cancelled", "failed"]);

export class LiveRun {
  constructor(ctx) {
    this.ctx = ctx;
    this.run = null;
    this.root = build(TEMPLATE);
    this.part(".live-cancel").addEventListener("click", (event) => ctx.controls.cancel(this.run, event.currentTarget));
  }

  part(selector) {
    return this.root.querySelector(selector);
  }

  update(run) {
    this.run = run;
    const ended = ENDED.has(run.status);
    this.root.dataset.run = run.run;
    this.root.dataset.status = run.status ?? "queued";
    if (run.group) this.root.dataset.group = run.group;
    this.part(".live-perspective").textContent = this.ctx.settings.perspectiveName(run.perspective);
    this.part(".live-prompt").textContent = run.prompt ?? "";
    this.part(".live-stage").textContent = stageWords(run);
    this.part(".live-place").textContent = ended ? "" : placeWords(run);
    this.renderProgress(run, ended);
    this.renderPreview(run, ended);
    this.part(".live-text").textContent = run.text || run.shown || "";
    const cancel = this.part(".live-cancel");
    if (ended && document.activeElement === cancel) this.root.focus(); // the button goes: keep the place
    cancel.hidden = ended;
    cancel.textContent = t("live.cancel");
    return this.root;
  }

  renderProgress(run, ended) {
    const bar = this.part(".live-progress");
    const max = run.progress_max;
    bar.hidden = ended || typeof run.progress !== "number" || !(max > 0);
    if (bar.hidden) return;
    bar.max = max;
    bar.value = Math.min(run.progress, max);
    bar.setAttribute("aria-label", t("live.progress", { value: bar.value, max }));
  }

  // The preview the student sees (the server's, possibly a coarse mosaic), as a data URL.
  renderPreview(run, ended) {
    const img = this.part(".live-preview");
    const image = run.previewImage;
    const source = typeof image === "string" && /^data:image\/(png|jpeg);base64,/.test(image) ? image : null;
    img.hidden = ended || !source;
    if (source && img.getAttribute("src") !== source) img.src = source;
    img.alt = t("live.preview_alt", { nickname: run.nickname ?? "" });
  }
}

// "Picture: waiting", "Picture: working…", or how the run ended.
export function stageWords(run) {
  if (ENDED.has(run.status)) return t(`run.status.${run.status}`);
  if (run.paused) return t("live.paused");
  const waiting = run.place > 0 || !run.stage;
  if (!run.stage) return t("run.status.queued");
  return `${t(`stage.${run.stage}`)}: ${t(waiting ? "stage.waiting" : "stage.started")}`;
}

// "3rd of 7 in line, about 42 s" while the run waits.
export function placeWords(run) {
  if (!(run.place > 0)) return "";
  const place = t("live.place", { place: ordinal(run.place), length: run.length ?? run.place });
  return typeof run.eta === "number" ? `${place}, ${t("live.eta", { eta: duration(run.eta) })}` : place;
}

const TEMPLATE = `
<li class="live-run" tabindex="-1">
  <div class="live-run-head">
    <span class="live-perspective"></span>
    <span class="live-prompt"></span>
    <button type="button" class="live-cancel run-cancel"></button>
  </div>
  <p class="live-stage"></p>
  <p class="live-place muted"></p>
  <progress class="live-progress" hidden></progress>
  <img class="live-preview" hidden alt="">
  <p class="live-text"></p>
</li>`;
