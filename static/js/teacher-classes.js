// The teacher's classes: creating one, each class's join code (big enough to read from the
// back of a room, and bigger still on the projector), opening its console, a new code, its
// members, deleting it (with its members and their pictures). Emits
// "signedout" when the server no longer takes the teacher's cookie.

import { t } from "./i18n.js";
import { Members } from "./teacher-members.js";
import { askInline, build, errorKey, formatTime, listOf, showCode, syncChildren } from "./teacher-ui.js";

export class ClassList extends EventTarget {
  constructor(section, projector, api) {
    super();
    this.section = section;
    this.projector = projector;
    this.api = api;
    this.list = section.querySelector("#class-list");
    this.cards = new Map(); // class id -> ClassCard, kept so open member lists stay open
    this.classes = null;
    this.status = null;
    this.createError = null;
    section.querySelector("#create-form").addEventListener("submit", (event) => this.create(event));
  }

  async load() {
    this.setStatus("classes.loading");
    const answer = await this.api.get("/api/classes");
    if (this.signedOut(answer)) return;
    if (!answer.ok) return this.setStatus("classes.failed");
    this.classes = listOf(answer.data, "classes");
    this.setStatus(null);
  }

  signedOut(answer) {
    const out = answer.status === 401 || answer.code === "teachers_only";
    if (out) this.dispatchEvent(new Event("signedout"));
    return out;
  }

  async create(event) {
    event.preventDefault();
    const input = this.section.querySelector("#create-name");
    const name = input.value.trim();
    if (!name) return this.setCreateError("create.need_name", input);
    const answer = await this.api.post("/api/classes", { name });
    if (this.signedOut(answer)) return;
    if (!answer.ok) return this.setCreateError(errorKey(answer), input);
    input.value = "";
    this.setCreateError(null);
    this.classes = [answer.data, ...(this.classes ?? []).filter((row) => row.id !== answer.data.id)];
    this.render();
    this.cards.get(answer.data.id)?.root.querySelector("h3").focus();
  }

  render() {
    const rows = this.classes ?? [];
    for (const id of this.cards.keys()) if (!rows.some((row) => row.id === id)) this.cards.delete(id);
    syncChildren(this.list, rows.map((row) => this.card(row).render(row)));
    const status = this.section.querySelector("#classes-status");
    const empty = this.classes !== null && rows.length === 0 && !this.status;
    status.textContent = empty ? t("classes.empty") : this.status ? t(...this.status) : "";
    const error = this.section.querySelector("#create-error");
    error.hidden = !this.createError;
    error.textContent = this.createError ? t(this.createError) : "";
  }

  card(row) {
    let card = this.cards.get(row.id);
    if (!card) {
      card = new ClassCard(this, row.id);
      this.cards.set(row.id, card);
    }
    return card;
  }

  replace(row) {
    if (!this.classes) return; // the console was opened straight from a link: no list yet
    this.classes = this.classes.map((old) => (old.id === row.id ? { ...old, ...row } : old));
    this.render();
  }

  project(row, opener) {
    this.projector.querySelector("#projector-name").textContent = row.name ?? "";
    this.projector.querySelector("#projector-code").textContent = showCode(row.code);
    this.projector.addEventListener("close", () => opener.focus(), { once: true });
    this.projector.showModal();
  }

  setStatus(key, vars = {}) {
    this.status = key ? [key, vars] : null;
    this.render();
  }

  removed(id, name) {
    this.classes = this.classes.filter((row) => row.id !== id);
    this.setStatus("class.deleted", { name });
    this.section.querySelector("#classes-title").focus();
  }

  setCreateError(key, input = null) {
    this.createError = key;
    this.render();
    input?.focus();
  }
}

// One class: its name, code, expiry and buttons; the member list below, loaded when opened.
class ClassCard {
  constructor(owner, id) {
    this.owner = owner;
    this.id = id;
    this.row = null;
    this.members = null;
    this.root = build(TEMPLATE);
    this.root.dataset.class = id;
    this.part(".class-project").addEventListener("click", (event) => owner.project(this.row, event.currentTarget));
    this.part(".class-rotate").addEventListener("click", () => this.rotate());
    this.part(".class-members").addEventListener("click", () => this.toggleMembers());
    this.part(".class-delete").addEventListener("click", () => this.delete());
  }

  part(selector) {
    return this.root.querySelector(selector);
  }

  render(row) {
    this.row = row;
    const expires = row.code_expires ?? null;
    this.part("h3").textContent = row.name ?? "";
    this.part(".class-code-label").textContent = t("class.code");
    this.part(".class-code").textContent = showCode(row.code);
    this.part(".class-expiry").textContent = expires ? t("class.expires", { date: formatTime(expires) }) : t("class.no_expiry");
    const open = this.part(".class-open");
    open.href = `#class-${encodeURIComponent(this.id)}`;
    open.textContent = t("class.open");
    this.part(".class-project").textContent = t("class.project");
    this.part(".class-rotate").textContent = t("class.rotate");
    this.part(".class-delete").textContent = t("class.delete");
    const shown = Boolean(this.members && !this.members.root.hidden);
    const toggle = this.part(".class-members");
    toggle.textContent = t(shown ? "class.members_hide" : "class.members");
    toggle.setAttribute("aria-expanded", String(shown));
    this.members?.render();
    return this.root;
  }

  async rotate() {
    const button = this.part(".class-rotate");
    if (!(await askInline(button, t("class.rotate_confirm")))) return;
    const answer = await this.owner.api.post(`/api/classes/${encodeURIComponent(this.id)}/code`);
    if (this.owner.signedOut(answer)) return;
    if (!answer.ok) return this.owner.setStatus(errorKey(answer));
    this.owner.replace({ ...answer.data, id: this.id });
    this.owner.setStatus("class.rotated");
  }

  async delete() {
    const name = this.row.name ?? "";
    if (!(await askInline(this.part(".class-delete"), t("class.delete_confirm", { name })))) return;
    const answer = await this.owner.api.delete(`/api/classes/${encodeURIComponent(this.id)}`);
    if (this.owner.signedOut(answer)) return;
    if (!answer.ok && answer.status !== 404) return this.owner.setStatus(errorKey(answer));
    this.owner.removed(this.id, name);
  }

  async toggleMembers() {
    if (!this.members) {
      this.members = new Members(this.owner.api, this.id);
      this.root.append(this.members.root);
      this.render(this.row);
      return this.members.load();
    }
    this.members.root.hidden = !this.members.root.hidden;
    this.render(this.row);
    if (!this.members.root.hidden) await this.members.load();
  }
}

const TEMPLATE = `
<li class="class-card">
  <h3 tabindex="-1"></h3>
  <p class="class-code-label"></p>
  <p class="class-code"></p>
  <p class="class-expiry muted"></p>
  <div class="class-actions">
    <a class="class-open link-button"></a>
    <button type="button" class="class-project primary"></button>
    <button type="button" class="class-rotate secondary"></button>
    <button type="button" class="class-members secondary" aria-expanded="false"></button>
    <button type="button" class="class-delete secondary"></button>
  </div>
</li>`;
