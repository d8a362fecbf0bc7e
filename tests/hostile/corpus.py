"""Hostile inputs we wrote ourselves: what a post, a page or a request may carry to break Kulak or its readers."""

from __future__ import annotations

from dataclasses import dataclass

BRAND = "Kuzey Telekom"
#: Each text names the brand and complains in its own words, so it is analysed and opens its own case (alike
#: texts would join one case as near-duplicates) and reaches Slack and the digest.
COMPLAINTS = (
    "Kuzey Telekom faturam yine yanlış geldi, rezalet",
    "Kuzey Telekom internetim üç gündür yok, modem ışığı kırmızı",
    "Kuzey Telekom müşteri hizmetleri telefonu yüzüme kapattı",
    "Kuzey Telekom iade ettiğim modemin parasını hâlâ ödemedi",
    "Kuzey Telekom hattımı sormadan başka pakete geçirmiş",
    "Kuzey Telekom internetim yine kesildi, kimse ilgilenmiyor, berbat hizmet",
    "Kuzey Telekom kampanya diye sattığı tarifeyi iki katına çıkardı",
    "Kuzey Telekom aboneliğimi iptal ettirmiyor, haftalardır uğraşıyorum",
    "Kuzey Telekom teknisyeni randevuya gelmedi, bütün gün bekledim",
    "Kuzey Telekom çekmiyor, evde tek çubuk bile görmüyorum",
    "Kuzey Telekom kartımdan izinsiz ek ücret çekti",
    "Kuzey Telekom numara taşıma işlemimi bir aydır bitirmedi",
    "Kuzey Telekom faturasız hatta yüklediğim bakiye kayboldu",
    "Kuzey Telekom neden faturamı iki kez kesti? Acil yanıt bekliyorum",
    "Kuzey Telekom yurt dışı paketi çalışmadı, dönüşte dev fatura",
    "Kuzey Telekom sözleşme cezası diye olmayan borç istiyor",
    "Kuzey Telekom mağazası yanlış cihaz verdi, değiştirmiyorlar",
    "Kuzey Telekom e-postalarıma hiç cevap vermiyor",
    "Kuzey Telekom taahhüt bitmeden zam yaptı",
    "Kuzey Telekom sinyal kesintisi yüzünden işimi kaybettim",
    "Kuzey Telekom kargo ile gelen SIM kart bozuk çıktı",
    "Kuzey Telekom canlı destek saatlerce sırada bekletiyor",
)


@dataclass(frozen=True)
class Hostile:
    """One hostile text: a name for test ids, the text as the author wrote it, and the strings that must never reach a
    reader live (a Slack control sequence, a tag a browser would run)."""

    name: str
    text: str
    live: tuple[str, ...] = ()


def _complaint(n: int, payload: str) -> str:
    # The payload leads, where a notification preview shows it.
    return f"{payload} {COMPLAINTS[n - 1]}"


SLACK_MRKDWN = (
    Hostile("channel_ping", _complaint(1, "<!channel> herkes baksın"), ("<!channel>",)),
    Hostile("here_ping", _complaint(2, "<!here|here> acil"), ("<!here",)),
    Hostile("everyone_ping", _complaint(3, "<!everyone> bu firma"), ("<!everyone>",)),
    Hostile("user_ping", _complaint(4, "<@U012ABCDEF> sen de gör"), ("<@U012ABCDEF>",)),
    Hostile("channel_link", _complaint(5, "<#C012345|genel> kanalına yazdım"), ("<#C012345",)),
    Hostile("forged_link", _complaint(6, "<https://evil.example|click me>"), ("<https://evil.example",)),
    Hostile("subteam_ping", _complaint(7, "<!subteam^S0123ABC> ekibi nerede"), ("<!subteam",)),
    Hostile("formatting", _complaint(8, "*kalın* _eğik_ ~çizik~ `kod` ```blok``` > alıntı"), ()),
    Hostile("pre_escaped", _complaint(9, "&lt;!channel&gt; &amp; &lt;@U012ABCDEF&gt;"), ("<!channel>",)),
    Hostile("zero_width_ping", _complaint(10, "<!chan\u200bnel> <\u200b!here>"), ("<!chan", "<\u200b!here")),
)
HTML = (
    Hostile("script", _complaint(11, "<script>alert('kulak')</script>"), ("<script>alert",)),
    Hostile("img_onerror", _complaint(12, '<img src=x onerror="alert(1)">'), ("<img src=x", 'onerror="alert')),
    Hostile("textarea_escape", _complaint(13, "</textarea></td><svg onload=alert(2)>"), ("</textarea>", "<svg onload")),
    Hostile("javascript_url", _complaint(14, "javascript:alert(document.cookie)"), ()),
)
UNICODE = (
    Hostile("zero_width", _complaint(15, "K\u200buzey\u200c Tele\u200dkom\ufeff fatu\u2060ra"), ()),
    Hostile("bidi", _complaint(16, "\u202eetarif\u202c \u2066iade\u2069 \u2067ödeme\u2069 \u2068tutar\u2069"), ()),
    Hostile(
        "combining", _complaint(17, "Z\u0338\u0335a\u0334\u0336l\u0337g\u0338o\u0301\u0302\u0303 fatu\u0308ra"), ()
    ),
    Hostile("turkish_i", _complaint(18, "KUZEY TELEKOM İSTANBUL ıIiİ İNTERNETİ ıslak Iğdır"), ()),
    Hostile("nul_bytes", _complaint(19, "fatura\x00 tutarı\x00\x00 yanlış"), ()),
)
SQL = (
    Hostile("sql_drop", _complaint(20, "'; DROP TABLE mentions; --"), ()),
    Hostile("sql_or", _complaint(21, "\" OR 1=1 -- \\\" OR ''='"), ()),
)
#: 100 KB of text: stored whole, analysed, and cut to Slack's limits in every message.
HUGE = Hostile("huge_100kb", _complaint(22, "Uzun şikâyet: " + "internet yok, fatura yanlış. " * 3500), ())

ALL: tuple[Hostile, ...] = (*SLACK_MRKDWN, *HTML, *UNICODE, *SQL, HUGE)

#: Characters that reorder what a reader sees (overrides, embeddings, isolates): none may reach a reader.
BIDI_CONTROLS = tuple(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))

#: Bodies a source may send instead of what it promised.
MALFORMED_JSON = (
    b'[{"id": "1", "content": "<p>yar\xc4\xb1m kal',
    b'{"error": ',
    b"<html><body>502 Bad Gateway</body></html>",
    b"\xff\xfe[\x00]\x00",
)
MALFORMED_HTML = '<p>Kuzey Telekom <b><i>kapanmayan <a href="javascript:alert(1)" <div></span><p>faturam yanlış'
#: A status whose JSON holds bytes that are not UTF-8 (a broken proxy, a legacy encoding).
INVALID_UTF8_TEXT = b"Kuzey Telekom fatura \xff\xfe\xc3( yanl\xc4\xb1\xc5 geldi"
