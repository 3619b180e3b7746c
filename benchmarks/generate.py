"""Realistic Finnish minutes PDFs for the benchmark, generated at run time (never committed).

    python benchmarks/generate.py OUT_DIR [--pages 520] [--seed 7]

Writes 20+ full minutes (cover with a member list and agenda, items, closing page) of 6 to 40
pages each, in three house styles: a label column (DejaVu Sans), running text with bold
headings (DejaVu Serif) and a Word look in Carlito with broken Calibri ligatures (Ɵ Ʃ ƫ).
Every page has a running header "ORGANISAATIO  PÖYTÄKIRJA 12/2025  3 (14)" and a footer;
words are hyphenated at line ends (after ä/ö too), and items run across pages.
`manifest.json` lists each file with its page and item counts.
"""
from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

PAGE_W, PAGE_H = A4
FONT_ROOT = Path("/usr/share/fonts/truetype")
FAMILIES = {
    "DejaVuSans": ("dejavu/DejaVuSans.ttf", "dejavu/DejaVuSans-Bold.ttf"),
    "DejaVuSerif": ("dejavu/DejaVuSerif.ttf", "dejavu/DejaVuSerif-Bold.ttf"),
    "Carlito": ("crosextra/Carlito-Regular.ttf", "crosextra/Carlito-Bold.ttf"),
}
VOWELS = set("aeiouyäöå")
_WORD_END = re.compile(r"[.,;:)!?\"']+$")

ORGS = [("Viitasaaren kaupunki", "Kaupunginhallitus"), ("Saarijärven kaupunki", "Kaupunginvaltuusto"),
        ("Sonkajärven kunta", "Kunnanhallitus"), ("Laukaan kunta", "Sivistyslautakunta"),
        ("Kauhajoen kaupunki", "Ympäristölautakunta"), ("Pyhännän kunta", "Kunnanhallitus"),
        ("Ilomantsin kunta", "Tekninen lautakunta"), ("Etelä-Savon hyvinvointialue", "Aluehallitus"),
        ("Keuruun kaupunki", "Kaupunginhallitus"), ("Multian kunta", "Kunnanvaltuusto")]
FIRST = ["Anne", "Juha", "Sari", "Mika", "Henri", "Jarmo", "Outi", "Pertti", "Merja", "Kari", "Seija",
         "Heikki", "Johanna", "Timo", "Päivi", "Jussi", "Riitta", "Ville", "Tiina", "Lauri"]
LAST = ["Hakkarainen", "Moilanen", "Nyyssönen", "Lehtola", "Laakso", "Lahtinen", "Kettunen", "Räsänen",
        "Hyvönen", "Kivimäki", "Rautiainen", "Lindqvist", "Kinnunen", "Hytönen", "Mäkelä", "Väisänen"]
ROLES = ["talousjohtaja", "kaavoitusarkkitehti", "maankäyttöpäällikkö", "sivistysjohtaja",
         "ympäristöpäällikkö", "hallintojohtaja", "tekninen johtaja", "henkilöstöpäällikkö"]
TOPICS = ["Talousarvion toteutuminen tammi-elokuussa {y}", "Lausunto Keski-Suomen maakuntakaavan luonnoksesta",
          "Teollisuustontin myynti Hietalahden yritysalueelta", "Hallintosäännön 86 §:n muuttaminen",
          "Vuoden {y} tuloveroprosentti ja kiinteistöveroprosentit", "Investointiavustus kylätalon korjaukseen",
          "Ympäristönsuojelumääräysten päivittäminen", "Koulukuljetusperiaatteet lukuvuodelle {y}–{y1}",
          "Asemakaavan muutos, kortteli 410", "Sosiaali- ja terveyspalvelujen palvelustrategia",
          "Tilintarkastajan valinta vuosille {y}–{y1}", "Viranhaltijapäätökset ja ilmoitusasiat",
          "Katuvalaistuksen energiatehokkuusinvestointi", "Vesihuollon toiminta-alueen tarkistaminen",
          "Hyvinvointikertomus ja -suunnitelma {y}–{y1}", "Jäsenen valinta vanhusneuvostoon"]
SENTENCES = [
    "Kuntalain 103 §:n mukaan toimielin on päätösvaltainen, kun enemmän kuin puolet jäsenistä on läsnä.",
    "Asiaa on valmisteltu yhteistyössä elinvoimapalvelujen ja teknisten palvelujen kanssa.",
    "Toimintatuotot olivat {m} miljoonaa euroa ja toimintakulut {m2} miljoonaa euroa.",
    "Hakemuksen mukaan yritys arvioi työllistävänsä laajennuksen myötä kahdeksan uutta työntekijää.",
    "Keski-Suomen liitto pyytää kunnilta lausuntoa {d} mennessä, ja luonnos on nähtävillä verkkosivuilla.",
    "Ympäristöterveydenhuollon valvontasuunnitelma päivitetään vuosittain ympäristöministeriön "
    "ohjeiden mukaisesti.",
    "Kaupunginvaltuuston {d} (§ {n}) hyväksymien myyntiperusteiden mukaan tontin hinta on 3,00 euroa "
    "neliömetriltä.",
    "Hallintosäännön 32 §:n mukaan kaupunginhallitus päättää kiinteistön luovuttamisesta.",
    "Investointeja on toteutettu {m} miljoonalla eurolla, ja peruskorjaus valmistuu lokakuussa.",
    "Päivitetty suunnitelma on kokonaisuudessaan liitteenä, ja siitä on kuultu vanhus- ja vammaisneuvostoa.",
    "Lainakanta oli {d} yhteensä {m} miljoonaa euroa eli 5 140 euroa asukasta kohden.",
    "Muutokset koskevat erityisesti oppimisen tuen rakennetta, ympäristövaikutusten arviointia ja seurantaa.",
    "Verotuloja on kertynyt {m} miljoonaa euroa, mikä on 1,4 % vähemmän kuin vastaavana ajankohtana.",
    "Asukastilaisuus pidettiin kirjastossa {d}, ja siihen osallistui noin neljäkymmentä kuntalaista.",
    "Perusopetuslain 32 §:n mukaan oppilaalla on oikeus maksuttomaan kuljetukseen, jos koulumatka on pitkä.",
    "Lausunnon valmistelussa on kuultu ympäristöterveydenhuoltoa, pelastuslaitosta ja elinkeinoyhtiötä.",
    "Hankkeen kokonaiskustannusarvio on {e} euroa, josta valtionavustuksen osuus on enintään 40 prosenttia.",
    "Yhteistoimintamenettely on käyty henkilöstön edustajien kanssa {d}, eikä siinä esitetty huomautuksia.",
]
PROPOSALS = ["{body} hyväksyy esityksen liitteen mukaisesti ja valtuuttaa {role}n allekirjoittamaan sopimuksen.",
             "{body} merkitsee tiedoksi selvityksen ja päättää, että seuraava raportti annetaan lokakuussa.",
             "{body} antaa asiasta liitteen mukaisen lausunnon ja päättää lähettää sen tiedoksi "
             "ympäristöministeriölle.",
             "{body} myöntää {e} euron investointiavustuksen ehdotetuin ehdoin."]
DECISIONS = [("Hyväksyttiin.", None), ("Hyväksyttiin yksimielisesti.", None), ("Merkittiin tiedoksi.", None),
             ("Asia jätettiin pöydälle.", None), ("Päätösehdotus hyväksyttiin äänin {y}–{n}.", "vote"),
             ("Hyväksyttiin.", "recusal")]
APPEALS = ["Oikaisuvaatimus", "Kunnallisvalitus", "Muutoksenhakukielto"]
CHROME_FOOT = ["Pöytäkirjantarkastajien nimikirjaimet ________ ________", "{org} · Kunnantie 9 · www.{slug}.fi"]


def hyph_points(word: str) -> list[int]:
    """Finnish split points: before a consonant that precedes a vowel, inside lowercase words."""
    core = _WORD_END.sub("", word)
    if any(ch.isdigit() or ch in "/@§" for ch in core):
        return []
    return [i for i in range(2, len(core) - 2)
            if core[i].isalpha() and core[i].islower() and core[i] not in VOWELS
            and core[i + 1] in VOWELS and core[i - 1].isalpha() and core[i - 1].islower()
            and any(ch in VOWELS for ch in core[:i].split("-")[-1])]


def wrap(text: str, fname: str, size: float, width: float) -> list[str]:
    """Greedy line breaking with hyphenation when a word does not fit and the line has room."""
    def sw(s: str) -> float:
        return pdfmetrics.stringWidth(s, fname, size)

    lines: list[str] = []
    cur = ""
    for word in text.split():
        cand = f"{cur} {word}" if cur else word
        if sw(cand) <= width:
            cur = cand
            continue
        used = sw(cur + " ") if cur else 0.0
        best = None
        if width - used > width * 0.1:
            for i in hyph_points(word):
                if used + sw(word[:i] + "-") <= width:
                    best = i
        if best:
            lines.append(f"{cur} {word[:best]}-" if cur else word[:best] + "-")
            cur = word[best:]
        else:
            if cur:
                lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    return lines


def ligaturize(text: str) -> str:
    """Calibri ligatures as Word PDFs cut to 16 bits: tti → ƫ, tt → Ʃ, ti → Ɵ."""
    return text.replace("tti", "\u01ab").replace("tt", "\u01a9").replace("ti", "\u019f")


@dataclass
class Style:
    family: str
    label_x: float | None  # the text column of a label-column layout, None for running text
    word_look: bool = False  # "57 §" + title in capitals, "Päätösehdotus:" inline labels
    ligatures: bool = False


@dataclass
class Doc:
    """One minutes PDF laid out into pages of draw operations (x, y, text, bold, size)."""

    style: Style
    fonts: tuple[str, str]
    pages: list[list[tuple[float, float, str, bool, float]]] = field(default_factory=lambda: [[]])
    y: float = PAGE_H - 96
    size: float = 10.0

    @property
    def lead(self) -> float:
        return self.size * 1.32

    def new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_H - 96

    def room(self, lines: int) -> None:
        if self.y - lines * self.lead < 74:
            self.new_page()

    def line(self, ops: list[tuple[float, str, bool]]) -> None:
        self.room(1)
        self.y -= self.lead
        for x, text, bold in ops:
            self.pages[-1].append((x, self.y, text, bold, self.size))

    def gap(self, factor: float = 0.6) -> None:
        if self.pages[-1]:
            self.y -= self.lead * factor

    def para(self, text: str, x: float = 56, bold: bool = False, label: str | None = None) -> None:
        lines = wrap(text, self.fonts[bold], self.size, PAGE_W - 50 - x)
        for k, ln in enumerate(lines):
            ops = [(x, ln, bold)]
            if k == 0 and label:
                ops.append((56, label, True))
            self.line(ops)


def fonts_for(family: str) -> tuple[str, str]:
    """Registered (regular, bold) font names; Helvetica when the TrueType files are missing."""
    files = FAMILIES[family]
    if not all((FONT_ROOT / f).exists() for f in files):
        return "Helvetica", "Helvetica-Bold"
    names = (f"{family}", f"{family}-Bold")
    for name, path in zip(names, files):
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(FONT_ROOT / path)))
    return names


def _fill(rng: random.Random, template: str, year: int, body: str) -> str:
    return template.format(
        y=year, y1=year + 1, m=f"{rng.randint(2, 60)},{rng.randint(0, 9)}",
        m2=f"{rng.randint(60, 90)},{rng.randint(0, 9)}",
        d=f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.{year}", n=rng.randint(10, 300), e=f"{rng.randint(5, 900)} 000",
        body=body, role=rng.choice(ROLES))


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def item(doc: Doc, rng: random.Random, section: int, body: str, year: int) -> None:
    """One § with its title, diary id, preparer, background, proposal, handling, decision, appeal."""
    st, label_x = doc.style, doc.style.label_x
    title = _fill(rng, rng.choice(TOPICS), year, body)
    doc.room(6)
    doc.gap(1.2)
    if st.word_look:
        doc.para(f"{section} § {title.upper()}", bold=True)
    elif label_x:
        doc.para(title, x=label_x, bold=True, label=f"§ {section}")
    else:
        doc.para(f"§ {section} {title}", bold=True)
    code = f"{rng.randint(0, 14):02d}.{rng.randint(0, 9):02d}.{rng.randint(0, 9):02d}"
    fields = [("Dnro", f"{rng.randint(10, 400)}/{code}/{year}"),
              ("Valmistelija", f"{rng.choice(ROLES)} {person(rng)}, puh. 044 459 {rng.randint(1000, 9999)}")]
    background = [" ".join(_fill(rng, rng.choice(SENTENCES), year, body) for _ in range(rng.randint(2, 5)))
                  for _ in range(rng.randint(1, 5))]
    presenter = f"{rng.choice(['kaupunginjohtaja', 'kunnanjohtaja', 'hyvinvointialuejohtaja'])} {person(rng)}"
    decision, kind = rng.choice(DECISIONS)
    yes = rng.randint(5, 9)
    decision = decision.format(y=yes, n=rng.randint(1, yes - 1))
    handling = []
    if kind == "vote":
        handling.append(f"{person(rng)} ehdotti {person(rng)}:n kannattamana, että asia palautetaan uudelleen "
                        "valmisteltavaksi. Puheenjohtaja totesi, että asiasta on äänestettävä.")
    elif kind == "recusal":
        handling.append(f"{person(rng)} ilmoitti olevansa esteellinen (hallintolain 28 § 1 mom 5 kohta) "
                        "eikä osallistunut asian käsittelyyn.")
    blocks = [("Esittelijä", [presenter]), ("Päätösehdotus", [_fill(rng, rng.choice(PROPOSALS), year, body)
                                                               for _ in range(rng.randint(1, 2))])]
    blocks += [("Käsittely", handling)] if handling else []
    blocks += [("Päätös", [decision]), ("Muutoksenhaku", [rng.choice(APPEALS)])]
    for name, value in fields:
        if label_x:
            doc.para(value, x=label_x, label=name)
        else:
            doc.para(f"{name}: {value}" if st.word_look else f"{name} {value}")
    for text in background:
        doc.gap()
        doc.para(text, x=label_x or 56)
    for name, paras in blocks:
        doc.gap()
        if label_x:
            for k, text in enumerate(paras):
                doc.para(text, x=label_x, label=name if k == 0 else None)
        else:
            doc.para(name + (":" if st.word_look else ""), bold=True)
            for text in paras:
                doc.para(text)


def minutes(rng: random.Random, n_items: int, style: Style, org: str, body: str, year: int) -> tuple[Doc, int]:
    doc = Doc(style, fonts_for(style.family))
    start = rng.randint(1, 300)
    doc.para("KOKOUSTIEDOT", bold=True)
    day = f"{rng.randint(1, 28)}.{rng.randint(1, 12)}.{year}"
    for label, value in (("Aika", f"{day} klo 16.00–18.30"), ("Paikka", "Kaupungintalo, valtuustosali")):
        doc.line([(56, label, True), (170, value, False)])
    doc.gap()
    doc.para("Saapuvilla olleet jäsenet", bold=True)
    for _ in range(rng.randint(5, 9)):
        doc.line([(90, person(rng) + ", jäsen", False), (330, person(rng) + ", varajäsen", False)])
    doc.gap()
    doc.para("ASIALUETTELO", bold=True)
    for k in range(n_items):
        doc.line([(56, f"§ {start + k}", False), (120, _fill(rng, rng.choice(TOPICS), year, body), False)])
    doc.new_page()
    for k in range(n_items):
        item(doc, rng, start + k, body, year)
    doc.gap(2)
    doc.para("Puheenjohtaja                Pöytäkirjanpitäjä")
    doc.line([(56, person(rng), False), (300, person(rng), False)])
    doc.new_page()
    doc.para("MUUTOKSENHAKUOHJEET", bold=True)
    for _ in range(3):
        doc.gap()
        doc.para(" ".join(_fill(rng, rng.choice(SENTENCES), year, body) for _ in range(4)))
    return doc, n_items


def render(doc: Doc, path: Path, org: str, body: str, number: str, day: str) -> None:
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    regular, bold = doc.fonts
    total = len(doc.pages)
    foot = random.Random(path.name).choice(CHROME_FOOT).format(org=org, slug=org.split()[0].lower())
    for number_on_page, ops in enumerate(doc.pages, start=1):
        c.setFont(bold, 10)
        c.drawString(56, PAGE_H - 42, org.upper())
        c.drawString(330, PAGE_H - 42, f"PÖYTÄKIRJA {number}")
        c.setFont(regular, 10)
        c.drawRightString(PAGE_W - 50, PAGE_H - 42, f"{number_on_page} ({total})")
        c.drawString(56, PAGE_H - 56, f"{body} {day}")
        c.setFont(regular, 8)
        c.drawString(56, 40, foot)
        for x, y, text, is_bold, size in ops:
            c.setFont(bold if is_bold else regular, size)
            c.drawString(x, y, ligaturize(text) if doc.style.ligatures else text)
        c.showPage()
    c.save()


STYLES = [Style("DejaVuSans", 170.0), Style("DejaVuSerif", None), Style("Carlito", None, True, True)]


def documents(rng: random.Random) -> Iterator[tuple[Doc, int, str, str, str, str]]:
    k = 0
    while True:
        org, body = ORGS[k % len(ORGS)]
        style = STYLES[k % len(STYLES)]
        year = rng.choice([2024, 2025])
        doc, n = minutes(rng, rng.randint(8, 48), style, org, body, year)
        day = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{year}"
        yield doc, n, org, body, f"{rng.randint(1, 16)}/{year}", day
        k += 1


def generate(out: Path, min_pages: int = 520, min_docs: int = 20, seed: int = 7) -> dict:
    """Write the corpus and its manifest; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files, pages = [], 0
    for k, (doc, n, org, body, number, day) in enumerate(documents(rng)):
        if pages >= min_pages and len(files) >= min_docs:
            break
        name = f"bench{k + 1:03d}_{doc.style.family.lower()}.pdf"
        render(doc, out / name, org, body, number, day)
        files.append({"file": name, "pages": len(doc.pages), "items": n, "style": doc.style.family})
        pages += len(doc.pages)
    manifest = {"documents": len(files), "pages": pages, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return manifest


def one_page(path: Path) -> None:
    """A one-page minutes extract: the fixed cost of a run (process start, imports, writing tables)."""
    for seed in range(100):  # the first seed whose item fits on one page
        doc = Doc(STYLES[0], fonts_for(STYLES[0].family))
        item(doc, random.Random(seed), 12, "Kunnanhallitus", 2025)
        if len(doc.pages) == 1:
            break
    render(doc, path, "Testikunta", "Kunnanhallitus", "1/2025", "12.05.2025")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the PDFs into")
    parser.add_argument("--pages", type=int, default=520, help="at least this many pages in all")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    manifest = generate(args.out, args.pages, seed=args.seed)
    print(f"{manifest['documents']} documents, {manifest['pages']} pages -> {args.out}")


if __name__ == "__main__":
    main()
