// The teacher page: GET /api/me decides between the sign-in form and the teacher's classes;
// signing in and out, the language switch, and the route: `#class-<id>` opens that class's
// console, anything else shows the list. The views live in their own modules.

import { Api, backoff } from "./api.js";
import { Connection } from "./connection.js";
import { addStrings, lang, setLang, t, translatePage } from "./i18n.js";
import { ClassList } from "./teacher-classes.js";
import { ClassConsole } from "./teacher-console.js";
import { TEACHER_STRINGS } from "./teacher-strings.js";

addStrings(TEACHER_STRINGS);

const $ = (selector) => document.querySelector(selector);
const LOGIN_ERRORS = new Set(["bad_login", "rate_limited", "offline"]);

const api = new Api();
const classes = new ClassList($("#classes"), $("#projector"), api);
// The teacher's own socket, opened when a class's console is first shown.
const connection = new Connection();
const classConsole = new ClassConsole($("#console"), api, connection, classes);
const login = { error: null, busy: false, teacher: false };
const ROUTE = /^#class-(\d+)$/;

classes.addEventListener("signedout", () => showLogin());
classConsole.addEventListener("signedout", () => showLogin());
classConsole.addEventListener("announce", (event) => announce(event.detail));
connection.addEventListener("identity", () => showLogin());
window.addEventListener("hashchange", () => login.teacher && route());
$("#login-form").addEventListener("submit", (event) => signIn(event));
$("#logout").addEventListener("click", () => signOut());

async function loadMe() {
  for (let attempt = 0; ; attempt += 1) {
    const answer = await api.get("/api/me");
    if (answer.ok) {
      api.csrf = answer.data.csrf;
      return answer.data;
    }
    await backoff(attempt); // offline or the server is restarting
  }
}

async function start() {
  const me = await loadMe();
  if (me.role === "teacher") return route();
  showLogin();
}

function showLogin() {
  login.teacher = false;
  classConsole.close();
  $("#classes").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  $("#login-name").focus();
}

// The hash says which view: a class's console, or the list of classes.
async function route() {
  login.teacher = true;
  $("#login").hidden = true;
  $("#logout").hidden = false;
  const match = ROUTE.exec(location.hash);
  if (match) {
    $("#classes").hidden = true;
    if (await classConsole.open(Number(match[1]))) return;
    history.replaceState(null, "", location.pathname); // not the teacher's class: back to the list
  }
  await showClasses();
}

async function showClasses() {
  const from = classConsole.klass?.id;
  classConsole.close();
  $("#classes").hidden = false;
  await classes.load();
  const card = from === undefined ? null : $(`.class-card[data-class="${from}"] .class-open`);
  (card ?? $("#classes-title")).focus(); // back from a class: on its "Open" link
}

async function signIn(event) {
  event.preventDefault();
  if (login.busy) return;
  const name = $("#login-name").value.trim();
  const password = $("#login-password").value;
  if (!name || !password) return loginFailed("login.need_fields", name ? "#login-password" : "#login-name");
  setBusy(true);
  const answer = await api.post("/api/teacher/login", { name, password });
  setBusy(false);
  if (!answer.ok) {
    const key = `login.error.${LOGIN_ERRORS.has(answer.code) ? answer.code : "generic"}`;
    return loginFailed(key, "#login-password");
  }
  $("#login-password").value = "";
  loginFailed(null);
  await loadMe(); // the CSRF token as the server now sees this browser
  route();
}

function loginFailed(key, field = null) {
  login.error = key;
  renderLogin();
  if (field) $(field).focus();
}

function setBusy(busy) {
  login.busy = busy;
  renderLogin();
}

function renderLogin() {
  const error = $("#login-error");
  error.hidden = !login.error;
  error.textContent = login.error ? t(login.error) : "";
  const submit = $("#login-submit");
  submit.disabled = login.busy;
  submit.textContent = t(login.busy ? "login.busy" : "login.submit");
}

async function signOut() {
  const answer = await api.post("/api/teacher/logout");
  if (answer.ok || answer.status === 401) location.reload();
}

function switchLanguage(next) {
  setLang(next);
  markLanguage();
  document.title = t("teacher.title");
  renderLogin();
  classes.render();
  classConsole.render();
  announce(t("announce.lang"));
}

function markLanguage() {
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang()));
  }
}

// Setting the same text twice is not announced again, so clear the region first.
function announce(text) {
  const live = $("#live");
  live.textContent = "";
  requestAnimationFrame(() => (live.textContent = text));
}

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => switchLanguage(button.dataset.lang));
}

document.documentElement.lang = lang();
document.title = t("teacher.title");
translatePage();
markLanguage();
renderLogin();
start();
window.atelier = { api, classes, classConsole, connection }; // for debugging in the browser console and tests
