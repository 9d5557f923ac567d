// One run's live view: header with perspective, prompt, status and cancel; the waiting line;
// the reason with "try again" for a run that was lost or failed; the four stages with their
// texts, verdicts and timings; the progress bar; the picture.
// render() is idempotent: it is called for every change and on a language switch.

import { duration, elapsed, ordinal, t } from "./i18n.js";
import { STAGES, canRetry, etaLeft, isFinal, waitingStage } from "./runstate.js";
import "./strings-words.js";
import { showInput } from "./upload.js";

// `checking`: the picture is made and a vision model looks at it before it is shown (kids, youth).
const MARKS = { pending: "○", waiting: "⏳", started: "◐", checking: "🔍", done: "✓", skipped: "–", stopped: "■", blocked: "✋", failed: "!" };

export class RunView {
  constructor(runId, { onCancel, onRetry, perspective }) {
    this.perspective = perspective;
    this.root = build(TEMPLATE);
    this.root.dataset.run = runId;
    this.cancelButton = this.part(".run-cancel");
    // Disabled only once the request is on its way: offline, the child can press it again.
    // aria-disabled, not disabled: a disabled button drops the keyboard focus to the page.
    this.cancelButton.addEventListener("click", () => {
      if (this.cancelButton.ariaDisabled === "true") return;
      this.cancelButton.ariaDisabled = String(onCancel(runId));
    });
    this.part(".run-retry").addEventListener("click", () => onRetry(runId));
  }

  part(selector) {
    return this.root.querySelector(selector);
  }

  render(run) {
    const final = isFinal(run);
    const waiting = waitingStage(run);
    this.root.dataset.status = run.status;
    this.root.dataset.phase = final ? "ended" : waiting ? "waiting" : "working";
    this.renderHead(run, final, waiting);
    this.renderEta(run, waiting);
    this.renderWait(run, waiting);
    this.renderReason(run);
    for (const name of STAGES) this.renderStage(run, name, waiting === name);
    this.renderPicture(run);
    showInput(this.root, run); // the picture it started from (image-to-image)
  }

  renderHead(run, final, waiting) {
    const config = this.perspective(run.interception);
    this.root.style.setProperty("--accent", config?.color ?? "#6c757d");
    this.part(".run-icon").textContent = config?.icon ?? "🎨";
    this.part(".run-perspective").textContent = config?.name ?? run.interception ?? "";
    this.part(".run-prompt").textContent = run.prompt;
    // In line for a stage's machine, the run is waiting, not working (its badge is yellow too).
    this.part(".run-status").textContent = t(waiting ? "run.status.queued" : `run.status.${run.status}`);
    this.keepFocus(final);
    this.cancelButton.hidden = final;
    this.cancelButton.textContent = t("run.cancel");
    this.part(".run-total").textContent = run.total != null ? t("run.total", { time: elapsed(run.total) }) : "";
  }

  // A run that ends hides its cancel button; if the focus was on it, the card keeps it (a
  // keyboard user stays on this run instead of starting over at the top of the page).
  keepFocus(final) {
    if (final && document.activeElement === this.cancelButton) this.part(".run-card").focus();
  }

  renderReason(run) {
    const reason = this.part(".run-reason-text");
    reason.textContent = run.status === "lost" ? t("run.lost") : run.status === "completed" ? "" : run.reason ?? "";
    const retry = this.part(".run-retry");
    retry.hidden = !canRetry(run);
    retry.textContent = t("run.retry");
    this.part(".run-reason").hidden = (!reason.textContent || run.status === "cancelled") && retry.hidden;
  }

  // One estimate for the whole run, counted down, with the step it is at beneath (while a
  // stage waits, the waiting line below is that step). Nothing when nobody has measured it.
  renderEta(run, waiting) {
    const box = this.part(".run-eta");
    const left = etaLeft(run);
    box.hidden = left == null;
    if (left == null) return;
    this.part(".run-eta-time").textContent = left >= 1 ? t("eta.whole", { eta: about(left) }) : t("eta.soon");
    const index = STAGES.indexOf(run.stage);
    const step = this.part(".run-eta-step");
    step.hidden = Boolean(waiting) || index < 0;
    step.textContent = step.hidden ? "" : t("eta.step", { stage: t(`stage.${run.stage}`), n: index + 1, total: STAGES.length });
  }

  renderWait(run, waiting) {
    const line = this.part(".run-wait");
    line.hidden = !waiting;
    if (!waiting) return;
    line.querySelector(".run-wait-text").textContent = queueText(run.queue, etaLeft(run) != null);
  }

  renderStage(run, name, waiting) {
    const item = this.part(`.stage[data-stage="${name}"]`);
    const stage = run.stages[name];
    const status = waiting ? "waiting" : stage.status;
    item.dataset.status = status;
    item.querySelector(".stage-mark").textContent = MARKS[status] ?? "○";
    item.querySelector(".stage-name").textContent = t(`stage.${name}`);
    item.querySelector(".stage-state").textContent = t(`stage.${status}`);
    const time = stage.elapsed != null ? elapsed(stage.elapsed) : "";
    item.querySelector(".stage-time").textContent = time;
    const text = shownText(name, stage, run.texts[name]);
    item.querySelector(".stage-text").textContent = text;
    if (name === "translation") item.querySelector(".stage-label").textContent = text ? t("translation.label") : "";
    const note = stageNote(name, stage);
    item.querySelector(".stage-note").textContent = note === run.reason ? "" : note; // shown above
    if (name === "generation") this.renderProgress(item, run);
  }

  renderProgress(item, run) {
    const bar = item.querySelector("progress");
    const label = item.querySelector(".progress-label");
    const shown = run.progress && run.stages.generation.status === "started";
    bar.hidden = label.hidden = !shown;
    if (!shown) return;
    bar.max = run.progress.max;
    bar.value = run.progress.value;
    label.textContent = t("generation.steps", run.progress);
  }

  renderPicture(run) {
    const figure = this.part(".run-picture");
    const img = figure.querySelector("img");
    const output = run.outputs.find(Boolean);
    const src = output?.url ?? (isFinal(run) ? null : run.preview);
    figure.hidden = !src;
    figure.dataset.kind = output ? "final" : "preview";
    if (src && img.getAttribute("src") !== src) img.src = src;
    img.alt = output ? t("run.image_alt", { prompt: run.prompt }) : t("run.preview_alt");
    const link = figure.querySelector("a");
    link.hidden = !output;
    link.textContent = t("run.download");
    if (output) {
      link.href = output.url;
      link.download = output.url.split("/").pop();
    }
  }
}

// The place in line; with the whole run's estimate above it, the step and place only (a second
// "about ..." for this step alone would start over at every stage).
export function queueText(queue, whole = false) {
  if (queue.paused) return t("queue.paused");
  if (queue.stage === null) return t("queue.session");
  const place = { ord: ordinal(queue.position), n: queue.position };
  if (whole) return t("queue.step", { ...place, stage: t(`stage.${queue.stage}`) });
  if (queue.eta == null) return t("queue.estimating", place);
  const left = Math.max(1, queue.eta - (Date.now() - queue.at) / 1000);
  return t("queue.ahead", { ...place, eta: duration(left) });
}

// A whole-run estimate in the words a child reads: to 5 s under a minute, in minutes above.
function about(seconds) {
  if (seconds < 60) return duration(Math.ceil(seconds / 5) * 5);
  return t("eta.minutes", { m: Math.round(seconds / 60) });
}

// The translation stage shows its text once, only when it is a translation: a text that needed
// none is the re-imagined one again, already shown above it.
function shownText(name, stage, text) {
  if (name === "translation" && stage.status === "done" && !stage.detail?.translated) return "";
  return text ?? "";
}

function stageNote(name, stage) {
  const detail = stage.detail ?? {};
  if (stage.status === "blocked" || stage.status === "failed") return stage.reason ?? "";
  if (stage.status === "skipped" && name === "interception") return t("interception.skipped");
  if (stage.status === "stopped" && name === "interception") return t("interception.stopped");
  if (stage.status !== "done") return "";
  if (name === "safety") return t("verdict.ok");
  if (name === "translation") {
    const checked = detail.checks?.includes("llm") ? t("verdict.final_ok") : "";
    return detail.translated ? checked : `${t("verdict.unchanged")} ${checked}`.trim();
  }
  if (name === "generation" && detail.seed != null) return t("generation.number", { seed: detail.seed });
  return "";
}

const TEMPLATE = `
<li class="run">
  <article class="run-card" tabindex="-1">
    <header class="run-head">
      <span class="run-icon" aria-hidden="true"></span>
      <div class="run-title">
        <span class="run-perspective"></span>
        <q class="run-prompt"></q>
      </div>
      <span class="run-status"></span>
      <button type="button" class="run-cancel"></button>
    </header>
    <div class="run-eta" hidden><p class="run-eta-time"></p><p class="run-eta-step" hidden></p></div>
    <p class="run-wait" hidden><span class="hourglass" aria-hidden="true">⏳</span><span class="run-wait-text"></span></p>
    <div class="run-reason" hidden><p class="run-reason-text"></p><button type="button" class="run-retry secondary" hidden></button></div>
    <div class="run-body">
      <ol class="stages">
        ${STAGES.map(stageItem).join("")}
      </ol>
      <figure class="run-picture" hidden>
        <img alt="">
        <figcaption><a class="run-download" hidden></a><span class="run-total"></span></figcaption>
      </figure>
    </div>
  </article>
</li>`;

function stageItem(name) {
  const label = name === "translation" ? `<p class="stage-label"></p>` : "";
  const progress = name === "generation"
    ? `<progress max="1" value="0" hidden></progress><span class="progress-label" hidden></span>`
    : "";
  return `<li class="stage" data-stage="${name}">
    <div class="stage-head"><span class="stage-mark" aria-hidden="true"></span><span class="stage-name"></span><span class="stage-state"></span><span class="stage-time"></span></div>
    ${label}<p class="stage-text"></p><p class="stage-note"></p>${progress}
  </li>`;
}

// The template is our own constant markup; every server text goes in through textContent.
function build(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}
