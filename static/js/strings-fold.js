// The strings of the compact perspective picker and of the "see your picture" cue, in English
// and German, added to the students' table (strings.js is full). The page's first paint
// (index.html's #boot) shows its few words in both languages before this loads.

import { addStrings } from "./i18n.js";

export const FOLD_STRINGS = {
  en: {
    "pick.open": "Choose another",
    "pick.chosen": "Chosen:",
    "arrival.see": "See your picture",
  },
  de: {
    "pick.open": "Andere wählen",
    "pick.chosen": "Gewählt:",
    "arrival.see": "Zu deinem Bild",
  },
};

addStrings(FOLD_STRINGS);
