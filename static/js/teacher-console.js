// One class opened on the teacher page (`/teacher#class-<id>`): its name and code, and the views
// of the console, each in its own module: the live view over the teacher's socket, the controls,
// the moderation log, the class's pictures, the settings, the wall links, the workshop's
// preparation and taking the work home. This module only loads the class and hands every view
// the same small context (the API, the class, a place to say what happened).

import { t, translatePage } from "./i18n.js";
import { Controls } from "./teacher-controls.js";
import { TakeHome } from "./teacher-export.js";
import { LiveView } from "./teacher-live.js";
import { Moderation } from "./teacher-moderation.js";
import { Pictures } from "./teacher-pictures.js";
import { Preparation } from "./teacher-prepare.js";
import { Settings } from "./teacher-settings.js";
import { errorKey, showCode } from "./teacher-ui.js";
import { WallLinks } from "./teacher-wall.js";

export class ClassConsole extends EventTarget {
  constructor(section, api, connection, classes) {
    super();
    this.section = section;
    this.api = api;
    this.classes = classes; // the list view: its projector dialog shows the code big
    this.klass = null;
    this.error = null;
    const part = (selector) => section.querySelector(selector);
    this.preparation = new Preparation(part("#prepare"), this, part("#backend-words"));
    this.controls = new Controls(part(".controls"), this);
    this.live = new LiveView(part(".live"), this, connection);
    this.pictures = new Pictures(part("#pictures"), this);
    this.moderation = new Moderation(part("#moderation"), this);
    this.settings = new Settings(part("#settings"), this);
    this.wall = new WallLinks(part("#wall-links"), this);
    this.takeHome = new TakeHome(part("#take-home"), this);
    this.views = [this.preparation, this.controls, this.live, this.pictures, this.moderation, this.settings, this.wall, this.takeHome];
    part("#console-project").addEventListener("click", (event) => classes.project(this.klass, event.currentTarget));
  }

  get base() {
    return `/api/classes/${encodeURIComponent(this.klass.id)}`;
  }

  // Shows class `id`; false when it is not the teacher's (any more): the page goes back to the list.
  async open(id) {
    if (this.klass?.id !== id) this.close();
    const answer = await this.api.get(`/api/classes/${encodeURIComponent(id)}`);
    if (this.signedOut(answer)) return false;
    if (!answer.ok) {
      this.classes.setStatus(errorKey(answer));
      return false;
    }
    const fresh = this.klass?.id !== id;
    this.klass = answer.data;
    this.section.hidden = false;
    this.render();
    if (fresh) for (const view of this.views) view.open?.();
    this.section.querySelector("#console-title").focus();
    return true;
  }

  close() {
    for (const view of this.views) view.close?.();
    this.klass = null;
    this.error = null;
    this.section.hidden = true;
  }

  // A view learnt something new about the class (paused, lesson open, new code, rules).
  update(fields) {
    if (!this.klass) return;
    this.klass = { ...this.klass, ...fields };
    this.classes.replace?.(this.klass);
    this.render();
  }

  render() {
    if (!this.klass) return;
    translatePage(this.section);
    this.section.querySelector("#console-title").textContent = this.klass.name ?? "";
    this.section.querySelector("#console-code").textContent = showCode(this.klass.code);
    this.section.querySelector("#console-state").textContent = stateWords(this.klass);
    const error = this.section.querySelector("#console-status");
    error.hidden = !this.error;
    error.textContent = this.error ? t(...this.error) : "";
    for (const view of this.views) view.render?.();
  }

  // A refused call: its sentence above the views (nothing else changes); true if refused.
  failed(answer) {
    if (answer.ok) return false;
    if (!this.signedOut(answer)) this.setError(errorKey(answer));
    return true;
  }

  setError(key, vars = {}) {
    this.error = key ? [key, vars] : null;
    this.render();
  }

  signedOut(answer) {
    const out = answer.status === 401 || answer.code === "teachers_only";
    if (out) this.dispatchEvent(new Event("signedout"));
    return out;
  }

  // Something the teacher did worked: said to a screen reader, the focus stays where it is.
  say(key, vars = {}) {
    this.error = null;
    this.dispatchEvent(new CustomEvent("announce", { detail: t(key, vars) }));
    this.render();
  }
}

// The class's state in plain words: the lesson, the queue.
export function stateWords(klass) {
  if (klass.lesson_open === false) return t("console.state.ended");
  if (klass.paused) return t("console.state.paused");
  return t("console.state.running");
}
