// Small pieces the teacher page's views share: the sentence for a refused call, a yes/no
// question asked in place (no window.confirm: it cannot be styled, translated or announced
// the same way), dates, and showing a class code the way students type it.

import { lang, t } from "./i18n.js";

const KNOWN = new Set(["teachers_only", "invalid_field", "invalid_name", "rate_limited", "offline", "unknown_perspective"]);

// The key of the sentence for a refused call: a 404 means someone else removed the thing.
export function errorKey(answer) {
  if (answer.status === 404) return "teacher.error.not_found";
  return `teacher.error.${KNOWN.has(answer.code) ? answer.code : "generic"}`;
}

// Shows the question after `anchor` with "yes" and "no"; resolves true for "yes". Focus goes
// to "no" (the safe answer) and back to `anchor` afterwards.
export function askInline(anchor, text) {
  return new Promise((resolve) => {
    const box = document.createElement("div");
    box.className = "inline-confirm";
    box.setAttribute("role", "group");
    const question = document.createElement("p");
    question.textContent = text;
    question.id = `ask-${Math.random().toString(36).slice(2)}`;
    box.setAttribute("aria-labelledby", question.id);
    const yes = button(t("confirm.yes"), "danger");
    const no = button(t("confirm.no"), "secondary");
    const answer = (value) => {
      box.remove();
      anchor.focus();
      resolve(value);
    };
    yes.addEventListener("click", () => answer(true));
    no.addEventListener("click", () => answer(false));
    box.addEventListener("keydown", (event) => event.key === "Escape" && answer(false));
    box.append(question, yes, no);
    anchor.after(box);
    no.focus();
  });
}

export function button(text, className) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = text;
  return element;
}

// Server times are seconds since the epoch.
export function formatTime(seconds, options = { dateStyle: "medium", timeStyle: "short" }) {
  if (typeof seconds !== "number") return "";
  return new Date(seconds * 1000).toLocaleString(lang(), options);
}

// "ABCDEFGH" reads as "ABCD-EFGH", the way the students' page accepts it.
export function showCode(code) {
  const plain = String(code ?? "").replace(/[^A-Za-z0-9]/g, "").toUpperCase();
  return plain.length === 8 ? `${plain.slice(0, 4)}-${plain.slice(4)}` : plain;
}

// A list answer either is the list or holds it under `key`.
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  return Array.isArray(data?.[key]) ? data[key] : [];
}

// Puts `nodes` in `parent` in that order, touching the DOM only when the order changed:
// moving a node out and back in would take the keyboard focus away from inside it.
export function syncChildren(parent, nodes) {
  const same = nodes.length === parent.children.length && nodes.every((node, i) => parent.children[i] === node);
  if (!same) parent.replaceChildren(...nodes);
}

// The template is our own constant markup; every server text goes in through textContent.
export function build(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}
