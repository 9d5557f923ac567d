// The page's status surfaces: the connection indicator, the "demo backends" badge, the
// backend-trouble banner, and the aria-live region that announces changes to screen readers.

import { duration, t } from "./i18n.js";

export class StatusBar {
  constructor(root) {
    this.conn = root.querySelector("#conn");
    this.demo = root.querySelector("#demo");
    this.banner = root.querySelector("#backend-banner");
    this.live = root.querySelector("#live");
    this.connection = "connecting";
    this.backends = new Map();
  }

  setConnection(state) {
    this.connection = state;
    this.render();
  }

  setDemo(on) {
    this.demo.hidden = !on;
  }

  setBackends(backends) {
    this.backends = backends;
    this.render();
  }

  render() {
    this.conn.dataset.state = this.connection;
    this.conn.querySelector(".conn-label").textContent = t(`conn.${this.connection}`);
    const notes = [...this.backends.values()].map(backendNote).filter(Boolean);
    this.banner.hidden = notes.length === 0;
    this.banner.replaceChildren(...notes.map(paragraph));
  }

  // Setting the same text twice is not announced again, so clear the region first.
  announce(text) {
    this.live.textContent = "";
    requestAnimationFrame(() => (this.live.textContent = text));
  }
}

function backendNote(m) {
  const kind = t(`backend.${m.kind}`) || m.kind;
  if (m.state === "starting") {
    return m.eta != null ? t("backend.starting", { kind, eta: duration(m.eta) }) : t("backend.starting_unknown", { kind });
  }
  if (m.state === "down") return t("backend.down", { kind });
  if (m.state === "unhealthy") return t("backend.unhealthy", { kind });
  return null;
}

function paragraph(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}
