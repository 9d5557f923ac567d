"""The demo translator's German word table: the words children put into picture ideas.

A word is looked up as written (lower-cased), then without a German ending (roten -> rot,
Katzen -> Katze): a noun found that way is an English plural. A word not in the table (a
name, a rare word) stays as it is; a real model would know more, the demo knows enough for
the ideas a class types in its first minutes and for the examples the page offers.
"""

from __future__ import annotations


def _table(text: str) -> dict[str, str]:
    """`german=english` pairs separated by `;` (English may hold spaces)."""
    pairs = (item.split("=", 1) for item in text.replace("\n", " ").split(";") if "=" in item)
    return {german.strip(): english.strip() for german, english in pairs}


#: Words that are not nouns: articles, pronouns, prepositions, verbs, adjectives, numbers.
WORDS = _table(
    """
    ein=a; eine=a; einen=a; einem=a; einer=a; eines=a; der=the; die=the; das=the; den=the;
    dem=the; des=of the; und=and; oder=or; aber=but; mit=with; ohne=without; im=in the;
    in=in; ins=into the; am=at the; an=at; auf=on; unter=under; über=over; vor=in front of;
    hinter=behind; neben=next to; zwischen=between; durch=through; um=around; aus=made of;
    von=of; vom=from the; zum=to the; zur=to the; beim=at the; bei=at; nach=after; für=for;
    gegen=against; bis=until; wie=like; als=as; so=so; sehr=very; ganz=quite; viel=much;
    viele=many; alle=all; alles=everything; nicht=not; kein=no; keine=no; ich=I; du=you;
    er=he; sie=she; es=it; wir=we; ihr=you; mein=my; meine=my; dein=your; deine=your;
    sein=his; seine=his; ihre=her; unser=our; unsere=our; dieser=this; diese=this;
    dieses=this; jede=every; jeder=every; jedes=every; hier=here; dort=there; oben=at the top;
    unten=at the bottom; links=on the left; rechts=on the right; heute=today; morgen=tomorrow;
    nachts=at night; immer=always; wieder=again; zusammen=together; allein=alone;
    ist=is; sind=are; war=was; hat=has; haben=have; wird=becomes; werden=become; kann=can;
    fliegt=flies; fliegen=fly; schwimmt=swims; läuft=runs; rennt=runs; springt=jumps;
    sitzt=sits; steht=stands; liegt=lies; tanzt=dances; tanzen=dance; singt=sings;
    schläft=sleeps; isst=eats; essen=eat; trinkt=drinks; fährt=rides; malt=paints;
    baut=builds; gebaut=built; lacht=laughs; spielt=plays; spielen=play; träumt=dreams;
    schaut=looks; sieht=sees; wohnt=lives; lebt=lives; wächst=grows; leuchtet=glows;
    glitzert=sparkles; regnet=rains; schneit=snows; kocht=cooks; liest=reads; hält=holds;
    trägt=wears; klettert=climbs; reitet=rides; sucht=looks for; findet=finds;
    groß=big; klein=small; riesig=huge; winzig=tiny; alt=old; jung=young; neu=new;
    schön=beautiful; hässlich=ugly; lustig=funny; fröhlich=cheerful; traurig=sad;
    müde=tired; wild=wild; lieb=kind; freundlich=friendly; mutig=brave; berühmt=famous;
    schnell=fast; langsam=slow; hell=bright; dunkel=dark; bunt=colourful; rot=red;
    blau=blue; grün=green; gelb=yellow; orange=orange; lila=purple; rosa=pink; weiß=white;
    schwarz=black; grau=grey; braun=brown; golden=golden; silbern=silver; warm=warm;
    kalt=cold; heiß=hot; nass=wet; weich=soft; hoch=high; tief=deep; lang=long; kurz=short;
    rund=round; leer=empty; voll=full; ruhig=quiet; still=still; laut=loud; leise=quiet;
    magisch=magic; verzaubert=enchanted; fliegend=flying; schwimmend=swimming;
    hundert=a hundred; tausend=a thousand; zwei=two; drei=three; vier=four; fünf=five;
    sechs=six; sieben=seven; acht=eight; neun=nine; zehn=ten; siebzehn=seventeen;
    """
)

#: Nouns (German capitalises them): a noun found by its stem is an English plural.
NOUNS = _table(
    """
    hund=dog; katze=cat; fuchs=fox; maus=mouse; pferd=horse; kuh=cow; schwein=pig;
    schaf=sheep; hase=rabbit; bär=bear; wolf=wolf; löwe=lion; tiger=tiger; elefant=elephant;
    affe=monkey; giraffe=giraffe; pinguin=penguin; eule=owl; vogel=bird; fisch=fish;
    wal=whale; delfin=dolphin; hai=shark; schildkröte=turtle; schlange=snake; frosch=frog;
    igel=hedgehog; eichhörnchen=squirrel; biene=bee; schmetterling=butterfly; ente=duck;
    huhn=chicken; drache=dragon; einhorn=unicorn; roboter=robot; hexe=witch;
    zauberer=wizard; prinzessin=princess; prinz=prince; könig=king; königin=queen;
    ritter=knight; pirat=pirate; astronaut=astronaut; riese=giant; zwerg=dwarf; fee=fairy;
    geist=ghost; monster=monster; mensch=person; kind=child; kinder=children; mädchen=girl;
    junge=boy; frau=woman; mann=man; oma=grandma; opa=grandpa; freund=friend;
    freundin=friend; familie=family; malerin=painter; maler=painter; lehrerin=teacher;
    lehrer=teacher; haus=house; häuser=houses; schule=school; stadt=city; dorf=village;
    schloss=castle; burg=castle; turm=tower; brücke=bridge; straße=street; garten=garden;
    park=park; zimmer=room; küche=kitchen; fenster=window; tür=door; dach=roof;
    baum=tree; bäume=trees; blume=flower; wald=forest; wiese=meadow; berg=mountain;
    hügel=hill; fluss=river; see=lake; meer=sea; strand=beach; insel=island; wüste=desert;
    höhle=cave; himmel=sky; sonne=sun; mond=moon; stern=star; wolke=cloud; regen=rain;
    schnee=snow; eis=ice; wind=wind; sturm=storm; gewitter=thunderstorm; regenbogen=rainbow;
    nacht=night; tag=day; morgen=morning; abend=evening; sommer=summer; winter=winter;
    frühling=spring; herbst=autumn; feuer=fire; wasser=water; erde=earth; stein=stone;
    blatt=leaf; blätter=leaves; gras=grass; moos=moss; weltall=space; planet=planet;
    rakete=rocket; raumschiff=spaceship; auto=car; zug=train; flugzeug=plane; schiff=ship;
    boot=boat; fahrrad=bicycle; ballon=balloon; buch=book; ball=ball; hut=hat; krone=crown;
    schlüssel=key; kuchen=cake; torte=cake; pizza=pizza; süßigkeiten=sweets;
    apfel=apple; bälle=balls; bällen=balls; beispiel=example; picknick=picnic; party=party;
    musik=music; bild=picture; farbe=colour;
    licht=light; schatten=shadow; welt=world; land=land; zukunft=future; jahr=year;
    jahre=years; jahren=years; minute=minute; stunde=hour; geschichte=story;
    """
)

#: Phrases of several words, looked for before single words.
PHRASES = _table(
    """
    zum beispiel=for example; es war einmal=once upon a time; in der nacht=at night;
    am himmel=in the sky; auf dem mond=on the moon; im weltall=in space;
    """
)

_ENDINGS = ("en", "em", "er", "es", "e", "n", "s")


def translate_word(word: str) -> str:
    """The English of one German word, or the word itself when the table does not know it.

    A capitalised word is a noun first ("Junge": boy), a lower-case one anything else first
    ("junge": young); children do not always capitalise, so each falls back on the other."""
    lower = word.lower()
    tables = (NOUNS, WORDS) if word[:1].isupper() else (WORDS, NOUNS)
    for table in tables:
        if lower in table:
            return table[lower]
        for ending in _ENDINGS:
            stem = lower[: -len(ending)]
            if len(stem) > 2 and stem in table:
                return plural(table[stem]) if table is NOUNS else table[stem]
    return word


def plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return f"{noun}es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return f"{noun[:-1]}ies"
    return f"{noun}s"
