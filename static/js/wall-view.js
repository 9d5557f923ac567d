// What the wall draws: the pictures newest first, or the compare groups side by side (one row
// per group: one idea through each of its perspectives). Each picture's card is made once and
// moved between the views, so a new picture never reloads the others' images.

import { lang, t } from "./i18n.js";

export class WallView {
  constructor(all, compare, status) {
    this.all = all;
    this.compare = compare;
    this.status = status;
    this.view = "all";
    this.cards = new Map(); // run -> <li>
    this.message = "";
  }

  setView(view) {
    this.view = view === "compare" ? "compare" : "all";
  }

  // A sentence instead of the empty-wall hint (loading, refused, reconnecting); "" clears it.
  say(message) {
    this.message = message;
  }

  render(items) {
    const runs = new Set(items.map((item) => item.run));
    for (const run of this.cards.keys()) if (!runs.has(run)) this.cards.get(run).remove();
    for (const run of [...this.cards.keys()]) if (!runs.has(run)) this.cards.delete(run);
    const compare = this.view === "compare";
    this.all.hidden = compare;
    this.compare.hidden = !compare;
    const shown = compare ? this.renderGroups(items) : this.renderAll(items);
    const empty = compare ? "wall.compare.empty" : "wall.empty";
    this.status.textContent = this.message || (shown ? "" : t(empty));
  }

  renderAll(items) {
    this.all.replaceChildren(...items.map((item) => this.card(item)));
    return items.length;
  }

  renderGroups(items) {
    const groups = new Map(); // group id -> items, in the order of their newest picture
    for (const item of items) {
      if (!item.group) continue;
      if (!groups.has(item.group)) groups.set(item.group, []);
      groups.get(item.group).push(item);
    }
    const rows = [...groups].map(([group, members]) => this.groupRow(group, members));
    this.compare.replaceChildren(...rows);
    return rows.length;
  }

  groupRow(group, members) {
    const section = document.createElement("section");
    section.className = "wall-group";
    section.dataset.group = group;
    const heading = document.createElement("h2");
    heading.className = "wall-group-prompt";
    heading.textContent = t("wall.quote", { prompt: members[0].prompt });
    const row = document.createElement("ul");
    row.className = "wall-row";
    row.dataset.count = String(members.length);
    const ordered = [...members].sort((a, b) => a.perspective.localeCompare(b.perspective));
    row.replaceChildren(...ordered.map((item) => this.card(item)));
    section.replaceChildren(heading, row);
    return section;
  }

  card(item) {
    let card = this.cards.get(item.run);
    if (!card) {
      card = makeCard(item);
      this.cards.set(item.run, card);
    }
    return card;
  }
}

// How long after a 404 the wall asks once more for a new picture's input.
const INPUT_RETRY_MS = 2000;

function makeCard(item) {
  const perspective = item.perspective_name?.[lang()] ?? item.perspective;
  const card = document.createElement("li");
  card.className = "wall-card";
  card.dataset.run = item.run;
  if (item.group) card.dataset.group = item.group;
  const figure = document.createElement("figure");
  const image = document.createElement("img");
  image.src = item.files[0];
  image.alt = t("wall.picture", { perspective, prompt: item.prompt, nickname: item.nickname });
  image.decoding = "async";
  const caption = document.createElement("figcaption");
  caption.append(
    span("wall-perspective", `${item.icon} ${perspective}`.trim()),
    span("wall-prompt", t("wall.quote", { prompt: item.prompt })),
    span("wall-nick", t("wall.by", { nickname: item.nickname })),
  );
  caption.firstChild.style.setProperty("--tone", item.color);
  figure.append(image, caption);
  addInput(figure, item); // the student's own starting picture, if there was one
  card.append(figure);
  return card;
}

// The picture a run started from (image-to-image), small in the corner of the one it became.
// The wall's items do not say which runs had one (the pictures index has no column for it), so
// the card asks for the run's input.png and adds it only once it has loaded (a 404: nothing).
// A picture that just arrived may be on the wall a moment before its input is moved beside
// it: one retry for a picture of the last minute.
function addInput(figure, item) {
  const image = document.createElement("img");
  image.className = "wall-input";
  image.alt = t("wall.input");
  const url = item.input ?? `/media/${encodeURIComponent(item.run)}/input.png`;
  image.addEventListener("load", () => figure.append(image));
  const fresh = Date.now() / 1000 - item.created < 60; // an older one's input is there or not
  image.addEventListener("error", () => {
    if (!fresh || image.dataset.retried) return;
    image.dataset.retried = "1";
    setTimeout(() => (image.src = `${url}?again=1`), INPUT_RETRY_MS);
  });
  image.src = url;
}

function span(className, text) {
  const element = document.createElement("span");
  element.className = className;
  element.textContent = text;
  return element;
}
