// Ideas for a blank start: a few example prompts under the start button that fill the empty
// text box when pressed. They step aside as soon as the box holds any words, and come back
// when it is empty again.

import { t } from "./i18n.js";

const EXAMPLES = ["examples.1", "examples.2", "examples.3", "examples.4"];

export class ExamplePrompts {
  constructor(box, after) {
    this.box = box;
    this.root = document.createElement("div");
    this.root.className = "examples";
    this.root.setAttribute("role", "group");
    after.after(this.root);
    box.addEventListener("input", () => this.refresh());
  }

  render() {
    this.root.setAttribute("aria-label", t("examples.label"));
    const title = document.createElement("span");
    title.className = "examples-title";
    title.textContent = t("examples.label");
    title.setAttribute("aria-hidden", "true"); // the group's label says it
    this.root.replaceChildren(title, ...EXAMPLES.map((key) => this.chip(key)));
    this.refresh();
  }

  chip(key) {
    const button = document.createElement("button");
    Object.assign(button, { type: "button", className: "example", textContent: t(key) });
    button.addEventListener("click", () => this.choose(t(key)));
    return button;
  }

  // Through an input event, so the composer counts the characters as if the child typed.
  choose(text) {
    this.box.value = text;
    this.box.dispatchEvent(new Event("input", { bubbles: true }));
    this.box.focus();
  }

  refresh() {
    this.root.hidden = this.box.value.trim() !== "";
  }
}
