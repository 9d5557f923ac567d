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
    const notes = backendNotes([...this.backends.values()]);
    this.banner.hidden = notes.length === 0;
    this.banner.replaceChildren(...notes.map(paragraph));
  }

  // Setting the same text twice is not announced again, so clear the region first.
  announce(text) {
    this.live.textContent = "";
    requestAnimationFrame(() => (this.live.textContent = text));
  }
}

// One sentence per trouble, in the children's words: never the instance's name or the
// server's technical text. A kind with a healthy instance needs no note (that one serves),
// and two instances in the same trouble read as one sentence.
function backendNotes(backends) {
  const served = new Set(backends.filter((m) => m.state === "healthy").map((m) => m.kind));
  const notes = backends.filter((m) => !served.has(m.kind)).map(backendNote).filter(Boolean);
  return [...new Set(notes)];
}

const KINDS = new Set(["llm", "comfyui"]);
const TROUBLES = new Set(["unreachable", "no_answer", "error", "paused", "start_failed"]);

function backendNote(m) {
  const kind = t(KINDS.has(m.kind) ? `backend.${m.kind}` : "backend.other");
  if (m.state === "starting" || m.reason === "starting") {
    return m.eta != null ? t("backend.starting", { kind, eta: duration(m.eta) }) : t("backend.starting_unknown", { kind });
  }
  if (m.state !== "down" && m.state !== "unhealthy") return null;
  // A reason newer than this page reads as a plain problem (docs/protocol.md); without any
  // reason (an older server) the state alone still says enough.
  const fallback = m.reason == null && m.state === "down" ? "unreachable" : "error";
  const trouble = TROUBLES.has(m.reason) ? m.reason : fallback;
  return t(`backend.${trouble}`, { kind });
}

function paragraph(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}
