// The perspective cards: one radio button per interception config from the catalog, so the
// group is a single tab stop with arrow-key selection, and the choice survives a re-render.

export class PerspectiveCards extends EventTarget {
  constructor(container) {
    super();
    this.container = container;
    this.configs = [];
    this.selected = null;
  }

  render(configs) {
    this.configs = configs;
    if (!configs.some((c) => c.id === this.selected)) this.selected = configs[0]?.id ?? null;
    const cards = configs.map((config) => this.card(config));
    this.container.querySelector(".card-grid").replaceChildren(...cards);
  }

  card(config) {
    const label = document.createElement("label");
    label.className = "card";
    label.style.setProperty("--accent", config.color);
    const input = document.createElement("input");
    Object.assign(input, { type: "radio", name: "perspective", value: config.id });
    input.checked = config.id === this.selected;
    input.addEventListener("change", () => this.choose(config.id));
    label.append(input, span("card-icon", config.icon), span("card-name", config.name));
    label.append(span("card-desc", config.description));
    label.querySelector(".card-icon").setAttribute("aria-hidden", "true");
    return label;
  }

  choose(id) {
    this.selected = id;
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
