// Who is using the page: GET /api/me at start (access mode, identity, CSRF token), the join
// screen when the server needs a class code first, the "who you are" line with its leave
// button, and the note that says an open server is open. Emits "ready" once the page may
// connect (an identity, or an open server), and again when it may reconnect after the server
// revoked the identity.

import { backoff } from "./api.js";
import { t } from "./i18n.js";
import { JoinForm } from "./join.js";

// An older server without /api/me is an open one with nothing to sign.
const OPEN_ANONYMOUS = { access: "open", role: null, nickname: null, class_name: null, csrf: null };
// What the page keeps per tab for the identity it leaves behind.
const TAB_KEYS = ["atelier.session", "atelier.runs"];

export class People extends EventTarget {
  constructor(root, api) {
    super();
    this.api = api;
    this.me = null;
    this.started = false; // the page has connected once
    // The connection indicator belongs to the app: the join screen has no socket yet.
    this.screens = { join: root.querySelector("#join"), app: root.querySelector("#app"), conn: root.querySelector("#conn") };
    this.who = root.querySelector("#who");
    this.joinButton = root.querySelector("#join-open");
    this.note = root.querySelector("#access-note");
    this.teacherNote = root.querySelector("#teacher-note");
    this.form = new JoinForm(root.querySelector("#join-form"), api);
    this.form.addEventListener("joined", () => this.joined());
    this.form.addEventListener("cancel", () => {
      this.showApp();
      this.joinButton.focus();
    });
    root.querySelector("#leave").addEventListener("click", () => this.leave());
    this.joinButton.addEventListener("click", () => this.showJoin({ cancellable: true }));
  }

  async start() {
    await this.load();
    this.enter();
  }

  async load() {
    for (let attempt = 0; ; attempt += 1) {
      const answer = await this.api.get("/api/me");
      if (answer.ok || answer.status === 404) return this.setMe(answer.ok ? answer.data : OPEN_ANONYMOUS);
      // Its network was given many guest cookies just now: the page goes on without one.
      if (answer.code === "guests_limited") return this.setMe(OPEN_ANONYMOUS);
      await backoff(attempt); // offline or the server is restarting
    }
  }

  setMe(me) {
    this.me = { ...OPEN_ANONYMOUS, ...me };
    this.api.csrf = this.me.csrf;
    this.render();
  }

  needsJoin() {
    return this.me.access === "codes" && !this.me.role;
  }

  enter(notice = null) {
    if (this.needsJoin()) return this.showJoin({ notice });
    this.showApp();
    this.started = true;
    this.dispatchEvent(new Event("ready"));
  }

  showJoin(options) {
    this.screens.app.hidden = this.screens.conn.hidden = true;
    this.screens.join.hidden = false;
    this.form.show(options);
  }

  showApp() {
    this.screens.join.hidden = true;
    this.screens.app.hidden = this.screens.conn.hidden = false;
  }

  // A join replaces the identity. A page that was already connected held the runs and the
  // session of the one before: it starts clean.
  async joined() {
    forgetTab();
    if (this.started) return location.reload();
    await this.load(); // the identity as the server now sees it
    this.enter();
  }

  async leave() {
    const answer = await this.api.post("/api/leave");
    if (!answer.ok && answer.status !== 401) return; // offline: the child can press it again
    forgetTab();
    location.reload(); // a clean page for whoever comes next
  }

  // The server closed the socket for the identity (removed by the teacher, expired).
  async revoked() {
    await this.load();
    this.enter("join.again");
  }

  // `welcome.you` is the socket's view of the same identity.
  welcome(message) {
    if (!message.you) return;
    this.me = { ...this.me, ...message.you, access: message.access ?? this.me.access };
    this.render();
  }

  render() {
    if (!this.me) return;
    const { access, nickname, class_name: className, role } = this.me;
    this.who.hidden = !nickname;
    this.who.querySelector("#leave").hidden = role === "teacher"; // teachers sign out there
    this.teacherNote.hidden = role !== "teacher";
    this.who.querySelector("#who-name").textContent = nickname ?? "";
    this.who.querySelector("#who-class").textContent = className ? t("who.class", { name: className }) : "";
    this.joinButton.hidden = Boolean(nickname) || access !== "open" || role === "teacher";
    this.note.hidden = access !== "open";
    this.form.refresh();
  }
}

function forgetTab() {
  for (const key of TAB_KEYS) sessionStorage.removeItem(key);
}
