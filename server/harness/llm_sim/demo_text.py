"""What the demo's stand-in language model writes: a re-imagined idea of a few sentences per
perspective, in the language of the student's text, and a translation into English.

Why. The demo is how a class first meets the product. A one-line answer ("a fox, re-imagined")
flashed by before anyone saw the words arrive, and the translation left every German word it
did not know in place ("a red fox springt über the Zaun"). Now stage 2 writes three sentences
that change the idea the way the perspective's instructions say (so its tokens visibly stream),
and stage 3 turns German into English: the demo's own sentences through a phrase table (their
exact English twins), the student's words through a word table of common picture words (an
unknown word, a name say, stays as it is). Deterministic: tests compare exact texts.

Fidelity: only the words change; the simulators' wire format, pacing and faults do not.
"""

from __future__ import annotations

import re

from server.engine.safety_words import needs_translation
from server.harness.llm_sim.demo_words import PHRASES, translate_word

#: Per perspective: (English, German) sentences that follow the student's idea.
PERSPECTIVES: dict[str, tuple[str, str]] = {
    "bauhaus": (
        "built from circles, squares and triangles. A big red circle sits high on the left, "
        "a yellow triangle leans on a black bar, and thin grey lines cross the white ground. "
        "Everything is flat and clean, like a poster from Dessau in 1925.",
        "gebaut aus Kreisen, Quadraten und Dreiecken. Ein großer roter Kreis sitzt oben links, "
        "ein gelbes Dreieck lehnt an einem schwarzen Balken, und dünne graue Linien kreuzen "
        "den weißen Grund. Alles ist flach und klar, wie ein Plakat aus Dessau von 1925.",
    ),
    "cave_painting": (
        "painted on a bumpy cave wall by torchlight. Charcoal outlines and red and yellow "
        "ochre show it from the side, with running animals and hand prints all around. "
        "The stone itself gives the figures their round shapes.",
        "gemalt auf eine unebene Höhlenwand im Fackelschein. Umrisse aus Holzkohle und roter "
        "und gelber Ocker zeigen es von der Seite, mit laufenden Tieren und Handabdrücken "
        "ringsum. Der Stein selbst gibt den Gestalten ihre runden Formen.",
    ),
    "fairy_tale": (
        "in a land far away, once upon a time. An enchanted forest glows in warm golden "
        "light, a talking owl watches from a tower, and three silver keys lie in the moss. "
        "It looks like a hand coloured picture in an old story book.",
        "in einem fernen Land, es war einmal. Ein verzauberter Wald leuchtet in warmem "
        "goldenem Licht, eine sprechende Eule schaut von einem Turm, und drei silberne "
        "Schlüssel liegen im Moos. Es sieht aus wie ein handkoloriertes Bild in einem alten "
        "Märchenbuch.",
    ),
    "haiku": (
        "in the first light of spring.\nSoft rain on the leaves,\na quiet moment stays.",
        "im ersten Licht des Frühlings.\nSanfter Regen auf den Blättern,\nein stiller "
        "Augenblick bleibt.",
    ),
    "photo_1870s": (
        "as a photograph from 1875, posed very still for a long exposure. Warm sepia tones, "
        "a painted backdrop and soft edges with a dark vignette. Fine scratches cross the "
        "albumen print on its cardboard mount.",
        "als Foto von 1875, ganz still gestellt für eine lange Belichtung. Warme Sepiatöne, "
        "ein gemalter Hintergrund und weiche Ränder mit dunklen Ecken. Feine Kratzer "
        "ziehen über den Albuminabzug auf seinem Karton.",
    ),
    "technical_drawing": (
        "as a precise engineering sheet in black ink on blueprint paper. A front view, a "
        "top view and an exploded view show every part, with dimension lines in millimetres. "
        "Numbered hinges, screws and gears are listed in a small legend.",
        "als genaues Konstruktionsblatt in schwarzer Tusche auf Blaupause. Eine Vorderansicht, "
        "eine Draufsicht und eine Explosionsansicht zeigen jedes Teil, mit Maßlinien in "
        "Millimetern. Nummerierte Scharniere, Schrauben und Zahnräder stehen in einer kleinen "
        "Legende.",
    ),
    "telephone_game": (
        "as the fifth person heard it whispered. The colours have shifted a little, one "
        "thing has swapped places and another has grown much bigger. It still sounds "
        "almost like the first version.",
        "so, wie die fünfte Person es geflüstert hörte. Die Farben sind ein wenig verrutscht, "
        "ein Ding hat den Platz getauscht und ein anderes ist viel größer geworden. Es klingt "
        "noch fast wie die erste Fassung.",
    ),
    "the_opposite": (
        "turned into its opposite. Big becomes small, day becomes night and the busy "
        "square becomes an empty beach. Bright colours turn dark and everything that ran "
        "now stands still, in the same order as before.",
        "in sein Gegenteil verwandelt. Groß wird klein, Tag wird Nacht und der volle Platz "
        "wird ein leerer Strand. Helle Farben werden dunkel und alles, was lief, steht jetzt "
        "still, in derselben Reihenfolge wie vorher.",
    ),
    "youth_slang": (
        "but seriously, it is pure vibes. Neon light, fresh outfits and a sunset that "
        "looks totally unreal. Everybody would stop scrolling for this picture, no joke.",
        "aber ehrlich, das sind pure Vibes. Neonlicht, frische Outfits und ein Sonnenuntergang, "
        "der total unwirklich aussieht. Alle würden für dieses Bild aufhören zu scrollen, "
        "kein Witz.",
    ),
}
#: For instructions the demo does not know (a student's edit): the same shape, no style.
GENERIC = (
    "re-imagined in a new way. The main thing stands in the middle, in clear colours and "
    "soft light. Small details around it tell the rest of the story.",
    "neu gedacht. Das Wichtigste steht in der Mitte, in klaren Farben und weichem Licht. "
    "Kleine Einzelheiten ringsum erzählen den Rest der Geschichte.",
)


def reimagine(perspective: str | None, idea: str) -> str:
    """The student's idea, then the perspective's sentences, in the idea's language."""
    english, german = PERSPECTIVES.get(perspective or "", GENERIC)
    idea = idea.strip().rstrip(".!?") or "An idea"
    return f"{idea[:1].upper()}{idea[1:]}, {german if needs_translation(idea) else english}"


#: The demo's German sentences and their English twins, longest first (whole-phrase matches).
_PHRASES = sorted(
    ((de, en) for en, de in (*PERSPECTIVES.values(), GENERIC)),
    key=lambda pair: -len(pair[0]),
)
_PHRASE = re.compile("|".join(re.escape(de) for de, _ in _PHRASES))
_ENGLISH_OF = dict(_PHRASES)
_WORD = re.compile(r"[^\W\d_]+")


def translate(text: str) -> str:
    """German to English, as the demo's translation stage answers: the demo's own sentences
    whole, every other word through the word table; text with no German comes back as is."""
    parts = _PHRASE.split(text)
    found = _PHRASE.findall(text)
    out = [_words(parts[0])]
    for phrase, rest in zip(found, parts[1:], strict=True):
        out += [_ENGLISH_OF[phrase], _words(rest)]
    english = "".join(out)
    first = _WORD.search(text)
    if first is None or not first.group(0)[0].isupper():
        return english
    return _WORD.sub(lambda m: m.group(0)[:1].upper() + m.group(0)[1:], english, count=1)


#: A German relative clause ends with its verb: ", die ... ist" reads ", that is ...".
_RELATIVE = re.compile(r", (?:der|die|das) ([^,.]+?) (ist|sind|hat|haben|kann)\b")
_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")
_SAYINGS = re.compile("|".join(rf"\b{re.escape(p)}\b" for p in PHRASES), re.IGNORECASE)


def _words(text: str) -> str:
    text = _RELATIVE.sub(r", that \2 \1", text)
    text = _SAYINGS.sub(lambda m: PHRASES[m.group(0).lower()], text)
    english = _WORD.sub(lambda m: translate_word(m.group(0)), text)
    return _ARTICLE.sub(r"\1n ", english)
