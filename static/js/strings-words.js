// The strings of the whole-run estimate ("your picture in about 40 s", with the current step
// beneath) and of the plainer stage words (a stopped stage, the picture number, the English
// for the picture machine), in English and German, added to the students' table (strings.js is
// full). Registered on import.

import { addStrings } from "./i18n.js";

export const WORDS_STRINGS = {
  en: {
    "eta.whole": "Your picture in about {eta}",
    "eta.soon": "Your picture is almost ready…",
    "eta.step": "Now: {stage} (step {n} of {total})",
    "eta.minutes": "{m} min",
    "queue.step": "{stage}: {ord} in line",
    "stage.stopped": "cancelled",
    "interception.stopped": "Cancelled before it was finished.",
    "translation.label": "In English, for the picture machine:",
    "generation.number": "Picture number {seed}",
  },
  de: {
    "eta.whole": "Dein Bild in etwa {eta}",
    "eta.soon": "Dein Bild ist gleich fertig…",
    "eta.step": "Gerade: {stage} (Schritt {n} von {total})",
    "eta.minutes": "{m} Min.",
    "queue.step": "{stage}: Platz {n} in der Warteschlange",
    "stage.stopped": "abgebrochen",
    "interception.stopped": "Abgebrochen, bevor es fertig war.",
    "translation.label": "Auf Englisch, für die Bildmaschine:",
    "generation.number": "Bildnummer {seed}",
  },
};

addStrings(WORDS_STRINGS);
