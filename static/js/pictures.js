// "My pictures": the finished pictures of whoever uses the page, from GET /api/pictures, so the
// list is the same on every tab and device of that identity (unlike the session's runs). Each
// one can be shown big (viewer.js), opened, downloaded, made again or reused
// (picture-actions.js), and deleted after a second press. Emits "signedout" when the server no
// longer knows the identity.

import { backoff } from "./api.js";
import { lang, t } from "./i18n.js";
import { fillMore, moreButtons, openButton } from "./picture-actions.js";

// After run.done the server may still be writing the picture's index row.
const ARRIVAL_TRIES = 4;

export class MyPictures extends EventTarget {
  constructor(section, api, { perspective, actions, viewer }) {
    super();
    this.section = section;
    this.api = api;
    this.perspective = perspective;
    this.actions = actions;
    this.viewer = viewer;
    this.list = section.querySelector("#mine");
    this.empty = section.querySelector("#mine-empty");
    this.status = section.querySelector("#mine-status");
    this.pictures = [];
    this.loaded = false;
    this.generation = 0; // only the newest load's answer is shown
    this.statusKey = null;
    this.confirming = null; // the run whose delete waits for "yes"
  }

  async load() {
    const generation = ++this.generation;
    const answer = await this.api.get("/api/pictures");
    if (generation !== this.generation) return null;
    if (answer.status === 401) this.dispatchEvent(new Event("signedout"));
    if (!answer.ok) {
      this.setStatus("mine.failed");
      return null;
    }
    this.pictures = Array.isArray(answer.data?.pictures) ? answer.data.pictures : [];
    this.loaded = true;
    this.setStatus(null);
    this.render();
    return this.pictures;
  }

  // A run just finished: show its picture as soon as the server lists it.
  async arrived(run) {
    for (let attempt = 0; attempt < ARRIVAL_TRIES; attempt += 1) {
      const pictures = await this.load();
      if (pictures?.some((picture) => picture.run === run)) return;
      await backoff(attempt);
    }
  }

  render() {
    this.list.replaceChildren(...this.pictures.map((picture) => this.item(picture)));
    this.empty.hidden = !this.loaded || this.pictures.length > 0;
    this.status.textContent = this.statusKey ? t(this.statusKey) : "";
  }

  item(picture) {
    const item = build(TEMPLATE);
    item.dataset.run = picture.run;
    const url = picture.files?.[0] ?? "";
    const config = this.perspective(picture.perspective);
    const part = (selector) => item.querySelector(selector);
    part(".picture-open").href = url;
    part("img").src = url;
    part("img").alt = t("mine.image_alt", { prompt: picture.prompt ?? "" });
    this.addMore(item, picture, url);
    part(".picture-perspective").textContent = config?.name ?? "";
    part(".picture-prompt").textContent = picture.prompt ?? "";
    fillDate(part("time"), picture.created);
    part(".picture-download").href = downloadUrl(url);
    // "Open", "Download" and "Delete" say which picture to a screen reader.
    part(".picture-prompt").id = `mine-${picture.run}`;
    for (const action of item.querySelectorAll("a.link-button, button:not(.view-open)")) {
      action.setAttribute("aria-describedby", `mine-${picture.run}`);
    }
    this.fillActions(item, picture.run);
    return item;
  }

  // The picture itself opens the full-screen view; the "what next" row sits under the caption.
  addMore(item, picture, url) {
    const open = openButton(item.querySelector("img"), (button) => this.viewer.show(button, this.list));
    const prompt = picture.prompt ?? "";
    open.setAttribute("aria-label", t("view.open", { prompt }));
    Object.assign(open.dataset, { caption: prompt, download: downloadUrl(url) });
    const fields = { prompt, interception: picture.perspective };
    const more = moreButtons({
      again: () => this.actions.again(fields),
      reuse: () => this.actions.reuse(prompt),
      other: () => this.actions.other(prompt),
    });
    fillMore(more, this.actions.canAgain(picture.perspective));
    item.querySelector(".picture-caption").after(more);
  }

  fillActions(item, run) {
    const part = (selector) => item.querySelector(selector);
    for (const [selector, key] of ACTION_KEYS) part(selector).textContent = t(key);
    const confirming = this.confirming === run;
    part(".picture-actions").hidden = confirming;
    part(".picture-confirm").hidden = !confirming;
    part(".picture-delete").addEventListener("click", () => this.ask(run));
    part(".picture-keep").addEventListener("click", () => this.ask(null, run));
    part(".picture-yes").addEventListener("click", () => this.remove(run));
  }

  // Re-rendering replaces the buttons, so focus moves to the one the child needs next.
  ask(run, previous = run) {
    this.confirming = run;
    this.render();
    const item = this.list.querySelector(`[data-run="${CSS.escape(previous)}"]`);
    item?.querySelector(run ? ".picture-keep" : ".picture-delete").focus();
  }

  async remove(run) {
    const answer = await this.api.delete(`/api/pictures/${encodeURIComponent(run)}`);
    this.confirming = null;
    // 404: it is gone already (deleted on another device, or past retention).
    const gone = answer.ok || answer.status === 404;
    if (gone) this.pictures = this.pictures.filter((picture) => picture.run !== run);
    this.setStatus(gone ? "mine.deleted" : "mine.delete_failed");
    this.section.querySelector("h2").focus();
  }

  setStatus(key) {
    this.statusKey = key;
    this.render();
  }
}

const ACTION_KEYS = [
  [".picture-open", "mine.open"],
  [".picture-download", "mine.download"],
  [".picture-delete", "mine.delete"],
  [".picture-confirm-text", "mine.confirm"],
  [".picture-yes", "mine.confirm_yes"],
  [".picture-keep", "mine.confirm_no"],
];

function downloadUrl(url) {
  if (!url) return "";
  const target = new URL(url, location.href);
  target.searchParams.set("download", "1");
  return target.pathname + target.search;
}

// `created` is seconds since the epoch (milliseconds are accepted too).
function fillDate(element, created) {
  const millis = typeof created === "number" && created < 1e12 ? created * 1000 : created;
  const date = new Date(millis);
  if (Number.isNaN(date.getTime())) return;
  element.dateTime = date.toISOString();
  element.textContent = date.toLocaleString(lang(), { dateStyle: "medium", timeStyle: "short" });
}

// The image becomes the button that shows it big; "Open" opens it in a tab of its own.
const TEMPLATE = `
<li class="picture">
  <img alt="" loading="lazy">
  <p class="picture-caption"><span class="picture-perspective"></span><q class="picture-prompt"></q><time></time></p>
  <div class="picture-actions">
    <a class="picture-open link-button" target="_blank" rel="noopener"></a>
    <a class="picture-download link-button" download></a>
    <button type="button" class="picture-delete secondary"></button>
  </div>
  <div class="picture-confirm" role="group" hidden>
    <p class="picture-confirm-text"></p>
    <button type="button" class="picture-yes danger"></button>
    <button type="button" class="picture-keep secondary"></button>
  </div>
</li>`;

// The template is our own constant markup; every server text goes in through textContent.
function build(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}
