// The join form: class code and nickname, and the teacher's PIN once the server says the
// nickname is taken (the PIN is what lets a student back in on another device). Emits "joined"
// (detail: the server's answer) and "cancel". Errors are kept as keys, so a language switch
// translates the one on screen too.

import { t } from "./i18n.js";

// Server codes with a sentence of their own; anything else reads as "did not work".
const KNOWN = new Set([
  "invalid_nickname",
  "unknown_code",
  "code_expired",
  "nickname_taken",
  "wrong_pin",
  "nickname_locked",
  "class_full",
  "rate_limited",
  "offline",
]);

export class JoinForm extends EventTarget {
  constructor(form, api) {
    super();
    this.form = form;
    this.api = api;
    this.errorKey = null;
    this.busy = false;
    this.el = (id) => form.querySelector(`#${id}`);
    form.addEventListener("submit", (event) => this.submit(event));
    this.el("join-cancel").addEventListener("click", () => this.dispatchEvent(new Event("cancel")));
    // A different nickname is a different person: the PIN was for the one that was taken.
    this.el("join-nickname").addEventListener("input", () => this.askPin(false));
  }

  show({ cancellable = false, notice = null } = {}) {
    this.el("join-cancel").hidden = !cancellable;
    this.setError(notice);
    this.el(this.el("join-code").value ? "join-nickname" : "join-code").focus();
  }

  async submit(event) {
    event.preventDefault();
    if (this.busy) return;
    const fields = this.fields();
    const missing = !fields.code ? "join-code" : !fields.nickname ? "join-nickname" : null;
    if (missing) return this.fail(missing === "join-code" ? "join.need_code" : "join.need_nickname", missing);
    this.setBusy(true);
    const answer = await this.api.post("/api/join", fields);
    this.setBusy(false);
    if (answer.ok) return this.joined(answer.data);
    this.refused(answer.code);
  }

  fields() {
    const fields = {
      code: this.el("join-code").value.trim(),
      nickname: this.el("join-nickname").value.trim(),
    };
    const pin = this.el("join-pin").value.trim();
    if (!this.el("join-pin-row").hidden && pin) fields.pin = pin;
    return fields;
  }

  joined(data) {
    this.setError(null);
    this.el("join-pin").value = "";
    this.askPin(false);
    this.dispatchEvent(new CustomEvent("joined", { detail: data ?? {} }));
  }

  refused(code) {
    const key = `join.error.${KNOWN.has(code) ? code : "generic"}`;
    if (code === "nickname_taken" || code === "wrong_pin") {
      this.askPin(true);
      return this.fail(key, "join-pin");
    }
    const field = code === "invalid_nickname" ? "join-nickname" : code === "rate_limited" ? null : "join-code";
    this.fail(key, field);
  }

  fail(key, field) {
    this.setError(key);
    if (field) this.el(field).focus();
  }

  askPin(on) {
    this.el("join-pin-row").hidden = !on;
    if (!on) this.el("join-pin").value = "";
  }

  setBusy(busy) {
    this.busy = busy;
    const button = this.el("join-submit");
    button.disabled = busy;
    button.textContent = t(busy ? "join.busy" : "join.submit");
  }

  setError(key) {
    this.errorKey = key;
    this.refresh();
  }

  // Re-renders what depends on the language.
  refresh() {
    const box = this.el("join-error");
    box.textContent = this.errorKey ? t(this.errorKey) : "";
    box.hidden = !this.errorKey;
    this.el("join-submit").textContent = t(this.busy ? "join.busy" : "join.submit");
  }
}
