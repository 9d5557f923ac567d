// The live view of one class: every student (online or not) with their current runs, and the
// class's queue in order, over the teacher's own socket: `class.watch` answered by a full
// `class.state`, then `class.run` with what changed (at most ten a second) and `class.picture`
// when a picture is made or hidden. These are live only (never replayed): after a reconnect
// the page watches again and gets a fresh snapshot, so nothing is patched up by hand.

import { t } from "./i18n.js";
import { LiveRun } from "./teacher-live-run.js";
import { build, syncChildren } from "./teacher-ui.js";

// Finished runs stay on a student's row so the teacher sees how they ended; older ones drop
// off. A compare run (one idea, 2-4 perspectives) counts as one and is shown side by side.
const RUNS_PER_STUDENT = 3;

export class LiveView {
  constructor(section, ctx, connection) {
    this.section = section;
    this.ctx = ctx;
    this.connection = connection;
    this.classId = null;
    this.state = null; // the last class.state: {students, queue}
    this.runData = new Map(); // run id -> the run as shown, newest last (text and preview kept)
    this.rows = new Map(); // student key -> StudentRow
    this.runs = new Map(); // run id -> LiveRun, kept so a focused button stays in the page
    this.groups = new Map(); // compare group id -> its row's element, kept for the same reason
    this.refused = false;
    connection.addEventListener("welcome", () => this.watch());
    connection.addEventListener("message", (event) => this.receive(event.detail));
    connection.addEventListener("state", () => this.renderConnection());
  }

  open() {
    this.classId = this.ctx.klass.id;
    this.reset();
    if (this.connection.state === "connected") this.watch();
    else this.connection.open();
    this.render();
  }

  reset() {
    this.state = null;
    this.refused = false;
    this.runData.clear();
    this.rows.clear();
    this.runs.clear();
    this.groups.clear();
  }

  close() {
    if (this.classId !== null) this.connection.send({ type: "class.unwatch" });
    this.classId = null;
    this.reset();
  }

  watch() {
    if (this.classId !== null) this.connection.send({ type: "class.watch", class_id: this.classId });
  }

  receive(message) {
    if (message.class_id !== undefined && message.class_id !== this.classId) return;
    if (message.type === "class.state") return this.snapshot(message);
    if (message.type === "class.run" && this.state) return this.changed(message.runs ?? []);
    if (message.type === "class.picture") return this.section.dispatchEvent(bubbling("classpicture", message));
    if (message.type === "error" && this.classId !== null && !this.state && WATCH_REFUSALS.has(message.code)) {
      this.refused = true;
      this.render();
    }
  }

  snapshot(message) {
    this.runData.clear();
    for (const view of message.runs ?? []) this.merge(view);
    this.state = { students: message.students ?? [], queue: message.queue ?? [] };
    this.ctx.controls.locks.clear(); // the snapshot says who is locked
    this.ctx.update({ paused: Boolean(message.paused), lesson_open: message.lesson_open !== false });
  }

  changed(views) {
    let added = false;
    for (const view of views) {
      const old = this.runData.get(view.run);
      added ||= !old;
      const run = this.merge(view);
      this.runs.get(run.run)?.update(run);
      if (run.done && !old?.done) this.section.dispatchEvent(bubbling("runended", run));
    }
    if (added) this.render();
    else this.renderQueue();
  }

  // A run's view from the server onto what the page holds: its current stage's text is what
  // the page had up to `at`, and then `piece`; a preview's image comes once and is kept. While
  // a stage without text runs (the picture), the text of the stage before it stays shown.
  merge(view) {
    const old = this.runData.get(view.run);
    const text = (old && old.stage === view.stage ? old.text.slice(0, view.at) : "") + (view.piece ?? "");
    const image = view.preview_data ? `data:${view.preview_mime};base64,${view.preview_data}` : old?.previewImage;
    const shown = text || (old?.stage !== view.stage ? old?.text || old?.shown : old?.shown) || "";
    const run = { ...view, text, shown, previewImage: view.preview ? image ?? null : null };
    this.runData.set(view.run, run);
    return run;
  }

  // A student's latest runs, newest first, as elements: one per run, one row per compare.
  runsOf(student) {
    const runs = [...this.runData.values()].filter((run) => run.member === student.member).reverse();
    const units = [];
    for (const run of runs) {
      const unit = run.group ? units.find((other) => other.group === run.group) : null;
      if (unit) unit.runs.unshift(run); // the compare's runs in the order they started
      else if (units.length < RUNS_PER_STUDENT) units.push({ group: run.group, runs: [run] });
    }
    return units.map((unit) => (unit.group ? this.groupView(unit) : this.runView(unit.runs[0])));
  }

  groupView(unit) {
    let item = this.groups.get(unit.group);
    if (!item) {
      item = build(COMPARE);
      item.dataset.group = unit.group;
      this.groups.set(unit.group, item);
    }
    item.querySelector(".live-compare-title").textContent = t("live.compare", { n: unit.runs.length });
    syncChildren(item.querySelector(".live-compare-row"), unit.runs.map((run) => this.runView(run)));
    return item;
  }

  removed(student) {
    if (this.state) this.state.students = this.state.students.filter((other) => keyOf(other) !== keyOf(student));
    this.render();
  }

  render() {
    this.renderConnection();
    const empty = this.section.querySelector("#live-empty");
    const students = this.state?.students ?? [];
    const note = this.refused ? "live.refused" : !this.state ? "live.loading" : students.length ? null : "live.no_students";
    empty.hidden = !note;
    empty.textContent = note ? t(note) : "";
    const keys = new Set(students.map(keyOf));
    for (const key of this.rows.keys()) if (!keys.has(key)) this.rows.delete(key);
    syncChildren(this.section.querySelector("#students"), students.map((student) => this.row(student).render(student)));
    this.renderQueue();
  }

  row(student) {
    let row = this.rows.get(keyOf(student));
    if (!row) {
      row = new StudentRow(this);
      this.rows.set(keyOf(student), row);
    }
    return row;
  }

  runView(run) {
    let view = this.runs.get(run.run);
    if (!view) {
      view = new LiveRun(this.ctx);
      this.runs.set(run.run, view);
    }
    view.update(run);
    return view.root;
  }

  // The class's waiting runs, first in line first: the snapshot's order, and between
  // snapshots each run's place from its own updates (a run served leaves, a new one joins).
  waiting() {
    const order = this.state?.queue ?? [];
    const rank = (run) => [order.includes(run.run) ? order.indexOf(run.run) : order.length, run.place ?? Infinity];
    const runs = [...this.runData.values()].filter((run) => !run.done && (run.place > 0 || run.status === "queued"));
    return runs.sort((a, b) => {
      const [x, y] = [rank(a), rank(b)];
      return x[0] - y[0] || x[1] - y[1];
    });
  }

  renderQueue() {
    const queue = this.waiting();
    this.section.querySelector("#queue-empty").hidden = queue.length > 0;
    const items = queue.map((run) => {
      const item = document.createElement("li");
      item.dataset.run = run.run;
      const where = run.stage ? t(`stage.${run.stage}`) : t("queue.own_line");
      item.textContent = t("queue.entry", { nickname: run.nickname ?? t("moderation.teacher"), where });
      return item;
    });
    this.section.querySelector("#class-queue").replaceChildren(...items);
  }

  renderConnection() {
    const conn = this.section.querySelector("#live-conn");
    conn.dataset.state = this.connection.state;
    conn.querySelector(".conn-text").textContent = t(`conn.${this.connection.state}`);
  }
}

// What the server answers a `class.watch` it refuses (not this teacher's class, too many watched).
const WATCH_REFUSALS = new Set(["not_found", "unknown_class", "too_many_classes", "invalid_field"]);

function bubbling(name, detail) {
  return new CustomEvent(name, { detail, bubbles: true });
}

function keyOf(student) {
  return String(student.member ?? student.nickname);
}

// One student: nickname, online or not, locked or not, their buttons, their latest runs.
class StudentRow {
  constructor(live) {
    this.live = live;
    this.student = null;
    this.root = build(STUDENT);
    const controls = live.ctx.controls;
    this.part(".student-lock").addEventListener("click", (event) => controls.lock(this.student, event.currentTarget));
    this.part(".student-remove").addEventListener("click", (event) => controls.remove(this.student, event.currentTarget));
  }

  part(selector) {
    return this.root.querySelector(selector);
  }

  render(student) {
    this.student = student;
    this.root.dataset.member = keyOf(student);
    this.root.dataset.online = String(Boolean(student.online));
    this.part(".student-name").textContent = student.nickname ?? "";
    this.part(".student-online").textContent = t(student.online ? "live.online" : "live.offline");
    const locked = this.live.ctx.controls.locked(student);
    this.root.dataset.locked = String(locked);
    this.part(".student-locked").hidden = !locked;
    this.part(".student-locked").textContent = t("live.locked");
    const lock = this.part(".student-lock");
    lock.textContent = t(locked ? "member.unlock" : "member.lock");
    lock.hidden = student.member === undefined;
    this.part(".student-remove").textContent = t("member.remove");
    this.part(".student-remove").hidden = student.member === undefined;
    const runs = this.live.runsOf(student);
    const idle = this.part(".student-idle");
    idle.hidden = runs.length > 0;
    idle.textContent = t("live.idle");
    syncChildren(this.part(".student-runs"), runs);
    return this.root;
  }
}

const COMPARE = `
<li class="live-compare">
  <p class="live-compare-title"></p>
  <ul class="live-compare-row"></ul>
</li>`;

const STUDENT = `
<li class="student">
  <div class="student-head">
    <span class="student-name"></span>
    <span class="student-online"></span>
    <span class="student-locked badge" hidden></span>
    <span class="student-actions">
      <button type="button" class="student-lock secondary"></button>
      <button type="button" class="student-remove secondary"></button>
    </span>
  </div>
  <p class="student-idle muted"></p>
  <ul class="student-runs"></ul>
</li>`;
