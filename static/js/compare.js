// Compare perspectives: the composer's choice of 2 to 4 perspectives for one idea (native
// checkboxes: each one a tab stop, Space toggles), and the row that shows a compare's runs side
// by side, one column per perspective (one column on a phone: the CSS wraps them).

import { t } from "./i18n.js";

// The server's bound (server/engine/compare.py MAX_COMPARE); it refuses more anyway.
export const MAX_COMPARE = 4;
export const MIN_COMPARE = 2;

export class ComparePicker extends EventTarget {
  constructor(root) {
    super();
    this.root = root;
    this.toggle = root.querySelector("#compare-on");
    this.box = root.querySelector(".compare-choices");
    this.configs = [];
    this.chosen = new Set();
    this.toggle.addEventListener("change", () => this.changed());
  }

  get on() {
    return this.toggle.checked;
  }

  render(configs) {
    this.configs = configs;
    for (const id of this.chosen) if (!configs.some((c) => c.id === id)) this.chosen.delete(id);
    this.box.replaceChildren(...configs.map((config) => this.choice(config)));
    this.refresh();
  }

  choice(config) {
    const label = document.createElement("label");
    label.className = "compare-choice";
    label.style.setProperty("--accent", config.color);
    const input = document.createElement("input");
    Object.assign(input, { type: "checkbox", name: "compare", value: config.id });
    input.checked = this.chosen.has(config.id);
    input.addEventListener("change", () => {
      if (input.checked) this.chosen.add(config.id);
      else this.chosen.delete(config.id);
      this.changed();
    });
    const name = document.createElement("span");
    name.textContent = `${config.icon} ${config.name}`;
    label.append(input, name);
    return label;
  }

  // The chosen perspectives in the order the student chose them: the columns' order.
  perspectives() {
    return [...this.chosen];
  }

  changed() {
    this.refresh();
    this.dispatchEvent(new Event("change"));
  }

  refresh() {
    const on = this.on;
    this.box.hidden = this.root.querySelector("#compare-hint").hidden = !on;
    const count = this.root.querySelector("#compare-count");
    count.hidden = !on;
    count.textContent = t("compare.count", { n: this.chosen.size, max: MAX_COMPARE });
    const full = this.chosen.size >= MAX_COMPARE;
    for (const input of this.box.querySelectorAll("input")) input.disabled = full && !input.checked;
  }

  problem() {
    if (this.chosen.size < MIN_COMPARE) return { key: "compare.need_two" };
    return null;
  }
}

// One compare's runs as one item of the run list: a title and a row of columns.
export class CompareRow {
  constructor(group) {
    this.root = document.createElement("li");
    this.root.className = "compare-row";
    this.root.dataset.group = group;
    this.title = document.createElement("p");
    this.title.className = "compare-title";
    this.columns = document.createElement("ol");
    this.columns.className = "compare-columns";
    this.root.append(this.title, this.columns);
  }

  fill(roots, prompt) {
    this.columns.replaceChildren(...roots);
    this.title.textContent = t("compare.title", { n: roots.length, prompt });
  }
}

// The run list's items, newest first: a single run's view, or one row per compare holding its
// runs in the order they were started (the store keeps runs newest first).
export function arrange(store, rootOf, rows) {
  const items = [];
  const members = new Map();
  for (const id of store.order) {
    const group = store.runs.get(id)?.group;
    if (!group) {
      items.push(rootOf(id));
      continue;
    }
    if (!members.has(group)) {
      if (!rows.has(group)) rows.set(group, new CompareRow(group));
      members.set(group, []);
      items.push(rows.get(group).root);
    }
    members.get(group).unshift(id);
  }
  for (const [group, ids] of members) {
    rows.get(group).fill(ids.map(rootOf), store.runs.get(ids[0]).prompt);
  }
  return items;
}
