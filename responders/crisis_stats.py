"""The statistics of crisis checks in pure Python: how unlikely a window is under its baseline, and what drives it."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

# Volume: the baseline windows' counts update a Gamma prior on the scope's usual level, and the window is judged
# against the predictive law of a new count, a negative binomial. Against a plain Poisson with the baseline mean,
# this widens the tail by how little four windows tell, and the prior stands in for an empty baseline. It is vague,
# Gamma(1, 0.1): worth a tenth of a window, it hardly moves a real baseline (1,620 mentions in four windows still
# expect 395), yet four empty windows expect a quarter of a mention, not none, so three mentions have a chance of
# 1 in 133 rather than of nothing.
PRIOR_MENTIONS = 1.0
PRIOR_WINDOWS = 0.1
# Negative share: a Beta prior of 1.5 negatives in 5 mentions (a care team's usual mix) smooths the baseline share,
# so a thin baseline is judged against about 30%, never against 0% or 100%.
PRIOR_NEGATIVE = 1.5
PRIOR_MENTIONS_SHARE = 5.0
# A significant rise is not enough: a spike also has twice the mentions the baseline expects, or odds of a
# mention being negative three times the baseline's (30% -> 56%, 60% -> 82%), so a big brand's small wobble is
# not an incident.
VOLUME_LIFT = 2.0
NEGATIVE_LIFT = 3.0
# Weeks are alike but not equal (news, campaigns, weather): an hour's usual level differs from one week to the next
# by about a fifth. The Gamma law of the level is kept at least that wide (shape <= 1 / WEEKLY_SPREAD²), so a big
# baseline does not make an ordinary busy week look impossible.
WEEKLY_SPREAD = 0.2
MAX_SHAPE = 1.0 / WEEKLY_SPREAD**2
_STOP = 1e-17  # a tail sum stops once its terms no longer change the total


@dataclass(frozen=True)
class Limits:
    significance: float = 0.001
    min_mentions: int = 10


def _log_tail(log_first: float, ratio: Iterable[float]) -> float:
    """log of sum over j >= k of t_j, from log t_k and the ratios t_{j+1} / t_j (falling: the terms shrink)."""
    total, term = 1.0, 1.0
    for r in ratio:
        term *= r
        total += term
        if term < total * _STOP:
            break
    return log_first + math.log(total)


def _log_rest(below: float) -> float:
    """log(1 - below) for the part of a law at and above k, given the part below (up to the mean: not small)."""
    return math.log1p(-below) if below < 1.0 else -math.inf


def log_gamma_poisson_tail(k: int, shape: float, rate: float) -> float:
    """log P(X >= k) for a Poisson count whose mean follows Gamma(shape, rate): a negative binomial."""
    if k <= 0:
        return 0.0
    q = 1.0 / (rate + 1.0)  # the chance of "one more" in the negative binomial's terms

    def log_pmf(j: int) -> float:
        return (
            math.lgamma(j + shape) - math.lgamma(shape) - math.lgamma(j + 1) + shape * math.log1p(-q) + j * math.log(q)
        )

    if k > shape / rate:  # past the mean the terms fall from the first on
        return _log_tail(log_pmf(k), ((j + shape) / (j + 1) * q for j in range(k, k + 1_000_000)))
    return _log_rest(sum(math.exp(log_pmf(j)) for j in range(k)))


def log_binomial_tail(k: int, n: int, p: float) -> float:
    """log P(K >= k) for K ~ Binomial(n, p)."""
    if k <= 0:
        return 0.0
    if k > n or p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return 0.0

    def log_pmf(j: int) -> float:
        return (
            math.lgamma(n + 1)
            - math.lgamma(j + 1)
            - math.lgamma(n - j + 1)
            + j * math.log(p)
            + (n - j) * math.log1p(-p)
        )

    if k > n * p:
        odds = p / (1.0 - p)
        return _log_tail(log_pmf(k), ((n - j) / (j + 1) * odds for j in range(k, n)))
    return _log_rest(sum(math.exp(log_pmf(j)) for j in range(k)))


@dataclass(frozen=True)
class Signal:
    """One scope and metric of a window judged against its baseline."""

    scope: str  # brand | source:<name> | topic:<label>
    metric: str  # volume | negative
    observed: int  # mentions (volume) or negative mentions (negative) in the window
    expected: float  # what the baseline expects of that number
    mentions: int  # all of the scope's mentions in the window
    log_p: float  # log of the chance of ``observed`` or more under the baseline
    spiking: bool

    @property
    def key(self) -> str:
        return f"{self.scope}/{self.metric}"

    @property
    def p(self) -> float:
        return math.exp(self.log_p)  # 0.0 when it underflows

    def to_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "metric": self.metric,
            "observed": self.observed,
            "expected": round(self.expected, 3),
            "mentions": self.mentions,
            "p": self.p,  # JSON has no -inf
        }


def volume_signal(scope: str, observed: int, baseline: Sequence[int], limits: Limits) -> Signal:
    shape, rate = PRIOR_MENTIONS + sum(baseline), PRIOR_WINDOWS + len(baseline)
    expected = shape / rate
    if shape > MAX_SHAPE:  # never surer of the usual level than weeks differ: same mean, wider law
        shape, rate = MAX_SHAPE, MAX_SHAPE / expected
    log_p = log_gamma_poisson_tail(observed, shape, rate)
    spiking = (
        observed >= limits.min_mentions and observed >= VOLUME_LIFT * expected and log_p < math.log(limits.significance)
    )
    return Signal(scope, "volume", observed, expected, observed, log_p, spiking)


def negative_signal(
    scope: str, negatives: int, mentions: int, baseline_negatives: int, baseline_mentions: int, limits: Limits
) -> Signal:
    share = (PRIOR_NEGATIVE + baseline_negatives) / (PRIOR_MENTIONS_SHARE + baseline_mentions)
    log_p = log_binomial_tail(negatives, mentions, share)
    # odds(now) >= NEGATIVE_LIFT * odds(baseline), multiplied out so an all-negative window needs no division
    lifted = negatives * (1.0 - share) >= NEGATIVE_LIFT * share * (mentions - negatives)
    spiking = negatives >= limits.min_mentions and lifted and log_p < math.log(limits.significance)
    return Signal(scope, "negative", negatives, mentions * share, mentions, log_p, spiking)


def assess(counts: Mapping[str, Sequence[tuple[int, int]]], limits: Limits) -> list[Signal]:
    """Every scope's volume and negative signals, strongest first.

    ``counts`` maps a scope to (mentions, negatives) in each window: the window being judged, then the baseline's.
    ``limits.significance`` holds for the check as a whole: with n tests (two a scope) each is held to
    significance / n (Bonferroni), so a brand with many topics and sources is not alerted more often by chance.
    """
    limits = replace(limits, significance=limits.significance / max(1, 2 * len(counts)))
    signals: list[Signal] = []
    for scope, ((mentions, negatives), *baseline) in counts.items():
        signals.append(volume_signal(scope, mentions, [m for m, _ in baseline], limits))
        before_mentions, before_negatives = sum(m for m, _ in baseline), sum(n for _, n in baseline)
        signals.append(negative_signal(scope, negatives, mentions, before_negatives, before_mentions, limits))
    signals.sort(key=lambda s: (not s.spiking, s.log_p, -(s.observed - s.expected), s.key))
    return signals


# -- what drives a spike -----------------------------------------------------------------------------------------
_TR_UPPER = str.maketrans({"İ": "i", "I": "ı"})
MASK = re.compile(r"\[[^\[\]\s]{1,24}\]")  # [TCKN], [KART], [E-POSTA]: what the masking put in
URL = re.compile(r"(?:https?://|www\.)\S+|<[!@#][^<>\s]*>")  # links, and Slack's <!channel> / <@U…> forms
HANDLE = re.compile(r"@[\w.]+")  # people's handles are never a term
TOKEN = re.compile(r"#[^\W_][\w]*|[^\W\d_]+")  # hashtags, else runs of letters (numbers are dropped)
MIN_LETTERS = 3
# Folded words too common to say what a spike is about, Turkish then English.
_STOPWORDS = """
    acaba ama ancak artık aslında bana bazı belki ben beni benim bile bir biraz birçok biri birkaç biz bize bizi
    bizim böyle bu buna bunda bunu bunun burada çok çünkü daha defa değil diye diğer gibi göre hâlâ hala hem hep
    hepsi her hiç için ile ise işte kadar kendi kim kimse nasıl neden nerede niye niçin olan olarak oldu olduğu
    olmuş olsun olur oluyor ona onlar onu onun orada sadece sana sen seni senin siz size sizi sizin son şey şimdi
    tüm üzere var veya yani yine yok zaten gün bugün dün tekrar lütfen merhaba
    the and for are but not you your with this that have has was were from they them their our out all can had
    her his him how its just like more some than then there these what when who will would about been into only
    also very get got still again please
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def fold(text: str) -> str:
    """Casefold with Turkish rules: "İADE" -> "iade", "IŞIK" -> "ışık"."""
    return unicodedata.normalize("NFC", text).translate(_TR_UPPER).casefold().replace("i\u0307", "i")


def words(text: str, drop: frozenset[str] = frozenset()) -> set[str]:
    """The distinct terms of a masked text: folded words and hashtags, without masks, links, handles, numbers,
    stopwords, short words or anything in ``drop`` (the brand's own names)."""
    text = HANDLE.sub(" ", URL.sub(" ", MASK.sub(" ", fold(text))))
    found = set()
    for token in TOKEN.findall(text):
        bare = token.lstrip("#")
        if len(bare) >= MIN_LETTERS and bare not in STOPWORDS and bare not in drop and token not in drop:
            found.add(token)
    return found


def brand_words(names: Iterable[str]) -> frozenset[str]:
    """The words of a brand's aliases, handles and hashtags, folded: never a term of its own crisis."""
    found: set[str] = set()
    for name in names:
        folded = fold(name).lstrip("@#")
        found.add(folded.replace(" ", ""))
        found.update(TOKEN.findall(folded))
    return frozenset(found)


def top_terms(
    window: Sequence[str],
    baseline: Sequence[str],
    drop: frozenset[str] = frozenset(),
    limit: int = 5,
    min_texts: int = 3,
) -> list[tuple[str, int]]:
    """Terms of the window's texts over-represented against the baseline's, with how many window texts have them.

    Texts with the same terms count once (a post copied 200 times is one voice; the near-duplicate clusters show
    the copying). Each term scores by the log-ratio of the share of texts holding it, each share smoothed as
    (k + 1) / (n + 2) so a term the baseline never used does not score infinitely; a term needs ``min_texts``
    texts and twice the baseline's share."""
    window_sets = {frozenset(words(text, drop)) for text in window}
    baseline_sets = {frozenset(words(text, drop)) for text in baseline}
    now = Counter(term for terms in window_sets for term in terms)
    before = Counter(term for terms in baseline_sets for term in terms)
    scored = []
    for term, k in now.items():
        if k < min_texts:
            continue
        score = math.log((k + 1) / (len(window_sets) + 2)) - math.log((before[term] + 1) / (len(baseline_sets) + 2))
        if score >= math.log(2.0):
            scored.append((-score, -k, term))
    return [(term, -k) for _, k, term in sorted(scored)[:limit]]


def clusters(pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups of near-duplicates from (mention, the earlier mention it repeats) pairs, largest first, each group's
    ids in order (the first is the earliest: the text the others repeat)."""
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for mention, earlier in pairs:
        a, b = root(mention), root(earlier)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    return sorted((sorted(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))
