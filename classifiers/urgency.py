"""How fast a mention needs a person: an urgency level with the reasons behind it, from rules a lead can read.

Reason codes (stable strings, stored in ``Analysis.urgency.reasons`` in the order of ``WEIGHTS``):

    safety            injury, fire, explosion, electric shock, gas leak, food poisoning, threats to life, suicide
    fraud             fraud, unauthorised transactions, hacked account, phishing ("dolandırıldım", "izinsiz")
    money_loss        money taken or not given back ("param gitti", "iki kez çekildi", "charged twice")
    legal_threat      lawyer, lawsuit, court, prosecutor ("avukat", "dava açacağım", "suç duyurusu", "sue")
    regulator         a regulator or public complaint body (Tüketici Hakem Heyeti, BTK, BDDK, CİMER, ...)
    public_threat     going to the press or social media ("basına gideceğim", "her yerde paylaşacağım")
    churn_threat      leaving the brand ("iptal edeceğim", "numaramı taşıyacağım", "switching to")
    profanity         swear words, also in their ASCII and obfuscated spellings ("amk", "s*ktir")
    anger             insult-level words ("şerefsiz", "hırsızlar"), or a negative text in CAPITALS or with "!!!"
    repeated_contact  "3. kez yazıyorum", "defalarca aradım", "5 gündür", or 2+ earlier mentions by the author
    high_reach        the author has at least ``reach_followers`` followers

The cues live in ``data/cues.toml`` (table ``urgency``); this module holds the policy.
"""

from __future__ import annotations

import re
from functools import lru_cache

from classifiers.cues import URGENCY, Cues, load_cues
from store.model import Urgency

# The level policy. Each reason found adds its points and a negative text (``negative`` >= NEGATIVE_FROM) adds
# NEGATIVE_POINTS; the total picks the first level of LEVELS whose floor it reaches. So a positive text with no
# reason is low, a negative one normal; safety alone is critical, fraud alone high and critical with money loss;
# a legal or regulator threat alone is high, as is legal + churn; churn, profanity or repeated contact alone
# stays normal; a widely followed author raises a negative text to high. A lawyer and a regulator together in a
# negative text add up to critical.
WEIGHTS: dict[str, int] = {
    "safety": 7,
    "fraud": 5,
    "money_loss": 2,
    "legal_threat": 3,
    "regulator": 3,
    "public_threat": 2,
    "churn_threat": 1,
    "profanity": 1,
    "anger": 1,
    "repeated_contact": 1,
    "high_reach": 2,
}
NEGATIVE_FROM = 0.5
NEGATIVE_POINTS = 1
LEVELS = (("critical", 7), ("high", 3), ("normal", 1), ("low", 0))
PRIOR_CONTACTS_FROM = 2  # earlier mentions by the same author that make this one a repeated contact

# Counted contacts ("3 kez", "3. kez", "üçüncü kez", "kaç defa", "5 times": two or more), days of waiting
# ("5 gündür": two or more) and weeks or months of waiting ("bir haftadır": one is enough); on folded text.
_REPEATS = re.compile(
    r"(?<![\w.])(?:(\d+)(?:\.|'?(?:u|i)?nc[iu])?|(bir kac|bir suru|[a-z]+))\s*"
    r"(?:(kez|kere|defa|sefer|times)|(gundur|gunden beri)|(haftadir|haftadan beri|aydir|aydan beri))(?!\w)"
)
# fmt: off
_NUMBER_WORDS = {
    "bir": 1, "iki": 2, "uc": 3, "dort": 4, "bes": 5, "alti": 6, "yedi": 7, "sekiz": 8, "dokuz": 9, "on": 10,
    "yirmi": 20, "otuz": 30, "birkac": 2, "bir kac": 2, "bir suru": 3, "kac": 2, "kacinci": 2, "onlarca": 10,
    "yuzlerce": 100, "ikinci": 2, "ucuncu": 3, "dorduncu": 4, "besinci": 5, "altinci": 6, "two": 2, "three": 3,
    "four": 4, "five": 5, "six": 6, "ten": 10, "several": 3, "many": 3, "multiple": 3,
}
# fmt: on
# A counted "kez" is a contact only near a word for getting in touch: "3 kez aradım", "I called 5 times"; not
# "kartı 3 kez kullandım" or "2 kez çekildi" (that is money, not patience).
_CONTACT = re.compile(
    r"(?<!\w)(?:ara|yaz|basvur|gorus|konus|sikayet|ulas|ilet|bildir|mail|e-posta|eposta|mesaj|dm|talep|gittim"
    r"|gidip|call|phon|email|messag|wrot|writ|contact|tried|ask|tweet|reach)"
)
CONTACT_WINDOW = 40  # characters either side of the count searched for such a word
_UPPER = re.compile(r"[A-ZÇĞİÖŞÜÂÎÛ]")
_LOWER = re.compile(r"[a-zçğıöşüâîû]")
_BANGS = re.compile(r"!\s*[!?1]\s*[!?1]")
SHOUT_SAMPLE = 5_000  # characters of the original text looked at for capitals; a long text shouts early or not
SHOUT_LETTERS = 12  # fewer capitals than this is an acronym or two ("BTK", "SIM"), not shouting


@lru_cache(maxsize=1)
def _cues() -> Cues:
    return load_cues((URGENCY,))


def assess_urgency(
    folded: str,
    text: str,
    *,
    negative: float,
    followers: int | None = None,
    prior_contacts: int = 0,
    reach_followers: int = 10_000,
) -> Urgency:
    """Level ("low", "normal", "high", "critical") and reasons of a mention.

    ``folded`` is ``classifiers.text.fold(text)``; ``text`` the original, for capitals and exclamation marks;
    ``negative`` the probability (0..1) that the text is negative; ``followers`` the author's follower count when
    the source knows it; ``prior_contacts`` the author's earlier mentions in the recent window.
    """
    found = set(_cues().count(folded)[URGENCY])
    is_negative = negative >= NEGATIVE_FROM
    if "anger" not in found and is_negative and _shouts(text):
        found.add("anger")
    if "repeated_contact" not in found and (prior_contacts >= PRIOR_CONTACTS_FROM or repeated_contact(folded)):
        found.add("repeated_contact")
    if followers is not None and followers >= reach_followers:
        found.add("high_reach")
    reasons = tuple(r for r in WEIGHTS if r in found)
    points = sum(WEIGHTS[r] for r in reasons) + (NEGATIVE_POINTS if is_negative else 0)
    level = next(name for name, floor in LEVELS if points >= floor)
    return Urgency(level, reasons)


def repeated_contact(folded: str) -> bool:
    """Counted contacts ("3 kez aradım") or days of waiting ("5 gündür") that say the customer tried before."""
    for m in _REPEATS.finditer(folded):
        digits, word, contacts, _days, longer = m.groups()
        if digits is None:
            n = _NUMBER_WORDS.get(word, 0)
        elif len(digits) <= 4:
            n = int(digits)
        else:
            continue  # a long digit run is an order or phone number, not a count
        if n < (1 if longer else 2):
            continue
        if contacts is None or _CONTACT.search(folded, max(0, m.start() - CONTACT_WINDOW), m.end() + CONTACT_WINDOW):
            return True
    return False


def _shouts(text: str) -> bool:
    """Written in capitals (at least two capitals for every small letter) or with "!!!"."""
    sample = text[:SHOUT_SAMPLE]
    if _BANGS.search(sample):
        return True
    upper = len(_UPPER.findall(sample))
    return upper >= SHOUT_LETTERS and upper >= 2 * len(_LOWER.findall(sample))
