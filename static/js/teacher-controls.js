// The console's controls: pause and resume the class's queue, end the lesson (every run is
// cancelled, no new ones start) or open a new one, a new join code, and the actions on one
// student or run that the live view's buttons call: cancel a run, lock or unlock a nickname,
// remove a student. Whatever changes more than the answer says arrives as `class.state`.

import { t } from "./i18n.js";
import { askInline } from "./teacher-ui.js";

export class Controls {
  constructor(section, ctx) {
    this.section = section;
    this.ctx = ctx;
    this.busy = false;
    this.locks = new Map(); // member id -> locked, from this page's lock/unlock since the last class.state
    this.pause = section.querySelector("#pause");
    this.lesson = section.querySelector("#lesson");
    this.pause.addEventListener("click", () => this.togglePause());
    this.lesson.addEventListener("click", () => this.toggleLesson());
    section.querySelector("#console-rotate").addEventListener("click", (event) => this.rotate(event.currentTarget));
  }

  // A lock just set here shows at once; the next class.state (which says it too) replaces it.
  locked(student) {
    return this.locks.has(student.member) ? this.locks.get(student.member) : Boolean(student.locked);
  }

  render() {
    const klass = this.ctx.klass;
    const open = klass.lesson_open !== false;
    this.pause.textContent = t(klass.paused ? "controls.resume" : "controls.pause");
    this.pause.setAttribute("aria-pressed", String(Boolean(klass.paused)));
    this.pause.disabled = !open;
    this.lesson.textContent = t(open ? "controls.end" : "controls.open");
    this.lesson.className = open ? "secondary" : "primary";
    this.section.querySelector("#open-wall").href = `/wall/${encodeURIComponent(klass.id)}`;
  }

  // One call at a time: a double tap on a tablet must not pause and resume at once.
  async post(path, body) {
    if (this.busy) return null;
    this.busy = true;
    try {
      const answer = await this.ctx.api.post(`${this.ctx.base}${path}`, body);
      return this.ctx.failed(answer) ? null : answer;
    } finally {
      this.busy = false;
    }
  }

  async togglePause() {
    const paused = !this.ctx.klass.paused;
    const answer = await this.post(paused ? "/pause" : "/resume");
    if (!answer) return;
    this.ctx.update({ paused, ...answer.data });
    this.ctx.say(paused ? "controls.paused" : "controls.resumed");
    this.pause.focus();
  }

  async toggleLesson() {
    const open = this.ctx.klass.lesson_open !== false;
    const question = t(open ? "controls.end_confirm" : "controls.open_confirm", { name: this.ctx.klass.name });
    if (!(await askInline(this.lesson, question))) return;
    const answer = await this.post(open ? "/end" : "/open");
    if (!answer) return;
    this.ctx.update({ lesson_open: !open, ...answer.data });
    this.ctx.say(open ? "controls.ended" : "controls.opened");
    this.lesson.focus();
  }

  async rotate(button) {
    if (!(await askInline(button, t("class.rotate_confirm")))) return;
    const answer = await this.post("/code");
    if (!answer) return;
    this.ctx.update({ ...answer.data, id: this.ctx.klass.id });
    this.ctx.say("class.rotated");
    button.focus();
  }

  async cancel(run, button) {
    const question = t("live.cancel_confirm", { nickname: run.nickname ?? "" });
    if (!(await askInline(button, question))) return;
    if (!(await this.post(`/runs/${encodeURIComponent(run.run)}/cancel`))) return;
    this.ctx.say("live.cancelled", { nickname: run.nickname ?? "" });
    focusNear(button, ".student");
  }

  async lock(student, button) {
    const locked = !this.locked(student);
    const vars = { nickname: student.nickname ?? "" };
    if (locked && !(await askInline(button, t("member.lock_confirm", vars)))) return;
    if (!(await this.post(`/members/${encodeURIComponent(student.member)}/${locked ? "lock" : "unlock"}`))) return;
    this.locks.set(student.member, locked);
    this.ctx.live.render();
    this.ctx.say(locked ? "member.locked" : "member.unlocked", vars);
    button.focus();
  }

  async remove(student, button) {
    const vars = { nickname: student.nickname ?? "" };
    if (!(await askInline(button, t("member.remove_confirm", vars)))) return;
    const answer = await this.ctx.api.delete(`${this.ctx.base}/members/${encodeURIComponent(student.member)}`);
    if (answer.status !== 404 && this.ctx.failed(answer)) return;
    this.ctx.live.removed(student);
    this.ctx.say("member.removed", vars);
    this.pause.focus();
  }
}

// The button may be gone once the run ended: keep the focus in the student's row.
function focusNear(button, selector) {
  if (button.isConnected && !button.hidden) return button.focus();
  const row = button.closest(selector);
  (row?.querySelector("button:not([hidden])") ?? document.querySelector("#pause"))?.focus();
}
