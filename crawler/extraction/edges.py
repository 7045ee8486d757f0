"""Page furniture that trafilatura keeps at the edges of the text: a timestamp line, a reading
time, a copyright line; and, anywhere, advertisement labels and credit or source lines under
a picture or chart ("Photo: AFP", "Quelle: dpa").

General rules, in the languages of the sites we crawl most: a line is dropped only when it
is nothing but such furniture (a timestamp line has no word that is not part of a date), so
a sentence that merely mentions a date, a photo or a copyright stays.
"""

from __future__ import annotations

import re

# Words that may appear in a date/time line besides numbers (lower case).
_DATE_WORDS_TEXT = """
    am pm uhr um h hrs gmt utc cet cest mez mesz est edt pst pdt bst ist jst kst
    updated update aktualisiert aktualisierung stand veröffentlicht published posted
    publié mis jour le la à a de del el et und and at on om op kl klo o alle
    ore hs horas heure heures mise actualizado actualizada publicado aggiornato pubblicato
    jan feb mar apr may jun jul aug sep sept oct nov dec
    january february march april june july august september october november december
    januar februar märz mai juni juli oktober dezember
    janvier février mars avril juin juillet août septembre octobre novembre décembre
    enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre
    gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre
    mon tue wed thu fri sat sun monday tuesday wednesday thursday friday saturday sunday
    montag dienstag mittwoch donnerstag freitag samstag sonntag
    lundi mardi mercredi jeudi vendredi samedi dimanche
    年 月 日 時 分 秒 更新 午前 午後 년 월 일 시 분 입력 수정 点
"""
_DATE_WORDS = frozenset(_DATE_WORDS_TEXT.split())
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_WORDS = re.compile(r"[^\W\d_]+")
_MAX_TIMESTAMP_CHARS = 80
_TIME_OF_DAY = re.compile(r"\b\d{1,2}[:.]\d{2}(?!\.\d)\b|\d{1,2}\s*時\s*\d{1,2}\s*分|\d{1,2}\s*시")
_PUBLISHING = re.compile(
    r"updated|published|posted|aktualisiert|veröffentlicht|stand:|publié|mis à jour|"
    r"actualizad|publicad|aggiornat|pubblicat|更新|입력|수정", re.IGNORECASE)

_READING_TIME = re.compile(
    r"^(?:(?:lesedauer|lesezeit|reading time|read time|temps de lecture|tiempo de lectura|"
    r"tempo di lettura|leestijd|czas czytania)\s*:?\s*)?(?:ca\.\s*|about\s*)?\d{1,3}\s*"
    r"(?:min(?:ute)?s?\.?|minuten|minutos|minuti)"
    r"(?:\s*(?:read|lesezeit|lesen|de lecture|de lectura|di lettura))?\.?$",
    re.IGNORECASE)
_CREDIT = re.compile(
    r"^(?:photo|photos|foto|fotos|bild|bilder|image|images|picture|credit|credits|crédit|"
    r"crédits|source|quelle|fuente|fonte|bron|grafik|graphic)\s*(?:\[[^\]]*\])?\s*:\s*"
    r"(?:(?!\.\s)[^!?]){1,60}$", re.IGNORECASE)  # a name or a domain, not a sentence
_COPYRIGHT = re.compile(r"^(?:©|\(c\)\s|copyright\b)", re.IGNORECASE)
_MAX_COPYRIGHT_WORDS = 12  # a longer notice ("This material may not be ...") may be text
_ADVERTISEMENT = re.compile(
    r"^(?:advertisement|anzeige|werbung|publicité|publicidad|pubblicità|reklame|advertentie|"
    r"sponsored)(?:\s*[-–—:]?\s*(?:story continues below|continue reading below|"
    r"article continues below))?$", re.IGNORECASE)


def is_timestamp(paragraph: str) -> bool:
    """A line that is only a publication date and time ("2025年1月14日 01時28分 (更新)",
    "Updated: 14.01.2025, 09:12 Uhr"): a time of day or a publishing word, and no word that
    is not part of a date. A bare date ("29 November 2018 | 20 January 2019", an exhibition's
    dates) or a number ("02-751-1500") is not one."""
    if len(paragraph) > _MAX_TIMESTAMP_CHARS or sum(c.isdigit() for c in paragraph) < 4:
        return False
    if not (_TIME_OF_DAY.search(paragraph) or _PUBLISHING.search(paragraph)):
        return False
    words: list[str] = []
    for word in _WORDS.findall(paragraph.casefold()):
        words.extend(_CJK.findall(word) if _CJK.search(word) else [word])
    # CJK date words are written as several characters ("更新"): accept those pairs as well.
    return all(w in _DATE_WORDS or any(w in d for d in _DATE_WORDS if len(d) > 1
                                       and _CJK.match(d)) for w in words)


def _edge_furniture(paragraph: str, trailing: bool) -> bool:
    if is_timestamp(paragraph) or _READING_TIME.match(paragraph):
        return True
    return trailing and bool(_COPYRIGHT.match(paragraph)) and \
        len(paragraph.split()) <= _MAX_COPYRIGHT_WORDS


def drop_edge_furniture(paragraphs: list[str]) -> list[str]:
    """Drop advertisement labels and credit lines anywhere, then furniture lines from the
    start and the end of the text (never the last paragraph left)."""
    kept = [p for p in paragraphs
            if not (_ADVERTISEMENT.match(p.strip(" -–—•")) or _CREDIT.match(p.strip(" -–—•")))]
    if not kept:
        return paragraphs[-1:]
    start, end = 0, len(kept)
    while end - start > 1 and _edge_furniture(kept[start], trailing=False):
        start += 1
    while end - start > 1 and _edge_furniture(kept[end - 1], trailing=True):
        end -= 1
    return kept[start:end]
