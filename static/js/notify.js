// Knowing a picture is ready without watching the page: the tab's title counts the newest
// run's steps ("(2/4) Atelier") and shows "✓ Atelier" once it finished while the tab was
// hidden, until the tab is seen again; and, only if the child turns it on, a short sound and
// (where the browser allows it) a notification. The permission is asked on that click only,
// and the choice is remembered in localStorage.

import { t } from "./i18n.js";
import { STAGES, isFinal, waitingStage } from "./runstate.js";

const STORE_KEY = "atelier.notify";
const DONE_MARK = "✓";

export class TabTitle {
  constructor(store) {
    this.store = store;
    this.base = document.title;
    this.finished = false; // a picture was finished while nobody looked
    document.addEventListener("visibilitychange", () => this.update());
  }

  update() {
    if (!document.hidden) this.finished = false;
    const active = this.store.order.map((id) => this.store.runs.get(id)).find((run) => !isFinal(run));
    if (active) return this.set(`(${step(active)}/${STAGES.length}) ${this.base}`);
    this.set(this.finished ? `${DONE_MARK} ${this.base}` : this.base);
  }

  done(run) {
    if (run.status === "completed" && document.hidden) this.finished = true;
    this.update();
  }

  set(title) {
    if (document.title !== title) document.title = title;
  }
}

// The step the run is at or waits for, counted from 1.
function step(run) {
  const index = STAGES.indexOf(waitingStage(run) ?? run.stage);
  return Math.max(0, index) + 1;
}

export class DoneNotice {
  constructor(after) {
    this.root = build(TEMPLATE);
    after.after(this.root);
    this.box = this.root.querySelector("input");
    this.note = this.root.querySelector(".notify-note");
    this.box.checked = localStorage.getItem(STORE_KEY) === "on";
    this.box.addEventListener("change", () => this.toggled());
    this.audio = null;
  }

  render() {
    this.root.querySelector(".notify-text").textContent = t("notify.toggle");
    this.note.textContent = t("notify.blocked");
  }

  async toggled() {
    const on = this.box.checked;
    if (on) localStorage.setItem(STORE_KEY, "on");
    else localStorage.removeItem(STORE_KEY);
    this.note.hidden = true;
    if (!on) return;
    this.unlockSound(); // inside the click: browsers let the sound play later
    if (!("Notification" in window)) return;
    const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
    this.note.hidden = permission === "granted";
  }

  done(run) {
    if (!this.box.checked || run.status !== "completed") return;
    this.chime();
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
    const notice = new Notification(t("notify.title"), { body: run.prompt, tag: "atelier-done" });
    notice.addEventListener("click", () => window.focus());
  }

  unlockSound() {
    this.audio ??= new AudioContext();
    if (this.audio.state === "suspended") this.audio.resume().catch(() => {});
  }

  // Two soft rising notes, made here: no sound file to load.
  chime() {
    this.unlockSound();
    const start = this.audio.currentTime;
    [660, 880].forEach((pitch, index) => {
      const tone = this.audio.createOscillator();
      const volume = this.audio.createGain();
      const at = start + index * 0.18;
      tone.frequency.value = pitch;
      volume.gain.setValueAtTime(0.12, at);
      volume.gain.exponentialRampToValueAtTime(0.001, at + 0.35);
      tone.connect(volume).connect(this.audio.destination);
      tone.start(at);
      tone.stop(at + 0.4);
    });
  }
}

const TEMPLATE = `
<div class="notify">
  <label class="notify-toggle"><input type="checkbox" id="notify-on"> <span class="notify-text"></span></label>
  <p class="notify-note muted" role="status" hidden></p>
</div>`;

// The template is our own constant markup; every text goes in through textContent.
function build(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}
