// Preparing a workshop: whether each kind of backend (the text machine, the picture machine)
// is ready, in plain words, and "Warm up the models" (the server's warm-up, started once; a
// second press shows the running one's progress). The same readiness is the live view's one
// line about the backends. Read from GET /api/teacher/backends while the class is open: every
// few seconds during a warm-up, now and then otherwise.

import { t } from "./i18n.js";

const SLOW_POLL_MS = 15_000;
const WARMUP_POLL_MS = 2_000;
const KINDS = new Set(["llm", "comfyui"]);
const STATES = new Set(["ready", "starting", "unhealthy", "down", "unknown", "missing"]);
const WARMUP_STATES = new Set(["idle", "running", "done", "failed"]);

export class Preparation {
  constructor(details, ctx, summary) {
    this.details = details;
    this.ctx = ctx;
    this.summary = summary; // the live view's line
    this.backends = null; // the last answer
    this.timer = null;
    this.failed = false;
    details.querySelector(".warmup").addEventListener("click", () => this.warmUp());
  }

  open() {
    this.load();
  }

  close() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  async load() {
    clearTimeout(this.timer);
    const answer = await this.ctx.api.get("/api/teacher/backends");
    if (!this.ctx.klass) return;
    if (this.ctx.signedOut(answer)) return;
    this.failed = !answer.ok;
    if (answer.ok) this.backends = answer.data;
    this.render();
    const running = this.backends?.warmup?.state === "running";
    this.timer = setTimeout(() => this.load(), running ? WARMUP_POLL_MS : SLOW_POLL_MS);
  }

  async warmUp() {
    const button = this.details.querySelector(".warmup");
    const answer = await this.ctx.api.post("/api/teacher/warmup");
    if (this.ctx.failed(answer)) return;
    this.backends = { ...(this.backends ?? {}), warmup: answer.data };
    this.ctx.say("prepare.warmup_started");
    await this.load();
    button.focus();
  }

  render() {
    const kinds = this.backends?.kinds ?? [];
    this.summary.textContent = this.failed ? t("prepare.unknown") : kinds.map(kindWords).join(" ");
    const items = kinds.map((kind) => {
      const li = document.createElement("li");
      li.dataset.kind = kind.kind;
      li.dataset.state = kind.state;
      li.textContent = kindWords(kind);
      const models = (kind.models ?? []).map((model) => t(model.warm ? "prepare.model_warm" : "prepare.model_cold", { name: model.name }));
      if (models.length) {
        const small = document.createElement("span");
        small.className = "backend-models muted";
        small.textContent = models.join(", ");
        li.append(" ", small);
      }
      return li;
    });
    this.details.querySelector(".backend-list").replaceChildren(...items);
    this.renderWarmup(this.backends?.warmup);
  }

  renderWarmup(warmup) {
    const words = this.details.querySelector(".warmup-progress");
    const bar = this.details.querySelector(".warmup-bar");
    const state = WARMUP_STATES.has(warmup?.state) ? warmup.state : "idle";
    words.textContent = state === "idle" ? "" : t(`prepare.warmup.${state}`, warmup);
    bar.hidden = state !== "running" || !(warmup.total > 0);
    if (!bar.hidden) {
      bar.max = warmup.total;
      bar.value = warmup.done;
    }
  }
}

// "The picture machine: ready." in the page's words for each state code.
function kindWords(kind) {
  const name = t(KINDS.has(kind.kind) ? `backend.${kind.kind}` : "backend.other");
  const known = STATES.has(kind.state) ? kind.state : "unknown";
  const state = known === "down" && kind.startable ? "startable" : known;
  return t("prepare.kind", { name, state: t(`prepare.state.${state}`) });
}
