// Wall links: a link that opens the class's wall on a projector's computer where the teacher is
// not signed in. The link holds a secret, so it is shown once, right after it is made (the
// server keeps only its hash); the list shows when each live link was made, and revoking one
// closes any wall open with it at once. The teacher's own "Open the wall" needs no link.

import { t } from "./i18n.js";
import { askInline, build, formatTime, listOf } from "./teacher-ui.js";

export class WallLinks {
  constructor(details, ctx) {
    this.details = details;
    this.ctx = ctx;
    this.links = null;
    this.made = null; // {id, url}: the link just made, shown once
    this.status = null;
    details.addEventListener("toggle", () => details.open && this.load());
    details.querySelector(".wall-make").addEventListener("click", () => this.make());
  }

  open() {
    this.links = null;
    this.made = null;
    this.status = null;
    if (this.details.open) this.load();
  }

  async load() {
    const id = this.ctx.klass.id;
    const answer = await this.ctx.api.get(`${this.ctx.base}/wall-links`);
    if (this.ctx.klass?.id !== id || this.ctx.failed(answer)) return;
    this.links = listOf(answer.data, "links");
    this.render();
  }

  async make() {
    const answer = await this.ctx.api.post(`${this.ctx.base}/wall-links`, {});
    if (this.ctx.failed(answer)) return;
    this.made = { id: answer.data.id, url: new URL(answer.data.url, location.origin).href };
    this.links = [answer.data, ...(this.links ?? []).filter((link) => link.id !== answer.data.id)];
    this.status = "wall.made";
    this.render();
    this.details.querySelector(".wall-made input")?.focus();
  }

  async revoke(link, button) {
    if (!(await askInline(button, t("wall.revoke_confirm")))) return;
    const answer = await this.ctx.api.delete(`${this.ctx.base}/wall-links/${encodeURIComponent(link.id)}`);
    if (answer.status !== 404 && this.ctx.failed(answer)) return;
    this.links = this.links.filter((other) => other.id !== link.id);
    if (this.made?.id === link.id) this.made = null;
    this.status = "wall.revoked";
    this.render();
    this.details.querySelector(".wall-make").focus();
  }

  render() {
    this.details.querySelector(".panel-status").textContent = this.status ? t(this.status) : "";
    const links = this.links ?? [];
    const items = links.map((link) => this.item(link));
    if (this.links && !links.length) items.push(note(t("wall.none")));
    this.details.querySelector(".wall-link-list").replaceChildren(...items);
  }

  item(link) {
    const li = build(ITEM);
    li.dataset.link = link.id;
    li.querySelector(".wall-link-made").textContent = t("wall.link_made", { time: formatTime(link.created) });
    const revoke = li.querySelector(".wall-revoke");
    revoke.textContent = t("wall.revoke");
    revoke.addEventListener("click", () => this.revoke(link, revoke));
    const shown = li.querySelector(".wall-made");
    shown.hidden = this.made?.id !== link.id;
    if (!shown.hidden) {
      const id = `wall-url-${link.id}`;
      shown.querySelector("label").textContent = t("wall.copy_hint");
      shown.querySelector("label").htmlFor = id;
      const input = shown.querySelector("input");
      input.id = id;
      input.value = this.made.url;
      input.addEventListener("focus", () => input.select());
    }
    return li;
  }
}

function note(text) {
  const li = document.createElement("li");
  li.className = "muted";
  li.textContent = text;
  return li;
}

const ITEM = `
<li class="wall-link">
  <span class="wall-link-made"></span>
  <button type="button" class="wall-revoke secondary"></button>
  <div class="wall-made" hidden>
    <label></label>
    <input readonly spellcheck="false">
  </div>
</li>`;
