// What a child does next with a finished picture: "try again" (the same idea and perspective,
// a new run through the composer's own start, so one click stays one run), "use this idea
// again" (the words back in the text box) and "same idea, another perspective" (the words in
// the box, the perspective choice in focus). Used by the run cards (gallery.js) and by
// "My pictures" (pictures.js); `moreButtons` builds the row of buttons both show.

import { t } from "./i18n.js";

export class PictureActions {
  constructor({ composer, cards, store, start }) {
    this.composer = composer;
    this.cards = cards;
    this.store = store;
    this.start = start; // main.js's startRun: a run.start with its own ref
  }

  // Only a perspective the page offers now (the class's choice, the catalog) is started again.
  canAgain(perspective) {
    return Boolean(this.cards.byId(perspective));
  }

  again(fields) {
    if (this.composer.sendingRef !== null) return false; // a start is already on its way
    if (!this.canAgain(fields.interception)) return this.other(fields.prompt);
    const { meta_prompt: meta, ...plain } = fields;
    // A class whose teacher turned editing off sends no edited instructions.
    const editable = this.store.limits.edit_instructions !== false;
    const sent = this.start(editable && meta != null ? fields : plain);
    if (!sent) this.composer.showError(t("compose.wait_connection")); // offline: say why nothing happens
    return sent;
  }

  reuse(prompt) {
    const box = this.fill(prompt);
    box.focus();
    box.scrollIntoView({ block: "center" });
  }

  other(prompt) {
    this.fill(prompt);
    this.cards.reveal(); // the perspective cards open, the chosen one in focus (cards.js)
  }

  // Through an input event, so the composer counts the characters and the examples step aside.
  fill(prompt) {
    const box = this.composer.el("prompt");
    box.value = prompt;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    return box;
  }
}

// The row under a picture; `handlers` has again(), reuse() and other().
export function moreButtons(handlers) {
  const row = document.createElement("div");
  row.className = "picture-more";
  row.setAttribute("role", "group");
  for (const name of ["again", "reuse", "other"]) {
    const button = document.createElement("button");
    Object.assign(button, { type: "button", className: `more-${name} secondary` });
    button.addEventListener("click", () => handlers[name]());
    row.append(button);
  }
  return row;
}

// Texts in the page's language; "try again" only where that perspective is offered.
export function fillMore(row, canAgain) {
  row.setAttribute("aria-label", t("more.group"));
  for (const name of ["again", "reuse", "other"]) row.querySelector(`.more-${name}`).textContent = t(`more.${name}`);
  row.querySelector(".more-again").hidden = !canAgain;
}

// The button that opens a picture in the full-screen view (viewer.js), around its <img>.
export function openButton(image, onOpen) {
  const button = document.createElement("button");
  Object.assign(button, { type: "button", className: "view-open" });
  image.replaceWith(button);
  button.append(image);
  button.addEventListener("click", () => onOpen(button));
  return button;
}
