// The wall: a class's pictures on a projector, read-only. A wall link's key arrives in the
// address's fragment (#k=...), which never reaches the server's logs; the page sends it once
// in a header, the server answers with a cookie for the feed and the images, and the key
// leaves the address bar at once, so nobody copies it from the projected screen.
// The feed (Server-Sent Events) brings pictures as they are made and takes hidden ones away;
// every time it (re)connects, the pictures are loaded again, so nothing missed stays missing,
// and once a minute besides, so pictures deleted with their student or class leave too.

import { backoff } from "./api.js";
import { addStrings, lang, setLang, t, translatePage } from "./i18n.js";
import { WALL_STRINGS } from "./wall-strings.js";
import { WallView } from "./wall-view.js";

addStrings(WALL_STRINGS);

const $ = (selector) => document.querySelector(selector);
const KEY = /(?:^#|&)k=([A-Za-z0-9_-]{43})(?:&|$)/;
const RELOAD_MS = 60_000;

const classId = (location.pathname.match(/^\/wall\/(\d{1,18})$/) ?? [])[1] ?? "0";
const key = readKey();
const items = new Map(); // run -> wall item
const view = new WallView($("#wall-all"), $("#wall-compare"), $("#wall-status"));
const feed = { source: null, loading: false, missed: [], attempt: 0, refused: false };

function readKey() {
  const match = location.hash.match(KEY);
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return match ? match[1] : null;
}

async function load() {
  const headers = { Accept: "application/json" };
  if (key) headers["X-Wall-Key"] = key;
  let response;
  try {
    response = await fetch(`/api/wall/${classId}`, { headers, credentials: "same-origin" });
  } catch {
    return "offline";
  }
  if (response.status === 404) return "refused";
  if (!response.ok) return "offline";
  const data = await response.json();
  $("#wall-name").textContent = data.name;
  document.title = data.name;
  items.clear();
  for (const item of data.pictures) items.set(item.run, item);
  return "ok";
}

// Load the pictures; events that arrive meanwhile are applied again on top of the answer.
async function refresh() {
  feed.loading = true;
  feed.missed = [];
  const outcome = await load();
  feed.loading = false;
  if (outcome === "refused") return refuse("wall.refused");
  for (const event of feed.missed) apply(event);
  if (outcome === "ok") view.say("");
  render();
}

function apply(event) {
  if (event.kind === "picture" && event.picture) items.set(event.run, event.picture);
  else if (event.kind === "hidden") items.delete(event.run);
}

function onEvent(event) {
  if (event.kind === "shown") return refresh(); // its item comes with the list
  apply(event);
  if (feed.loading) feed.missed.push(event);
  render();
}

function listen() {
  const source = new EventSource(`/api/wall/${classId}/events`);
  feed.source = source;
  source.addEventListener("open", () => {
    feed.attempt = 0;
    refresh();
  });
  source.addEventListener("message", (message) => onEvent(JSON.parse(message.data)));
  source.addEventListener("end", () => refuse("wall.refused"));
  source.addEventListener("error", () => lost(source));
}

// The browser retries a stream that broke by itself; one it could not open at all (refused,
// too many walls, the server down) is closed, and the page asks the pictures why.
async function lost(source) {
  if (feed.refused) return;
  view.say(t("wall.reconnecting"));
  render();
  if (source.readyState !== EventSource.CLOSED) return;
  const outcome = await load();
  if (outcome === "refused") return refuse("wall.refused");
  if (outcome === "ok") view.say(t("wall.busy"));
  render();
  await backoff(feed.attempt++);
  if (!feed.refused) listen();
}

function refuse(message) {
  feed.refused = true;
  feed.source?.close();
  items.clear();
  view.say(t(message));
  render();
}

function render() {
  const newest = [...items.values()].sort((a, b) => b.created - a.created);
  view.render(newest);
}

function choose(button) {
  for (const other of document.querySelectorAll(".wall-views button")) {
    other.setAttribute("aria-pressed", String(other === button));
  }
  view.setView(button.dataset.view);
  render();
}

for (const button of document.querySelectorAll(".wall-views button")) {
  button.addEventListener("click", () => choose(button));
}

async function start() {
  setLang(new URLSearchParams(location.search).get("lang"));
  document.documentElement.lang = lang();
  translatePage();
  view.say(t("wall.loading"));
  render();
  const outcome = await load(); // with the key, this sets the cookie the feed needs
  if (outcome === "refused") return refuse("wall.refused");
  listen();
  setInterval(() => feed.refused || refresh(), RELOAD_MS);
}

start();
