"""Near-duplicate look-ups of the matching stage: each mention's fingerprint against the recent ones in the store
and the earlier ones of its batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from classifiers.dedupe import THRESHOLD, Fingerprint, bands, fingerprint, similarities
from store.model import Mention
from store.repository import FingerprintEntry, UnitOfWork


class FingerprintCache:
    """Decoded fingerprints by mention id, the most recently used kept: the same few hundred recent mentions are
    the candidates of most look-ups, and decoding their JSON again each time was most of the matching stage."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._held: dict[int, Fingerprint] = {}

    def __contains__(self, mention_id: object) -> bool:
        return mention_id in self._held

    def get(self, mention_id: int, data: object) -> Fingerprint:
        """The mention's fingerprint: the one held, else ``data`` decoded (and held). Nothing is let go here, so
        every mention a look-up was told is held stays held until ``put``."""
        held = self._held.pop(mention_id, None)
        if held is None:
            held = Fingerprint.from_json(data)
        self._held[mention_id] = held
        return held

    def put(self, mention_id: int, fp: Fingerprint) -> None:
        """Hold ``fp`` and let the least recently used go beyond ``size``."""
        self._held.pop(mention_id, None)
        self._held[mention_id] = fp
        while len(self._held) > self.size:
            del self._held[next(iter(self._held))]


class BatchDuplicates:
    """The near-duplicate look-ups of one batch of mentions, taken in order.

    A mention is compared with the recent mentions of the store that share its bands and with the earlier mentions
    of the batch that do (held here: the batch's fingerprints are written together by ``write``, one statement
    for all their bands rather than several per mention). ``known`` holds decoded fingerprints across batches.
    """

    def __init__(self, known: FingerprintCache | None = None) -> None:
        self.known = known if known is not None else FingerprintCache()
        self._pending: list[FingerprintEntry] = []
        self._held: dict[int, Fingerprint] = {}
        self._by_band: dict[int, list[int]] = {}
        self._asked: dict[int, tuple[Fingerprint, list[int], dict[int, Fingerprint]]] = {}

    def prepare(self, uow: UnitOfWork, mentions: Sequence[Mention], since: datetime) -> None:
        """Look up the store's candidates of all ``mentions`` at once (``find`` then asks the store nothing for
        them). The store does not change until ``write``, so the answers are the ones ``find`` would get."""
        prints = {m.id: _fingerprint_of(m) for m in mentions}
        keys = {mention_id: bands(fp) for mention_id, fp in prints.items()}
        found = uow.fingerprints.sharing_known_many(keys, since, self.known)
        for mention_id, fp in prints.items():
            # decoded now: the cache lets fingerprints go as the batch's own are put in it
            self._asked[mention_id] = (fp, keys[mention_id], self._decoded(found[mention_id]))

    def _decoded(self, found: list[tuple[int, dict[str, Any] | None]]) -> dict[int, Fingerprint]:
        """The store's answer as fingerprints: the ones held, the rest decoded from their data."""
        return {other_id: self.known.get(other_id, data) for other_id, data in found}

    def find(self, uow: UnitOfWork, mention: Mention, since: datetime) -> int | None:
        """The earlier mention this one nearly repeats, if any (the most similar); its fingerprint is held for
        ``write``."""
        asked = self._asked.pop(mention.id, None)
        if asked is not None:
            fp, keys, found = asked
        else:
            fp = _fingerprint_of(mention)
            keys = bands(fp)
            found = self._decoded(uow.fingerprints.sharing_known(keys, since, self.known))
        shared = {other_id for key in keys for other_id in self._by_band.get(key, ())}
        for other_id in shared:
            found.setdefault(other_id, self._held[other_id])
        earlier = [(other_id, other) for other_id, other in found.items() if other_id < mention.id]
        scores = similarities(fp, [other for _, other in earlier])
        best, best_score = None, 0.0  # the most similar; of equally similar ones the latest
        for (other_id, _), score in zip(earlier, scores, strict=True):
            if score >= THRESHOLD and (score > best_score or (score == best_score and other_id > (best or 0))):
                best, best_score = other_id, score
        self._pending.append((mention.id, fp.to_json(), keys, best, round(best_score, 4) if best else None))
        self._held[mention.id] = fp
        for key in dict.fromkeys(keys):
            self._by_band.setdefault(key, []).append(mention.id)
        self.known.put(mention.id, fp)
        return best

    def write(self, uow: UnitOfWork) -> None:
        """Store the fingerprints of the mentions looked up so far (with the repeat each found)."""
        uow.fingerprints.add_many(self._pending)
        self._pending = []


def _fingerprint_of(mention: Mention) -> Fingerprint:
    raw = mention.raw
    return fingerprint(f"{raw.title}\n{raw.text}")


def find_duplicate(
    uow: UnitOfWork, mention: Mention, since: datetime, known: FingerprintCache | None = None
) -> int | None:
    """Store the mention's fingerprint and return the earlier mention it nearly repeats, if any (most similar).

    ``known`` holds fingerprints decoded before (kept across the calls of one pass)."""
    batch = BatchDuplicates(known)
    best = batch.find(uow, mention, since)
    batch.write(uow)
    return best
