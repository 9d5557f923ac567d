// The full-screen view of a picture: a modal <dialog> (showModal makes the rest of the page
// inert, and Tab wraps inside it), the arrow keys or a swipe go to the neighbouring picture,
// Escape or "Close" ends it, and the focus goes back to the picture that opened it.
// A picture that can be opened is a `.view-open` button holding its <img>, with
// `data-caption` (the child's idea), `data-download` and, for a list that re-renders, a
// `data-run` on an ancestor; the pictures the arrows reach are that list's open buttons.

import { t } from "./i18n.js";

// A horizontal move this long (CSS pixels) on the picture is a swipe, not a tap.
const SWIPE_PX = 50;
const STEPS = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

export class PictureViewer {
  constructor(parent) {
    this.dialog = build(TEMPLATE);
    parent.append(this.dialog);
    this.items = [];
    this.index = 0;
    this.opener = null;
    this.swipeFrom = null;
    this.part(".viewer-close").addEventListener("click", () => this.dialog.close());
    this.part(".viewer-prev").addEventListener("click", () => this.step(-1));
    this.part(".viewer-next").addEventListener("click", () => this.step(1));
    this.dialog.addEventListener("keydown", (event) => this.key(event));
    this.dialog.addEventListener("close", () => this.restoreFocus());
    const image = this.part(".viewer-image");
    image.addEventListener("pointerdown", (event) => (this.swipeFrom = event.clientX));
    image.addEventListener("pointerup", (event) => this.swiped(event.clientX));
  }

  part(selector) {
    return this.dialog.querySelector(selector);
  }

  // Opens on `opener`; the arrows reach every open button in `list`, in the page's order.
  show(opener, list) {
    const openers = [...list.querySelectorAll(".view-open:not(:disabled)")];
    this.items = openers.map(describe);
    this.index = Math.max(0, openers.indexOf(opener));
    this.opener = { element: opener, list, run: opener.closest("[data-run]")?.dataset.run };
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    this.part(".viewer-close").focus();
  }

  step(by) {
    const count = this.items.length;
    if (count < 2) return;
    this.index = (this.index + by + count) % count;
    this.render();
  }

  render() {
    const item = this.items[this.index];
    if (!item) return;
    const vars = { n: this.index + 1, total: this.items.length };
    this.dialog.setAttribute("aria-label", t("view.label", vars));
    this.part(".viewer-count").textContent = t("view.count", vars);
    const image = this.part(".viewer-image");
    image.src = item.src;
    image.alt = item.alt;
    this.part(".viewer-caption").textContent = item.caption;
    const download = this.part(".viewer-download");
    download.hidden = !item.download;
    download.href = item.download;
    download.textContent = t("run.download");
    this.part(".viewer-close").textContent = t("view.close");
    for (const [selector, key] of [[".viewer-prev", "view.previous"], [".viewer-next", "view.next"]]) {
      const button = this.part(selector);
      button.hidden = this.items.length < 2;
      button.setAttribute("aria-label", t(key));
    }
  }

  key(event) {
    if (event.key === "Tab") return this.trapTab(event);
    const by = STEPS[event.key];
    if (!by || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    this.step(by);
  }

  // The modal dialog already keeps the page out of reach; this keeps Tab from leaving to
  // the browser's own bar, so a keyboard user goes round the dialog's few buttons.
  trapTab(event) {
    const stops = [...this.dialog.querySelectorAll("button, a[href]")].filter((el) => !el.hidden);
    const edge = event.shiftKey ? stops[0] : stops[stops.length - 1];
    if (document.activeElement !== edge) return;
    event.preventDefault();
    (event.shiftKey ? stops[stops.length - 1] : stops[0]).focus();
  }

  swiped(x) {
    const moved = this.swipeFrom === null ? 0 : x - this.swipeFrom;
    this.swipeFrom = null;
    if (Math.abs(moved) >= SWIPE_PX) this.step(moved < 0 ? 1 : -1);
  }

  // A list that re-rendered meanwhile ("My pictures" reloads) has a new button for the run.
  restoreFocus() {
    const { element, list, run } = this.opener ?? {};
    this.opener = null;
    const again = run ? list.querySelector(`[data-run="${CSS.escape(run)}"] .view-open`) : null;
    (element?.isConnected ? element : again)?.focus();
  }
}

function describe(opener) {
  const image = opener.querySelector("img");
  return {
    src: image.currentSrc || image.src,
    alt: image.alt,
    caption: opener.dataset.caption ?? "",
    download: opener.dataset.download ?? "",
  };
}

const TEMPLATE = `
<dialog class="viewer">
  <div class="viewer-bar">
    <p class="viewer-count" aria-hidden="true"></p>
    <button type="button" class="viewer-close"></button>
  </div>
  <figure class="viewer-figure">
    <img class="viewer-image" alt="">
    <figcaption class="viewer-caption" aria-live="polite"></figcaption>
  </figure>
  <div class="viewer-nav">
    <button type="button" class="viewer-prev"><span aria-hidden="true">←</span></button>
    <a class="viewer-download" download></a>
    <button type="button" class="viewer-next"><span aria-hidden="true">→</span></button>
  </div>
</dialog>`;

// The template is our own constant markup; every text goes in through textContent.
function build(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}
