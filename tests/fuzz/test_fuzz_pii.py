"""Fuzz the PII masker: valid identifiers in any surrounding text are masked, the rest kept, and nothing is slow."""

from __future__ import annotations

import itertools
import time

from hypothesis import assume, example, given
from hypothesis import strategies as st

from classifiers.pii import MASKS, find_pii, iban_valid, luhn_valid, mask_pii, tckn_valid

# Words around an identifier: letters (Turkish ones too), spaces and punctuation, never a digit or an "@".
WORDS = st.text(alphabet="abcçdefgğhıijklmnoöprsştuüvyzABCÇDEFGĞHIİJKLMNOÖPRSŞTUÜVYZ .,!?;:'()-", max_size=40)
# Characters a reader does not see: zero-width, joiners, direction marks and isolates, the soft hyphen, the BOM.
INVISIBLE = "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"


@st.composite
def tckns(draw: st.DrawFn) -> str:
    d = [draw(st.integers(1, 9))] + [draw(st.integers(0, 9)) for _ in range(8)]
    d.append(((d[0] + d[2] + d[4] + d[6] + d[8]) * 7 - (d[1] + d[3] + d[5] + d[7])) % 10)
    d.append(sum(d) % 10)
    return "".join(map(str, d))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    bban = "".join(str(draw(st.integers(0, 9))) for _ in range(22))
    check = 98 - int(bban + "2927" + "00") % 97  # T=29, R=27 (ISO 13616)
    iban = f"TR{check:02d}{bban}"
    if draw(st.booleans()):
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return iban


@st.composite
def cards(draw: st.DrawFn) -> str:
    start = draw(st.sampled_from(["4", "51", "55", "2221", "9792", "6011"]))
    body = start + "".join(str(draw(st.integers(0, 9))) for _ in range(15 - len(start)))
    check = next(str(c) for c in range(10) if luhn_valid(body + str(c)))
    number = body + check
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


@st.composite
def phones(draw: st.DrawFn) -> str:
    op = f"5{draw(st.integers(0, 6))}{draw(st.integers(0, 9))}"
    rest = "".join(str(draw(st.integers(0, 9))) for _ in range(7))
    a, b, c = rest[:3], rest[3:5], rest[5:]
    shape = draw(
        st.sampled_from(
            [
                "0{o} {a} {b} {c}",
                "+90 {o} {a} {b} {c}",
                "0 ({o}) {a} {b} {c}",
                "0{o}{a}{b}{c}",
                "+90{o}{a}{b}{c}",
                "0{o}-{a}-{b}-{c}",
                "0{o}.{a}.{b}.{c}",
            ]
        )
    )
    return shape.format(o=op, a=a, b=b, c=c)


EMAILS = st.builds(
    "{}@{}.{}".format,
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(
        lambda s: s[0].isalnum() and s[-1].isalnum()
    ),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10),
    st.sampled_from(["com", "com.tr", "net", "org.tr", "io"]),
)
IDENTIFIERS = {"tckn": tckns(), "iban": ibans(), "card": cards(), "phone": phones(), "email": EMAILS}


LABELS = (
    "sipari",
    "order",
    "takip",
    "tracking",
    "kargo",
    "nderi",
    "fatura",
    "invoice",
    "abone",
    "teri",
    "referans",
    "vuru",
    "talep",
    "ikayet",
    "dosya",
    "kay",
    "rün",
    "run",
    "seri",
    "imei",
    "iccid",
    "barkod",
    "dekont",
    "lem",
    "ticket",
    "case",
    "son",
    "last",
)


def unlabelled(prefix: str) -> bool:
    """A prefix that cannot name the number as something else (an order or IMEI number is not masked by design)."""
    folded = prefix.casefold()
    return not any(label in folded for label in LABELS) and "ref" not in folded.replace("refah", "").replace(
        "reform", ""
    )


@given(text=st.text(max_size=300))
@example(text="TR" + "0" * 24)
@example(text="\u200b" * 5 + "05321234567")
def test_masking_never_raises_is_idempotent_and_spans_are_sane(text: str) -> None:
    spans = find_pii(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    masked = mask_pii(text)
    assert mask_pii(masked) == masked
    assert len(masked) <= len(text) + 9 * len(spans)  # each tag is at most as long as "[E-POSTA]"


@given(kind=st.sampled_from(sorted(IDENTIFIERS)), data=st.data(), prefix=WORDS, suffix=WORDS)
@example(kind="tckn", data=None, prefix="Refah Mahallesi", suffix="")  # "ref…" was read as a reference label
@example(kind="tckn", data=None, prefix="reform", suffix="")
def test_a_valid_identifier_in_any_text_is_masked_and_the_rest_kept(
    kind: str, data: st.DataObject | None, prefix: str, suffix: str
) -> None:
    identifier = "10000000146" if data is None else data.draw(IDENTIFIERS[kind], label="identifier")
    assume(unlabelled(prefix))
    text = f"{prefix} {identifier} {suffix}"
    masked = mask_pii(text)
    assert masked == f"{prefix} {MASKS[kind]} {suffix}", (text, find_pii(text))


@given(kind=st.sampled_from(sorted(IDENTIFIERS)), data=st.data(), prefix=WORDS, suffix=WORDS)
@example(kind="phone", data=None, prefix="ara", suffix="")
def test_invisible_characters_inside_an_identifier_do_not_let_it_escape(
    kind: str, data: st.DataObject | None, prefix: str, suffix: str
) -> None:
    if data is None:
        identifier, spots = "0532\u200b123\u200e45 67", ""
    else:
        plain = data.draw(IDENTIFIERS[kind], label="identifier")
        at = data.draw(st.integers(1, len(plain) - 1), label="at")
        spots = data.draw(st.text(alphabet=INVISIBLE, min_size=1, max_size=3), label="invisible")
        identifier = plain[:at] + spots + plain[at:]
    assume(unlabelled(prefix))
    masked = mask_pii(f"{prefix} {identifier} {suffix}")
    assert masked == f"{prefix} {MASKS[kind]} {suffix}", (identifier, masked)


def test_generators_make_valid_identifiers() -> None:
    """The strategies above produce what the masker must catch (else the properties prove nothing)."""
    assert tckn_valid("10000000146") and iban_valid("TR330006100519786457841326")

    @given(t=tckns(), i=ibans(), c=cards())
    def check(t: str, i: str, c: str) -> None:
        assert tckn_valid(t) and iban_valid(i) and luhn_valid(c)

    check()


ADVERSARIAL = {
    "digits and spaces": "1 " * 25_000,
    "digit groups": "1234 " * 10_000,
    "phone-like runs": "0532 123 45 6" * 4_000,
    "plus runs": "+90 (5" * 8_000,
    "dashes": "4111-" * 10_000,
    "iban-like": "TR12 " * 10_000,
    "starred": "**** " * 10_000,
    "emails": "a.b@c." * 8_000,
    "at signs": "a@" * 25_000,
    "dots": "a." * 25_000 + "@",
    "last four": "son dört hanesi " * 3_000,
    "mixed": "05321234567x10000000146-TR33 0006 1005 " * 1_200,
}


def test_long_adversarial_texts_are_masked_quickly() -> None:
    """No catastrophic backtracking: 50 KB of digits, separators and near-misses each in well under a second."""
    slowest = ("", 0.0)
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        mask_pii(text)
        took = time.perf_counter() - started
        slowest = max(slowest, (name, took), key=lambda pair: pair[1])
    assert slowest[1] < 1.0, slowest
