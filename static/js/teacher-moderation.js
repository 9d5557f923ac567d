// The moderation log: every prompt of the class that a safety check stopped, newest first,
// with the student, the time, the stage that stopped it and why (the matched word or the
// verdict's reason: shown to the teacher only, never to a student). Loaded when the panel is
// opened, again on "Refresh" and whenever a run of the class ends blocked while it is open.

import { t } from "./i18n.js";
import { build, formatTime, listOf } from "./teacher-ui.js";

export class Moderation {
  constructor(details, ctx) {
    this.details = details;
    this.ctx = ctx;
    this.rows = null; // not loaded
    this.status = null;
    details.addEventListener("toggle", () => details.open && this.load());
    details.querySelector(".panel-refresh").addEventListener("click", () => this.load(true));
    document.addEventListener("runended", (event) => event.detail.status === "blocked" && this.details.open && this.load());
  }

  open() {
    this.rows = null;
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
    const items = (this.rows ?? []).map((row) => item(row, this.ctx));
    this.details.querySelector(".blocked-list").replaceChildren(...items);
  }
}

function item(row, ctx) {
  const li = build(ITEM);
  li.dataset.run = row.run ?? "";
  const time = li.querySelector("time");
  time.textContent = formatTime(row.created ?? row.time, { timeStyle: "short" });
  li.querySelector(".blocked-name").textContent = row.nickname ?? t("moderation.teacher");
  li.querySelector(".blocked-stage").textContent = t("moderation.stage", { stage: stageName(row.stage) });
  li.querySelector(".blocked-perspective").textContent = ctx.settings.perspectiveName(row.perspective);
  li.querySelector(".blocked-prompt").textContent = row.prompt ?? "";
  const reason = row.reason ?? row.teacher_reason;
  li.querySelector(".blocked-reason").textContent = reason ? t("moderation.reason", { reason }) : t("moderation.no_reason");
  return li;
}

function stageName(stage) {
  return stage ? t(`stage.${stage}`) : t("moderation.unknown_stage");
}

const ITEM = `
<li class="blocked">
  <p class="blocked-head"><time></time> <strong class="blocked-name"></strong> <span class="blocked-stage"></span> <span class="blocked-perspective muted"></span></p>
  <p class="blocked-prompt"></p>
  <p class="blocked-reason"></p>
</li>`;
