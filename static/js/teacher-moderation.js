// The moderation log: every prompt of the class that a safety check stopped, newest first,
// with the student, the time, the stage that stopped it and why (the matched word or the
// verdict's reason: shown to the teacher only, never to a student), and a flag to come back to
// it with the class. Loaded when the panel is opened, again on "Refresh" and whenever a run of
// the class ends blocked while it is open.

import { t } from "./i18n.js";
import { build, formatTime, listOf, syncChildren } from "./teacher-ui.js";

export class Moderation {
  constructor(details, ctx) {
    this.details = details;
    this.ctx = ctx;
    this.rows = null; // not loaded
    this.items = new Map(); // run id -> its entry
    this.status = null;
    details.addEventListener("toggle", () => details.open && this.load());
    details.querySelector(".panel-refresh").addEventListener("click", () => this.load(true));
    document.addEventListener("runended", (event) => event.detail.status === "blocked" && this.details.open && this.load());
  }

  open() {
    this.rows = null;
    this.items.clear();
    this.status = null;
    if (this.details.open) this.load();
  }

  async load(focus = false) {
    const klass = this.ctx.klass;
    const answer = await this.ctx.api.get(`${this.ctx.base}/moderation`);
    if (this.ctx.klass?.id !== klass.id) return; // another class was opened meanwhile
    if (this.ctx.failed(answer)) return this.setStatus("panel.failed");
    this.rows = listOf(answer.data, "blocked");
    this.setStatus(this.rows.length ? null : "moderation.empty");
    if (focus) this.details.querySelector(".panel-refresh").focus();
  }

  setStatus(key) {
    this.status = key;
    this.render();
  }

  render() {
    const status = this.details.querySelector(".panel-status");
    status.textContent = this.status ? t(this.status) : "";
    const items = (this.rows ?? []).map((row) => this.item(row));
    syncChildren(this.details.querySelector(".blocked-list"), items);
  }

  // Each entry's <li> is kept by run, so a reload never takes the focus off its flag button.
  item(row) {
    let li = this.items.get(row.run);
    if (!li) {
      li = build(ITEM);
      const flag = li.querySelector(".blocked-flag");
      flag.addEventListener("click", () => this.flag(li, flag));
      this.items.set(row.run, li);
    }
    li.row = row;
    fill(li, row, this.ctx);
    return li;
  }

  async flag(li, button) {
    const row = li.row;
    const path = `${this.ctx.base}/pictures/${encodeURIComponent(row.run)}`;
    const answer = await this.ctx.api.call("PATCH", path, { flagged: !row.flagged });
    if (this.ctx.failed(answer)) return;
    row.flagged = Boolean(answer.data?.flagged ?? !row.flagged);
    fill(li, row, this.ctx);
    this.ctx.say(row.flagged ? "moderation.flagged" : "moderation.unflagged", { nickname: row.nickname ?? "" });
    button.focus();
  }
}

function fill(li, row, ctx) {
  li.dataset.run = row.run ?? "";
  const time = li.querySelector("time");
  time.textContent = formatTime(row.created ?? row.time, { timeStyle: "short" });
  li.querySelector(".blocked-name").textContent = row.nickname ?? t("moderation.teacher");
  li.querySelector(".blocked-stage").textContent = t("moderation.stage", { stage: stageName(row.stage) });
  li.querySelector(".blocked-perspective").textContent = ctx.settings.perspectiveName(row.perspective);
  li.querySelector(".blocked-prompt").textContent = row.prompt ?? "";
  const reason = row.reason ?? row.teacher_reason;
  li.querySelector(".blocked-reason").textContent = reason ? t("moderation.reason", { reason }) : t("moderation.no_reason");
  li.dataset.flagged = String(Boolean(row.flagged));
  const flag = li.querySelector(".blocked-flag");
  flag.textContent = t(row.flagged ? "pictures.unflag" : "pictures.flag");
  flag.setAttribute("aria-pressed", String(Boolean(row.flagged)));
}

function stageName(stage) {
  return stage ? t(`stage.${stage}`) : t("moderation.unknown_stage");
}

const ITEM = `
<li class="blocked">
  <p class="blocked-head"><time></time> <strong class="blocked-name"></strong> <span class="blocked-stage"></span> <span class="blocked-perspective muted"></span></p>
  <p class="blocked-prompt"></p>
  <p class="blocked-reason"></p>
  <button type="button" class="blocked-flag secondary"></button>
</li>`;
