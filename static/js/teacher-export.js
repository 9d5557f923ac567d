// Taking the class's work home: a ZIP of its pictures (named readably), a prompts.csv, the run
// records and a printable contact sheet, for everything or a time range; and, at the end of a
// lesson, deleting the class's pictures (its members stay), confirmed by typing the class's name.
// The ZIP is fetched rather than linked so a refusal (a range too large, two exports at once)
// is said in the page's words instead of a download of an error.

import { lang, t } from "./i18n.js";
import { errorKey } from "./teacher-ui.js";

const EXPORT_ERRORS = new Set(["invalid_range", "export_too_large", "export_busy"]);

export class TakeHome {
  constructor(details, ctx) {
    this.details = details;
    this.ctx = ctx;
    this.exportForm = details.querySelector(".export-form");
    this.purgeForm = details.querySelector(".purge-form");
    this.exportStatus = null;
    this.purgeStatus = null;
    this.busy = false;
    this.exportForm.addEventListener("submit", (event) => this.download(event));
    this.purgeForm.addEventListener("submit", (event) => this.purge(event));
  }

  open() {
    this.exportStatus = this.purgeStatus = null;
    this.purgeForm.elements.confirm.value = "";
  }

  // The path of the export: the range as the teacher typed it, read in their time zone.
  exportPath() {
    const query = new URLSearchParams({ lang: lang(), tz: String(-new Date().getTimezoneOffset()) });
    for (const name of ["since", "until"]) {
      const value = this.exportForm.elements[name].value;
      if (value) query.set(name, value);
    }
    return `${this.ctx.base}/export?${query}`;
  }

  async download(event) {
    event.preventDefault();
    if (this.busy) return;
    this.busy = true;
    this.setExport("export.busy_making");
    try {
      const response = await fetch(this.exportPath(), { credentials: "same-origin" });
      if (!response.ok) return this.setExport(await exportError(response));
      const blob = await response.blob();
      save(blob, fileName(response, this.ctx.klass.name));
      this.setExport("export.done");
    } catch {
      this.setExport("teacher.error.offline");
    } finally {
      this.busy = false;
      this.exportForm.querySelector(".export-submit").focus();
    }
  }

  async purge(event) {
    event.preventDefault();
    const input = this.purgeForm.elements.confirm;
    if (input.value.trim() !== (this.ctx.klass.name ?? "")) {
      this.setPurge(["purge.mismatch", {}]);
      return input.focus();
    }
    const answer = await this.ctx.api.call("DELETE", `${this.ctx.base}/pictures`, { confirm: input.value.trim() });
    if (this.ctx.signedOut(answer)) return;
    if (!answer.ok) {
      this.setPurge([answer.code === "confirm_mismatch" ? "purge.mismatch" : errorKey(answer), {}]);
      return input.focus();
    }
    input.value = "";
    const n = answer.data?.deleted ?? 0;
    this.setPurge([n === 1 ? "purge.done_one" : "purge.done", { n }]);
    this.ctx.pictures.open(); // reload the pictures and the log if their panels are open
    this.ctx.moderation.open();
    this.purgeForm.querySelector(".panel-status").focus();
  }

  setExport(key) {
    this.exportStatus = key;
    this.render();
  }

  setPurge(status) {
    this.purgeStatus = status;
    this.render();
  }

  render() {
    this.exportForm.querySelector(".export-status").textContent = this.exportStatus ? t(this.exportStatus) : "";
    this.purgeForm.querySelector(".purge-intro").textContent = t("purge.intro", { name: this.ctx.klass.name ?? "" });
    this.purgeForm.querySelector(".panel-status").textContent = this.purgeStatus ? t(...this.purgeStatus) : "";
  }
}

async function exportError(response) {
  let code = null;
  try {
    code = (await response.json())?.error?.code ?? null;
  } catch {
    code = null;
  }
  if (EXPORT_ERRORS.has(code)) return `export.error.${code}`;
  return errorKey({ status: response.status, code });
}

// The server names the file (class and date); a name of our own if a proxy dropped the header.
function fileName(response, className) {
  const header = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  if (match) return decodeURIComponent(match[1]);
  return `${String(className || "class").replace(/[^\w-]+/g, "_")}.zip`;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
