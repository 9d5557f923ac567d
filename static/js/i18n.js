// Language: the current choice, string lookup, and translating the static markup in place.
// Elements opt in with data-i18n (text), data-i18n-placeholder, data-i18n-label (aria-label)
// and data-i18n-title; everything built by script calls t() when it renders.

import { STRINGS } from "./strings.js";

const STORE_KEY = "atelier.lang";
export const LANGS = ["de", "en"];
// The students' strings, and whatever another page adds with addStrings().
const TABLE = { en: { ...STRINGS.en }, de: { ...STRINGS.de } };

let current = initialLang();

function initialLang() {
  const saved = localStorage.getItem(STORE_KEY);
  if (LANGS.includes(saved)) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("de") ? "de" : "en";
}

export function lang() {
  return current;
}

export function setLang(next) {
  if (!LANGS.includes(next)) return;
  current = next;
  localStorage.setItem(STORE_KEY, next);
  document.documentElement.lang = next;
  translatePage();
}

// A page's own strings (the teacher page's), language -> key -> template.
export function addStrings(more) {
  for (const name of LANGS) Object.assign(TABLE[name], more[name]);
}

export function t(key, vars = {}) {
  const template = TABLE[current][key] ?? TABLE.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

// "1st", "2nd", "3rd" in English; German says "Platz 3" and uses the plain number.
export function ordinal(n) {
  if (current === "de") return `${n}.`;
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ["th", "st", "nd", "rd"][n % 10] ?? "th";
  return `${n}${suffix}`;
}

export function duration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return t("time.seconds", { n: total });
  return t("time.minutes", { m: Math.floor(total / 60), s: total % 60 });
}

// Elapsed stage times: one decimal below ten seconds reads better than "0 s".
export function elapsed(seconds) {
  if (seconds < 10) {
    const n = Math.max(0.1, seconds).toLocaleString(current, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    return t("time.seconds", { n });
  }
  return duration(seconds);
}
