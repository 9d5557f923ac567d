// A class's settings: which perspectives its students are offered, whether they may edit a
// perspective's instructions, how many runs each may have going and waiting, the safety level
// (a class can only be stricter than the server: a looser choice has no effect, and the panel
// says which level is in force) and how long its pictures are kept. Saved with PATCH
// /api/classes/{id} `{"rules": ...}`, which replaces the rules whole. The catalog loaded here
// also names the perspectives for the other views.

import { lang, t } from "./i18n.js";
import { errorKey } from "./teacher-ui.js";

const NUMBERS = ["max_runs_in_flight", "max_queued_runs", "retention_hours"];

export class Settings {
  constructor(details, ctx) {
    this.details = details;
    this.ctx = ctx;
    this.form = details.querySelector("#settings-form");
    this.catalog = null; // {lang, interceptions}
    this.loading = null; // the language of the catalog being fetched
    this.status = null;
    this.filledFor = null; // the class id the form shows, so re-renders keep what is being typed
    this.form.addEventListener("submit", (event) => this.save(event));
  }

  open() {
    this.filledFor = null;
    this.status = null;
    this.loadCatalog();
  }

  async loadCatalog() {
    const wanted = lang();
    if (this.loading === wanted) return; // renders come faster than the answer
    this.loading = wanted;
    const answer = await this.ctx.api.get(`/api/catalog?lang=${encodeURIComponent(wanted)}`);
    this.loading = null;
    if (!answer.ok || wanted !== lang()) return;
    this.catalog = { lang: wanted, interceptions: answer.data?.interceptions ?? [] };
    this.filledFor = null;
    this.ctx.render(); // the live view and the pictures name perspectives from it
  }

  // A perspective's name in the page's language (its id only until the catalog is there).
  perspectiveName(id) {
    if (!id) return "";
    const found = this.catalog?.interceptions.find((item) => item.id === id);
    return found?.name ?? "";
  }

  render() {
    if (this.catalog && this.catalog.lang !== lang()) this.loadCatalog();
    if (this.filledFor !== this.ctx.klass.id && this.catalog) this.fill(this.ctx.klass.rules ?? {});
    const status = this.form.querySelector(".panel-status");
    status.textContent = this.status ? t(this.status) : "";
    status.classList.toggle("form-error", Boolean(this.status?.startsWith("teacher.error")));
    const effective = this.ctx.klass.effective_safety_level ?? this.ctx.klass.safety_level;
    this.form.querySelector(".settings-effective").textContent = effective
      ? t("settings.effective", { level: t(`settings.safety.${effective}`) })
      : "";
  }

  fill(rules) {
    this.filledFor = this.ctx.klass.id;
    const offered = rules.perspectives ?? null;
    const boxes = this.catalog.interceptions.map((item) => {
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "perspective";
      box.value = item.id;
      box.checked = offered === null || offered.includes(item.id);
      label.append(box, ` ${item.name ?? ""}`);
      return label;
    });
    this.form.querySelector(".perspective-choices").replaceChildren(...boxes);
    this.form.elements.edit_instructions.checked = rules.edit_instructions !== false;
    for (const name of NUMBERS) this.form.elements[name].value = rules[name] ?? "";
    this.form.elements.safety_level.value = rules.safety_level ?? "";
  }

  // The rules the form says; null (with the field to fix focused) when it cannot be saved.
  rules() {
    const rules = {};
    const boxes = [...this.form.querySelectorAll('input[name="perspective"]')];
    const chosen = boxes.filter((box) => box.checked).map((box) => box.value);
    if (boxes.length && !chosen.length) return this.refuse("settings.need_perspective", boxes[0]);
    if (chosen.length < boxes.length) rules.perspectives = chosen;
    if (!this.form.elements.edit_instructions.checked) rules.edit_instructions = false;
    for (const name of NUMBERS) {
      const input = this.form.elements[name];
      if (input.value === "") continue;
      const value = Number(input.value);
      if (!Number.isInteger(value) || !input.checkValidity()) return this.refuse("settings.bad_number", input);
      rules[name] = value;
    }
    if (this.form.elements.safety_level.value) rules.safety_level = this.form.elements.safety_level.value;
    return rules;
  }

  refuse(key, field) {
    this.status = key;
    this.render();
    field.focus();
    return null;
  }

  async save(event) {
    event.preventDefault();
    const rules = this.rules();
    if (!rules) return;
    const answer = await this.ctx.api.call("PATCH", this.ctx.base, { rules });
    if (answer.ok) {
      this.status = "settings.saved";
      this.filledFor = null; // show the rules as the server stored them
      this.ctx.update(answer.data ?? { rules });
    } else if (!this.ctx.signedOut(answer)) {
      this.status = errorKey(answer);
      this.render();
    }
    this.form.querySelector('button[type="submit"]').focus();
  }
}
