// The perspective picker, compact so that the idea comes first: one line shows the chosen
// perspective and a "Choose another" button that opens all the cards. Each card is a button
// (aria-pressed), so Tab reaches every card and Enter or Space chooses it: no arrow keys to know.
// Choosing closes the cards and gives the focus back to the button; Escape closes them too.

export class PerspectiveCards extends EventTarget {
  constructor(container) {
    super();
    this.container = container;
    this.configs = [];
    this.selected = null;
    this.grid = container.querySelector(".card-grid");
    this.toggle = container.querySelector("#pick-toggle");
    this.toggle.addEventListener("click", () => this.open(this.grid.hidden));
    container.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.grid.hidden) this.close();
    });
  }

  render(configs) {
    this.configs = configs;
    if (!configs.some((c) => c.id === this.selected)) this.selected = configs[0]?.id ?? null;
    this.grid.replaceChildren(...configs.map((config) => this.card(config)));
    this.showCurrent();
  }

  card(config) {
    const button = document.createElement("button");
    Object.assign(button, { type: "button", className: "card", value: config.id });
    button.style.setProperty("--accent", config.color);
    button.setAttribute("aria-pressed", String(config.id === this.selected));
    button.append(span("card-icon", config.icon), span("card-name", config.name));
    button.append(span("card-desc", config.description));
    button.querySelector(".card-icon").setAttribute("aria-hidden", "true");
    button.addEventListener("click", () => {
      this.choose(config.id);
      this.close();
    });
    return button;
  }

  // The one line the closed picker shows: the chosen perspective's icon, name and description.
  showCurrent() {
    const config = this.current();
    const line = this.container.querySelector("#pick-current");
    line.parentElement.style.setProperty("--accent", config?.color ?? "#6c757d");
    line.querySelector(".card-icon").textContent = config?.icon ?? "";
    line.querySelector(".pick-name").textContent = config?.name ?? "";
    line.querySelector(".pick-desc").textContent = config?.description ?? "";
    this.toggle.hidden = this.configs.length < 2;
    for (const card of this.grid.children) {
      card.setAttribute("aria-pressed", String(card.value === this.selected));
    }
  }

  open(wanted = true) {
    this.grid.hidden = !wanted;
    this.toggle.setAttribute("aria-expanded", String(wanted));
  }

  close() {
    const inside = this.container.contains(document.activeElement);
    this.open(false);
    if (inside) this.toggle.focus(); // the card had the focus: it must not fall to the body
  }

  // "Same idea, another perspective" (picture-actions.js): the cards open, the chosen one focused.
  reveal() {
    this.open(true);
    const chosen = this.grid.querySelector('[aria-pressed="true"]') ?? this.grid.firstElementChild;
    chosen?.scrollIntoView({ block: "center" });
    chosen?.focus();
  }

  choose(id) {
    if (!this.byId(id)) return;
    this.selected = id;
    this.showCurrent();
    this.dispatchEvent(new CustomEvent("change", { detail: this.current() }));
  }

  current() {
    return this.configs.find((c) => c.id === this.selected) ?? null;
  }

  byId(id) {
    return this.configs.find((c) => c.id === id) ?? null;
  }
}

function span(className, text) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  return el;
}
