"""The analysis and matching stages: NEW -> ANALYZED -> MATCHED, one mention failing alone."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Protocol

from classifiers.matching import CustomerMatcher
from store.model import Analysis, Mention, MentionStatus, RawMention
from store.repository import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 200


class TextAnalyzer(Protocol):
    def analyze(self, text: str, *, brand_hint: str | None = None) -> Analysis: ...


def mention_text(raw: RawMention) -> str:
    """What the analyser reads: the title (complaint sites have telling ones) and the body."""
    return f"{raw.title}\n\n{raw.text}" if raw.title else raw.text


def analyze_pending(uow: UnitOfWork, analyzer: TextAnalyzer, *, limit: int | None = None) -> Counter[str]:
    """Analyse NEW mentions in batches; a mention the analyser fails on is marked FAILED with the reason."""
    counts: Counter[str] = Counter()
    while limit is None or counts.total() < limit:
        with uow:
            batch = uow.mentions.with_status(MentionStatus.NEW, limit=BATCH)
            if not batch:
                break
            for mention in batch:
                counts[_analyze_one(uow, analyzer, mention)] += 1
            uow.commit()
    return counts


def _analyze_one(uow: UnitOfWork, analyzer: TextAnalyzer, mention: Mention) -> str:
    try:
        analysis = analyzer.analyze(mention_text(mention.raw), brand_hint=mention.raw.brand)
    except Exception as exc:  # one bad mention must not stop the batch: it is marked FAILED with the reason
        log.exception("analysis failed for mention %s", mention.id, extra={"mention_id": mention.id})
        uow.mentions.set_status(mention.id, MentionStatus.FAILED, f"analysis: {type(exc).__name__}: {exc}")
        return "failed"
    uow.analyses.add(mention.id, analysis)
    uow.mentions.set_status(mention.id, MentionStatus.ANALYZED)
    return "analyzed"


def match_pending(uow: UnitOfWork, matcher: CustomerMatcher) -> Counter[str]:
    """Match ANALYZED mentions to customers; a mention with no match still moves on to MATCHED."""
    counts: Counter[str] = Counter()
    while True:
        with uow:
            batch = uow.mentions.with_status(MentionStatus.ANALYZED, limit=BATCH)
            if not batch:
                break
            for mention in batch:
                found = matcher.match(mention, uow.customers)
                if found is not None:
                    uow.matches.add(found)
                    counts[f"matched_by_{found.method}"] += 1
                else:
                    counts["unmatched"] += 1
                uow.mentions.set_status(mention.id, MentionStatus.MATCHED)
            uow.commit()
    return counts
