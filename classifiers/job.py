"""The analysis and matching stages: NEW -> ANALYZED -> MATCHED, one mention failing alone."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from classifiers.base import MentionContext
from classifiers.duplicates import BatchDuplicates, FingerprintCache
from classifiers.matching import CustomerMatcher
from store.model import Analysis, MatchStatus, Mention, MentionStatus, RawMention
from store.repository import UnitOfWork, drain_batches

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


def context_of(mention: Mention, prior_contacts: int) -> MentionContext:
    """Reach and history of the mention's author, as the store knows them."""
    return MentionContext(
        followers=followers_of(mention.raw), prior_contacts=prior_contacts, brand_hint=mention.raw.brand
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
    """Analyse NEW mentions a batch at a time; a mention the analyser fails on is marked FAILED with the reason,
    and the rest of its batch goes on."""

    def analyze_batch(uow: UnitOfWork, mentions: list[Mention], counts: Counter[str]) -> None:
        prior = uow.mentions.earlier_by_authors(mentions, repeat_days)
        done: list[tuple[int, Analysis]] = []
        for mention in mentions:
            try:
                context = context_of(mention, prior[mention.id])
                text = mention_text(mention.raw)
                done.append((mention.id, analyzer.analyze(text, brand_hint=mention.raw.brand, context=context)))
            except Exception as exc:  # one bad mention must not stop the batch: it is marked FAILED with the reason
                ids = {"mention_id": mention.id, "source": source_name(mention.raw), "brand": mention.raw.brand}
                log.exception("analysis failed for mention %s", mention.id, extra=ids)
                uow.mentions.set_status(mention.id, MentionStatus.FAILED, f"analysis: {type(exc).__name__}: {exc}")
                counts["failed"] += 1
        uow.analyses.add_many(done)
        uow.mentions.set_statuses([mention_id for mention_id, _ in done], MentionStatus.ANALYZED)
        counts["analyzed"] += len(done)

    return drain_batches(uow, MentionStatus.NEW, analyze_batch, limit=limit, stop=stop)


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

    known = FingerprintCache()

    def match_batch(uow: UnitOfWork, mentions: list[Mention], counts: Counter[str]) -> None:
        # One mention after the other, each looking among the earlier ones of the batch too; their fingerprints
        # are written together at the end. An error rolls the whole batch back, as one mention at a time did.
        duplicates = BatchDuplicates(known)
        since = (now or datetime.now(UTC)) - timedelta(days=duplicate_days)
        duplicates.prepare(uow, mentions, since)  # the near-duplicate look-ups of the whole batch at once
        matches = matcher.match_many(mentions, uow)  # and the customer look-ups
        for mention in mentions:
            if duplicates.find(uow, mention, since) is not None:
                counts["near_duplicates"] += 1
            found = matches[mention.id]
            if any(m.status is MatchStatus.AUTO for m in found):
                counts["matched"] += 1
            elif found:
                counts["suggested"] += 1
            else:
                counts["unmatched"] += 1
        duplicates.write(uow)
        uow.matches.add_many([match for found in matches.values() for match in found])
        uow.mentions.set_statuses([m.id for m in mentions], MentionStatus.MATCHED)

    return drain_batches(uow, MentionStatus.ANALYZED, match_batch, stop=stop)
