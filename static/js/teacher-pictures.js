// The class's pictures in the console, newest first, a compare run's pictures side by side:
// each can be flagged (a note for the teacher: "talk about this one") and hidden from the wall
// (it leaves a wall that shows it within a second; the student still has it). Loaded when the
// panel opens, on "Refresh", and on each `class.picture` of the live socket while it is open.

import { t } from "./i18n.js";
import { build, formatTime, listOf, syncChildren } from "./teacher-ui.js";

export class Pictures {
  constructor(details, ctx) {
    this.details = details;
    this.ctx = ctx;
    this.pictures = null;
    this.status = null;
    this.figures = new Map(); // run id -> figure, kept so a focused button stays in the page
    this.items = new Map(); // first run id of a group -> its <li>, for the same reason
    details.addEventListener("toggle", () => details.open && this.load());
    details.querySelector(".panel-refresh").addEventListener("click", () => this.load(true));
    document.addEventListener("classpicture", () => this.details.open && this.load()); // made, hidden, flagged
  }

  open() {
    this.pictures = null;
    this.figures.clear();
    this.items.clear();
    if (this.details.open) this.load();
  }

  async load(focus = false) {
    const id = this.ctx.klass.id;
    const answer = await this.ctx.api.get(`${this.ctx.base}/pictures`);
    if (this.ctx.klass?.id !== id) return;
    if (this.ctx.failed(answer)) return this.setStatus("panel.failed");
    this.pictures = listOf(answer.data, "pictures");
    this.setStatus(this.pictures.length ? null : "pictures.empty");
    if (focus) this.details.querySelector(".panel-refresh").focus();
  }

  setStatus(key) {
    this.status = key;
    this.render();
  }

  render() {
    this.details.querySelector(".panel-status").textContent = this.status ? t(this.status) : "";
    const groups = groupsOf(this.pictures ?? []);
    const items = groups.map((group) => this.groupItem(group));
    syncChildren(this.details.querySelector(".picture-groups"), items);
  }

  // Each group's <li> is kept by its first run: moving a focused button's figure to a new
  // parent on a reload (a class.picture from the wall's side) would drop the focus.
  groupItem(group) {
    let li = this.items.get(group[0].run);
    if (!li) {
      li = document.createElement("li");
      this.items.set(group[0].run, li);
    }
    li.className = group.length > 1 ? "picture-group compare" : "picture-group";
    if (group.length > 1) li.setAttribute("aria-label", t("pictures.compare", { n: group.length }));
    else li.removeAttribute("aria-label");
    syncChildren(li, group.map((picture) => this.figure(picture)));
    return li;
  }

  figure(picture) {
    let figure = this.figures.get(picture.run);
    if (!figure) {
      figure = build(FIGURE);
      figure.querySelector(".picture-flag").addEventListener("click", (event) => this.change(figure, "flagged", event.currentTarget));
      figure.querySelector(".picture-hide").addEventListener("click", (event) => this.change(figure, "hidden", event.currentTarget));
      this.figures.set(picture.run, figure);
    }
    figure.picture = picture;
    fill(figure, picture, this.ctx);
    return figure;
  }

  // PATCH one field; the figure shows the server's answer, the focus stays on the button.
  async change(figure, field, button) {
    const picture = figure.picture;
    const value = !picture[field];
    const path = `${this.ctx.base}/pictures/${encodeURIComponent(picture.run)}`;
    const answer = await this.ctx.api.call("PATCH", path, { [field]: value });
    if (this.ctx.failed(answer)) return;
    Object.assign(picture, { [field]: value }, answer.data ?? {});
    fill(figure, picture, this.ctx);
    const said = { flagged: value ? "pictures.flagged" : "pictures.unflagged", hidden: value ? "pictures.hidden" : "pictures.shown" };
    this.ctx.say(said[field], { nickname: picture.nickname ?? "" });
    button.focus();
  }
}

// Pictures of one compare run (the same `group`) go together, in the order they came.
export function groupsOf(pictures) {
  const groups = [];
  const byGroup = new Map();
  for (const picture of pictures) {
    const known = picture.group ? byGroup.get(picture.group) : null;
    if (known) known.push(picture);
    else {
      const group = [picture];
      groups.push(group);
      if (picture.group) byGroup.set(picture.group, group);
    }
  }
  return groups;
}

function fill(figure, picture, ctx) {
  figure.dataset.run = picture.run;
  figure.dataset.hidden = String(Boolean(picture.hidden));
  figure.dataset.flagged = String(Boolean(picture.flagged));
  const img = figure.querySelector("img");
  const file = (picture.files ?? [])[0];
  img.hidden = !file;
  if (file && img.getAttribute("src") !== file) img.src = file;
  img.alt = picture.prompt ?? "";
  figure.querySelector(".picture-name").textContent = picture.nickname ?? "";
  figure.querySelector(".picture-perspective").textContent = ctx.settings.perspectiveName(picture.perspective);
  figure.querySelector(".picture-prompt").textContent = picture.prompt ?? "";
  figure.querySelector("time").textContent = formatTime(picture.created, { timeStyle: "short" });
  const marks = [picture.hidden && t("pictures.is_hidden"), picture.flagged && t("pictures.is_flagged")].filter(Boolean);
  figure.querySelector(".picture-marks").textContent = marks.join(" · ");
  const flag = figure.querySelector(".picture-flag");
  flag.textContent = t(picture.flagged ? "pictures.unflag" : "pictures.flag");
  flag.setAttribute("aria-pressed", String(Boolean(picture.flagged)));
  const hide = figure.querySelector(".picture-hide");
  hide.textContent = t(picture.hidden ? "pictures.show" : "pictures.hide");
  hide.setAttribute("aria-pressed", String(Boolean(picture.hidden)));
}

const FIGURE = `
<figure class="console-picture">
  <img loading="lazy" alt="">
  <figcaption>
    <strong class="picture-name"></strong> <span class="picture-perspective"></span> <time></time>
    <span class="picture-prompt"></span>
    <span class="picture-marks"></span>
  </figcaption>
  <div class="picture-actions">
    <button type="button" class="picture-flag secondary"></button>
    <button type="button" class="picture-hide secondary"></button>
  </div>
</figure>`;
