// Every string the wall shows, in English and German. The wall is read from the back of a
// room: short words, nothing technical, no server text shown as it is.

export const WALL_STRINGS = {
  en: {
    "wall.title": "Our pictures",
    "wall.views": "What the wall shows",
    "wall.view.all": "All pictures",
    "wall.view.compare": "Compare",
    "wall.loading": "Loading the pictures…",
    "wall.empty": "The pictures appear here as soon as they are made.",
    "wall.compare.empty": "When someone compares one idea through several perspectives, it appears here side by side.",
    "wall.reconnecting": "The connection was lost. Trying again…",
    "wall.refused": "This wall cannot be shown here. Ask the teacher for a new wall link.",
    "wall.busy": "This wall is open on too many screens. Close one and reload this page.",
    "wall.by": "by {nickname}",
    "wall.quote": "“{prompt}”",
    "wall.picture": "{perspective}: “{prompt}” by {nickname}",
    "wall.input": "The picture it started from",
  },
  de: {
    "wall.title": "Unsere Bilder",
    "wall.views": "Was die Wand zeigt",
    "wall.view.all": "Alle Bilder",
    "wall.view.compare": "Vergleichen",
    "wall.loading": "Die Bilder werden geladen…",
    "wall.empty": "Die Bilder erscheinen hier, sobald sie fertig sind.",
    "wall.compare.empty": "Wenn jemand eine Idee durch mehrere Perspektiven vergleicht, erscheint sie hier nebeneinander.",
    "wall.reconnecting": "Die Verbindung ist weg. Neuer Versuch…",
    "wall.refused": "Diese Wand kann hier nicht gezeigt werden. Frag nach einem neuen Wand-Link.",
    "wall.busy": "Diese Wand ist auf zu vielen Bildschirmen offen. Schließe einen und lade die Seite neu.",
    "wall.by": "von {nickname}",
    "wall.quote": "„{prompt}“",
    "wall.picture": "{perspective}: „{prompt}“ von {nickname}",
    "wall.input": "Das Bild, mit dem es angefangen hat",
  },
};
