// One class's members on the teacher page: their nicknames, a one-time PIN for a member who
// wants to join again on another device, and removing a member (after a yes/no question).

import { t } from "./i18n.js";
import { askInline, build, errorKey, formatTime, listOf } from "./teacher-ui.js";

export class Members {
  constructor(api, classId) {
    this.api = api;
    this.base = `/api/classes/${encodeURIComponent(classId)}/members`;
    this.root = build(TEMPLATE);
    this.list = this.root.querySelector(".member-list");
    this.members = null; // not loaded yet
    this.pins = new Map(); // member id -> the PIN just made, kept across re-renders
    this.status = null; // [key, vars]
  }

  async load() {
    this.setStatus("members.loading");
    const answer = await this.api.get(this.base);
    if (!answer.ok) return this.setStatus(errorKey(answer));
    this.members = listOf(answer.data, "members");
    this.setStatus(null);
  }

  render() {
    const members = this.members ?? [];
    this.list.replaceChildren(...members.map((member) => this.item(member)));
    const status = this.root.querySelector(".members-status");
    const empty = this.members !== null && members.length === 0 && !this.status;
    status.textContent = empty ? t("members.empty") : this.status ? t(...this.status) : "";
  }

  item(member) {
    const item = build(ITEM);
    item.dataset.member = member.id;
    item.querySelector(".member-name").textContent = member.nickname ?? "";
    const pin = item.querySelector(".member-pin-button");
    pin.textContent = t("member.pin");
    pin.addEventListener("click", () => this.makePin(member));
    const remove = item.querySelector(".member-remove");
    remove.textContent = t("member.remove");
    remove.addEventListener("click", () => this.remove(member, remove));
    const made = this.pins.get(member.id);
    const shown = item.querySelector(".member-pin");
    shown.hidden = !made;
    if (made) shown.textContent = t("member.pin_shown", { ...made, nickname: member.nickname });
    return item;
  }

  async makePin(member) {
    const answer = await this.api.post(`${this.base}/${encodeURIComponent(member.id)}/pin`);
    if (!answer.ok) return this.setStatus(errorKey(answer));
    const time = formatTime(answer.data?.expires, { timeStyle: "short" });
    this.pins.set(member.id, { pin: String(answer.data?.pin ?? ""), time });
    this.setStatus(null);
    const item = this.list.querySelector(`[data-member="${CSS.escape(String(member.id))}"]`);
    item?.querySelector(".member-pin-button").focus();
  }

  async remove(member, button) {
    const vars = { nickname: member.nickname };
    if (!(await askInline(button, t("member.remove_confirm", vars)))) return;
    const answer = await this.api.delete(`${this.base}/${encodeURIComponent(member.id)}`);
    if (!answer.ok && answer.status !== 404) return this.setStatus(errorKey(answer));
    this.members = this.members.filter((other) => other.id !== member.id);
    this.pins.delete(member.id);
    this.setStatus("member.removed", vars);
    this.root.querySelector(".members-status").focus();
  }

  setStatus(key, vars = {}) {
    this.status = key ? [key, vars] : null;
    this.render();
  }
}

const TEMPLATE = `
<div class="members">
  <p class="members-status muted" role="status" tabindex="-1"></p>
  <ul class="member-list"></ul>
</div>`;

const ITEM = `
<li class="member">
  <span class="member-name"></span>
  <span class="member-actions">
    <button type="button" class="member-pin-button secondary"></button>
    <button type="button" class="member-remove secondary"></button>
  </span>
  <p class="member-pin" hidden></p>
</li>`;
