// The form: the prompt with its length limit, the optional meta-prompt editor (prefilled
// from the chosen perspective, sent only when changed) and the start button.
// Emits "start" with the fields of a run.start message (without type, lang and ref), or, with
// "Compare perspectives" on (compare.js), "compare" with a compare.start's prompt and perspectives.

import { t } from "./i18n.js";

export class Composer extends EventTarget {
  constructor(form, cards, picker, upload = null) {
    super();
    this.form = form;
    this.upload = upload; // the picture a run starts from (upload.js), where offered
    this.cards = cards;
    this.picker = picker;
    picker.addEventListener("change", () => this.refresh());
    this.limits = { max_prompt_chars: 2000, max_meta_prompt_chars: 8000 };
    this.edits = new Map(); // perspective id -> edited meta-prompt
    this.connected = false;
    this.sendingRef = null; // the ref of a start sent and not yet answered
    this.el = (id) => form.querySelector(`#${id}`);
    this.el("prompt").addEventListener("input", () => this.refresh());
    this.el("meta-prompt").addEventListener("input", () => this.metaEdited());
    this.el("meta-reset").addEventListener("click", () => this.resetMeta());
    form.addEventListener("submit", (event) => this.submit(event));
    cards.addEventListener("change", () => this.loadMeta());
  }

  setLimits(limits) {
    this.limits = { ...this.limits, ...limits };
    this.el("prompt").maxLength = this.limits.max_prompt_chars;
    this.el("meta-prompt").maxLength = this.limits.max_meta_prompt_chars;
    // A class whose teacher turned editing off: no editor, and no edit is sent.
    this.el("meta").hidden = this.limits.edit_instructions === false;
    this.refresh();
  }

  setConnected(connected) {
    this.connected = connected;
    this.refresh();
  }

  // From the click to the server's answer for that ref (run.accepted or error) the button says
  // "sending…" and a second click sends nothing: one click, one run (the server also answers a
  // repeated ref with the same run: server/engine/repeats.py). Not `disabled`: focus stays.
  sending(ref) {
    this.sendingRef = ref;
    this.refresh();
  }

  answered(ref) {
    if (ref && ref === this.sendingRef) this.sending(null);
  }

  loadMeta() {
    const config = this.cards.current();
    const editor = this.el("meta-prompt");
    editor.value = config ? this.edits.get(config.id) ?? config.meta_prompt : "";
    const passthrough = !config || config.passthrough || !config.meta_prompt;
    editor.hidden = this.el("meta-foot").hidden = passthrough;
    this.el("meta-none").hidden = !passthrough;
    this.refresh();
  }

  metaEdited() {
    const config = this.cards.current();
    if (!config) return;
    const value = this.el("meta-prompt").value;
    if (value === config.meta_prompt) this.edits.delete(config.id);
    else this.edits.set(config.id, value);
    this.refresh();
  }

  resetMeta() {
    const config = this.cards.current();
    if (config) this.edits.delete(config.id);
    this.loadMeta();
  }

  refresh() {
    const prompt = this.el("prompt").value;
    const max = this.limits.max_prompt_chars;
    const count = this.el("prompt-count");
    count.textContent = t("compose.count", { n: prompt.length, max });
    count.classList.toggle("over", prompt.length > max);
    const meta = this.el("meta-prompt").value;
    const metaMax = this.limits.max_meta_prompt_chars;
    this.el("meta-count").textContent = t("meta.count", { n: meta.length, max: metaMax });
    this.el("meta-edited").hidden = !this.edits.has(this.cards.current()?.id);
    const start = this.el("start");
    start.disabled = !this.connected;
    const n = this.picker.chosen.size;
    const ready = this.picker.on ? t("compare.start", { n: Math.max(n, 2) }) : t("compose.start");
    start.setAttribute("aria-disabled", String(this.sendingRef !== null));
    if (this.sendingRef !== null) start.textContent = t("compose.sending");
    else start.textContent = this.connected ? ready : t("compose.wait_connection");
  }

  submit(event) {
    event.preventDefault();
    if (this.sendingRef !== null) return; // the second click of a double click
    const problem = this.problem();
    this.showError(problem ? t(problem.key, problem.vars) : "");
    if (problem) return;
    if (this.picker.on) {
      const detail = { prompt: this.el("prompt").value.trim(), perspectives: this.picker.perspectives() };
      return this.dispatchEvent(new CustomEvent("compare", { detail }));
    }
    const config = this.cards.current();
    const fields = { prompt: this.el("prompt").value.trim(), interception: config.id };
    const editable = this.limits.edit_instructions !== false;
    if (editable && this.edits.has(config.id)) fields.meta_prompt = this.edits.get(config.id);
    const image = this.upload?.field();
    if (image) fields.image = image;
    this.dispatchEvent(new CustomEvent("start", { detail: fields }));
  }

  problem() {
    const prompt = this.el("prompt").value.trim();
    const max = this.limits.max_prompt_chars;
    if (this.picker.on && this.picker.problem()) return this.picker.problem();
    if (!this.picker.on && !this.cards.current()) return { key: "compose.need_perspective" };
    if (!this.picker.on && this.upload?.problem()) return this.upload.problem();
    if (!prompt) return { key: "compose.need_prompt" };
    if (prompt.length > max) return { key: "compose.too_long", vars: { n: prompt.length, max } };
    return null;
  }

  showError(text) {
    const box = this.el("form-error");
    box.textContent = text;
    box.hidden = !text;
  }
}
