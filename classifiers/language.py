"""Tell Turkish from English (or neither) by Turkish letters, stopwords and common suffixes: enough for tweets."""

from __future__ import annotations

import re

from classifiers.text import ascii_fold, turkish_casefold

# ASCII-folded, so "çok" and "cok" count alike. Words that are common in both languages ("o", "her", "on",
# "in", "a") are left out of both lists.
_TURKISH = """
    ve ile bir bu su da de ki mi mu cok icin ama fakat ancak gibi daha en ne neden niye nasil hic hep hala
    yok var degil degilim degildir diye kadar sonra once simdi artik yine bile sadece ise ya veya ben sen
    biz siz onlar bana beni benim sana seni bize bizi sizin size onu ona onun olan olarak oldu olur olmaz
    olsun tum butun her sey sey bi icinde uzerinden zaten tamam evet hayir lutfen merhaba selam tesekkurler
    tesekkur ederim bey hanim neler nerede ne zaman kac musteri hizmetleri tl gun ay yil saat
"""
_ENGLISH = """
    the and is are was were be been to of for with from by at as an this that these those it its you your
    i me my we our they their he she him his what which who when where why how not no never do does did
    don't doesn't didn't can can't cannot will won't would should could have has had just so very really
    but or if then than there here about after before again still please thanks thank hello hi service
    customer support order account
"""
TURKISH_STOPWORDS = frozenset(_TURKISH.split())
ENGLISH_STOPWORDS = frozenset(_ENGLISH.split())
# Uppercase "I" is no evidence (English "I"); lowercase "ı" and capital "İ" are.
_TURKISH_LETTERS = frozenset("çğıöşüÇĞÖŞÜİ")
_ENDINGS = """
    iyor iyorum iyoruz uyor uyorum mis mus dim dum tim tum miyor muyor lari leri lar ler dan den tan ten
    sin sun siniz sunuz mak mek acak ecek misiniz musunuz nin nun
"""
_TURKISH_ENDINGS = tuple(_ENDINGS.split())
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
MAX_CHARS = 1000  # the first thousand characters say enough; long complaints need not be read to the end


def detect_language(text: str) -> str:
    """``"tr"``, ``"en"`` or ``"und"`` (undetermined: no words, or no evidence either way)."""
    words = _WORD.findall(text[:MAX_CHARS])
    if not words:
        return "und"
    tr = 1.5 * sum(1 for word in words if not _TURKISH_LETTERS.isdisjoint(word))
    folded = ascii_fold(turkish_casefold(" ".join(words))).replace("’", "'").split()
    en = float(sum(1 for word in folded if word in ENGLISH_STOPWORDS and word not in TURKISH_STOPWORDS))
    tr += sum(1 for word in folded if word in TURKISH_STOPWORDS)
    tr += 0.5 * sum(
        1
        for word in folded
        if len(word) > 4 and word.endswith(_TURKISH_ENDINGS) and "'" not in word and word not in TURKISH_STOPWORDS
    )
    if tr == en:
        return "und"
    return "tr" if tr > en else "en"
