// The strings of "pictures worth keeping" (the full-screen view, the actions on each picture,
// the tab title, the "tell me when it is ready" switch and the example ideas), in English and
// German, added to the students' table (strings.js is full).

import { addStrings } from "./i18n.js";

export const PICS_STRINGS = {
  en: {
    "view.open": "Show big: {prompt}",
    "view.label": "Picture {n} of {total}",
    "view.close": "Close",
    "view.previous": "Previous picture",
    "view.next": "Next picture",
    "view.count": "{n} of {total}",
    "more.again": "Try again",
    "more.reuse": "Use this idea again",
    "more.other": "Same idea, another perspective",
    "more.group": "What next with this picture",
    "notify.toggle": "Tell me when my picture is ready",
    "notify.title": "Your picture is ready",
    "notify.blocked": "This browser may not show messages. You will hear a sound instead.",
    "examples.label": "Ideas to start with",
    "examples.1": "a dragon having a picnic on a hill",
    "examples.2": "my school in a hundred years",
    "examples.3": "a cat that is a famous painter",
    "examples.4": "a city built of sweets",
  },
  de: {
    "view.open": "Groß zeigen: {prompt}",
    "view.label": "Bild {n} von {total}",
    "view.close": "Schließen",
    "view.previous": "Voriges Bild",
    "view.next": "Nächstes Bild",
    "view.count": "{n} von {total}",
    "more.again": "Noch einmal",
    "more.reuse": "Diese Idee wieder nehmen",
    "more.other": "Gleiche Idee, andere Perspektive",
    "more.group": "Was du mit diesem Bild machen kannst",
    "notify.toggle": "Sag mir Bescheid, wenn mein Bild fertig ist",
    "notify.title": "Dein Bild ist fertig",
    "notify.blocked": "Dieser Browser darf keine Nachrichten zeigen. Du hörst stattdessen einen Ton.",
    "examples.label": "Ideen zum Anfangen",
    "examples.1": "ein Drache beim Picknick auf einem Hügel",
    "examples.2": "meine Schule in hundert Jahren",
    "examples.3": "eine Katze, die eine berühmte Malerin ist",
    "examples.4": "eine Stadt aus Süßigkeiten",
  },
};

addStrings(PICS_STRINGS);
