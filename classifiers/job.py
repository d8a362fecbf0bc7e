"""The analysis and matching stages: NEW -> ANALYZED -> MATCHED, one mention failing alone."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from classifiers.base import MentionContext
from classifiers.dedupe import THRESHOLD, Fingerprint, bands, fingerprint, similarity
from classifiers.matching import CustomerMatcher
from store.model import Analysis, MatchStatus, Mention, MentionStatus, RawMention
from store.repository import UnitOfWork, drain

log = logging.getLogger(__name__)


class TextAnalyzer(Protocol):
    def analyze(
        self, text: str, *, brand_hint: str | None = None, context: MentionContext | None = None
    ) -> Analysis: ...


def followers_of(raw: RawMention) -> int | None:
    """The author's follower count when the source put one in the payload (X: followers, Mastodon: ..._count)."""
    for key in ("followers", "followers_count"):
        value = raw.payload.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def context_of(uow: UnitOfWork, mention: Mention, repeat_days: int) -> MentionContext:
    """Reach and history of the mention's author, as the store knows them."""
    since = (mention.raw.published_at or mention.raw.fetched_at) - timedelta(days=repeat_days)
    return MentionContext(
        followers=followers_of(mention.raw),
        prior_contacts=uow.mentions.earlier_by_author(mention, since),
        brand_hint=mention.raw.brand,
    )


def source_name(raw: RawMention) -> str:
    """The configured source a mention came from (its type when an older row does not say)."""
    return str(raw.payload.get("source_name") or raw.source)


def mention_text(raw: RawMention) -> str:
    """What the analyser reads: the title (complaint sites have telling ones) and the body."""
    return f"{raw.title}\n\n{raw.text}" if raw.title else raw.text


def analyze_pending(
    uow: UnitOfWork,
    analyzer: TextAnalyzer,
    *,
    limit: int | None = None,
    repeat_days: int = 14,
    stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """Analyse NEW mentions; a mention the analyser fails on is marked FAILED with the reason."""

    def analyze_one(uow: UnitOfWork, mention: Mention, counts: Counter[str]) -> None:
        try:
            context = context_of(uow, mention, repeat_days)
            analysis = analyzer.analyze(mention_text(mention.raw), brand_hint=mention.raw.brand, context=context)
        except Exception as exc:  # one bad mention must not stop the batch: it is marked FAILED with the reason
            ids = {"mention_id": mention.id, "source": source_name(mention.raw), "brand": mention.raw.brand}
            log.exception("analysis failed for mention %s", mention.id, extra=ids)
            uow.mentions.set_status(mention.id, MentionStatus.FAILED, f"analysis: {type(exc).__name__}: {exc}")
            counts["failed"] += 1
            return
        uow.analyses.add(mention.id, analysis)
        uow.mentions.set_status(mention.id, MentionStatus.ANALYZED)
        counts["analyzed"] += 1

    return drain(uow, MentionStatus.NEW, analyze_one, limit=limit, stop=stop)


def match_pending(
    uow: UnitOfWork,
    matcher: CustomerMatcher,
    *,
    duplicate_days: int = 14,
    now: datetime | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> Counter[str]:
    """Fingerprint ANALYZED mentions (noting the earlier mention each repeats) and match them to customers.

    A mention with no candidate still moves on to MATCHED; candidates below auto-linking wait for an agent.
    """

    def match_one(uow: UnitOfWork, mention: Mention, counts: Counter[str]) -> None:
        since = (now or datetime.now(UTC)) - timedelta(days=duplicate_days)
        if find_duplicate(uow, mention, since) is not None:
            counts["near_duplicates"] += 1
        found = matcher.match(mention, uow)
        for match in found:
            uow.matches.add(match)
        if any(m.status is MatchStatus.AUTO for m in found):
            counts["matched"] += 1
        elif found:
            counts["suggested"] += 1
        else:
            counts["unmatched"] += 1
        uow.mentions.set_status(mention.id, MentionStatus.MATCHED)

    return drain(uow, MentionStatus.ANALYZED, match_one, stop=stop)


def find_duplicate(uow: UnitOfWork, mention: Mention, since: datetime) -> int | None:
    """Store the mention's fingerprint and return the earlier mention it nearly repeats, if any (most similar)."""
    raw = mention.raw
    fp = fingerprint(f"{raw.title}\n{raw.text}")
    keys = bands(fp)
    best, best_score = None, 0.0
    for other_id, data in uow.fingerprints.sharing_bands(keys, since):
        if other_id >= mention.id:
            continue
        score = similarity(fp, Fingerprint.from_json(data))
        if score >= THRESHOLD and score > best_score:
            best, best_score = other_id, score
    uow.fingerprints.add(mention.id, fp.to_json(), keys, best, round(best_score, 4) if best else None)
    return best
