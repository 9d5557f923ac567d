// Wiring: who uses the page -> connection -> store -> views, the form -> run.start, "My
// pictures", the language switch, and what gets announced. Each piece lives in its own module;
// this one only connects them.

import { Api } from "./api.js";
import { Arrival } from "./arrival.js";
import { loadCatalog } from "./catalog.js";
import { PerspectiveCards } from "./cards.js";
import { ComparePicker } from "./compare.js";
import { Composer } from "./composer.js";
import { Connection } from "./connection.js";
import { Gallery } from "./gallery.js";
import { lang, ordinal, setLang, t, translatePage } from "./i18n.js";
import { People } from "./people.js";
import { PictureExtras } from "./picture-extras.js";
import { MyPictures } from "./pictures.js";
import { Store } from "./store.js";
import { StatusBar } from "./status.js";
import { ImageUpload, startRefusal } from "./upload.js";
import "./strings-fold.js";

const $ = (selector) => document.querySelector(selector);

const store = new Store();
const api = new Api();
const people = new People(document, api);
const connection = new Connection();
const status = new StatusBar(document);
const cards = new PerspectiveCards($("#cards"));
const picker = new ComparePicker($("#compare"));
const upload = new ImageUpload($("#upload"), $("#compose"), api); // where a perspective takes a picture
const composer = new Composer($("#compose"), cards, picker, upload);
const offerUpload = () => upload.offer(cards.current(), picker.on);
cards.addEventListener("change", offerUpload);
picker.addEventListener("change", offerUpload);
// The full-screen view, "what next" on each picture, the tab title, examples (picture-extras.js).
const extras = new PictureExtras({ store, composer, cards, start: (fields) => startRun(fields) });
const gallery = new Gallery($("#runs"), $("#runs-empty"), store, {
  actions: extras.actions,
  viewer: extras.viewer,
  onCancel: (run) => connection.send({ type: "run.cancel", run }),
  onRetry: (run) => {
    if (startRun(store.retryFields(run))) store.retried(run);
  },
  perspective: (id) => cards.byId(id),
});
const arrival = new Arrival($("#see-picture"), (id) => gallery.views.get(id)?.root); // the finished picture, found
const pictures = new MyPictures($("#my-pictures"), api, {
  perspective: (id) => cards.byId(id),
  actions: extras.actions,
  viewer: extras.viewer,
});

// The socket opens only once the page knows who uses it (in `codes` mode: after the join).
people.addEventListener("ready", () => {
  pictures.load();
  connection.open();
});
pictures.addEventListener("signedout", () => people.revoked());
connection.addEventListener("identity", () => people.revoked());
connection.addEventListener("crowded", () => composer.showError(t("error.too_many_sessions")));
// Another tab or device may have made or deleted pictures meanwhile.
document.addEventListener("visibilitychange", () => !document.hidden && people.started && pictures.load());

connection.addEventListener("state", (event) => {
  status.setConnection(event.detail);
  composer.setConnected(event.detail === "connected");
  if (event.detail !== "connecting") status.announce(t(`conn.${event.detail}`));
});
connection.addEventListener("message", (event) => store.receive(event.detail));
connection.addEventListener("fatal", () => composer.showError(t("error.reload")));

store.addEventListener("welcome", (event) => {
  people.welcome(event.detail);
  if (pictures.loaded) pictures.load(); // after a reconnect: runs may have ended meanwhile
  status.setDemo(event.detail.demo);
  composer.setLimits(store.limits);
  upload.setLimits(store.limits);
  if (event.detail.fresh) composer.sending(null); // a new session: no answer comes for the old one
});
store.addEventListener("runs", (event) => {
  gallery.sync();
  extras.title.update();
  if (event.detail?.ref) gallery.focusRun(event.detail.added); // a run this page just started
  if (event.detail?.ref) upload.used(store.runs.get(event.detail.added)?.input);
  composer.answered(event.detail?.ref);
  if (event.detail?.lost) status.announce(t("announce.lost"));
});
store.addEventListener("backend", () => status.setBackends(store.backends));
store.addEventListener("run", (event) => {
  const { run, message } = event.detail;
  gallery.render(run);
  extras.changed(event.detail, connection.state === "connected");
  if (connection.state !== "connected") return; // replayed history arrives before `welcome`
  announceChange(event.detail);
  if (message.type === "run.done" && run.status === "completed") pictures.arrived(run.id);
  if (message.type === "run.done" && run.status === "completed") arrival.arrived(run.id);
});
store.addEventListener("notice", (event) => {
  composer.answered(event.detail.error.ref);
  // The socket's close follows, and the join screen says what to do.
  if (event.detail.error.code !== "join_required") composer.showError(errorText(event.detail.error));
});

// The prompt stays in the box: students often change one word and try again.
composer.addEventListener("start", (event) => startRun(event.detail));
composer.addEventListener("compare", (event) => startRun(event.detail, "compare.start"));

function startRun(detail, type = "run.start") {
  const fields = { ...detail, lang: lang() };
  const ref = store.request(fields);
  const sent = connection.send({ type, ...fields, ref });
  if (sent) status.announce(t("announce.started"));
  if (sent) composer.sending(ref); // until the server answers this ref
  return sent;
}

// Replayed history arrives before `welcome`: only live changes are announced.
function announceChange({ run, message, before }) {
  if (run.status === "lost" && before.status !== "lost") return status.announce(t("announce.lost"));
  if (message.type === "run.done") {
    const reason = run.reason ?? "";
    return status.announce(t(`announce.${run.status}`, { reason }));
  }
  if (message.type === "queue" && run.queue.paused && !before.queue?.paused) {
    return status.announce(t("queue.paused"));
  }
  const place = run.queue?.position;
  if (message.type === "queue" && place && place !== before.queue?.position && run.queue.stage) {
    return status.announce(t("announce.queue", { ord: ordinal(place), n: place }));
  }
  if (before.queue?.stage && !run.queue) status.announce(t("announce.working"));
}

// The server's own error text is for developers (it may name a run, a field, a limit): a
// child reads one of the page's sentences, chosen by the stable code.
function errorText(error) {
  const known = ["too_many_runs", "rate_limited", "unavailable", "unknown_config", "invalid_field", "lesson_closed"];
  if (startRefusal(error.code)) return startRefusal(error.code); // the run's picture
  if (error.code === "busy") {
    return error.retry_after != null ? t("error.busy", { n: Math.ceil(error.retry_after) }) : t("error.busy_plain");
  }
  return t(known.includes(error.code) ? `error.${error.code}` : "error.generic");
}

async function showCatalog() {
  const wanted = lang();
  $("#catalog-status").textContent = t("catalog.loading");
  const catalog = await loadCatalog(wanted, {
    onRetry: () => ($("#catalog-status").textContent = t("catalog.failed")),
  });
  if (wanted !== lang()) return; // the language changed while loading
  $("#catalog-status").textContent = "";
  cards.render(catalog.interceptions);
  picker.render(catalog.interceptions);
  upload.setCatalog(catalog);
  offerUpload();
  composer.loadMeta();
  gallery.renderAll();
  pictures.render(); // perspective names
}

function switchLanguage(next) {
  setLang(next);
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === next));
  }
  status.render();
  picker.refresh();
  composer.refresh();
  gallery.sync(); // compare rows' titles too
  people.render();
  pictures.render();
  extras.render();
  status.announce(t("announce.lang"));
  showCatalog();
}

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => switchLanguage(button.dataset.lang));
}

document.documentElement.lang = lang();
translatePage();
for (const button of document.querySelectorAll("[data-lang]")) {
  button.setAttribute("aria-pressed", String(button.dataset.lang === lang()));
}
status.render();
composer.refresh();
showCatalog();
people.start();
window.atelier = { connection, store, people, pictures }; // for debugging in the browser console and tests
