"""Auto-link precision and recall on a synthetic customer base and a labelled set of mentions we wrote."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.support.matching_eval import load_base, measure


def test_auto_links_are_precise_and_name_only_never_links(engine: Engine, tmp_path: Path) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    rows, report = load_base(tmp_path, uow, 3000)
    assert report.imported == 3000 and report.errors == []
    quality = measure(uow, rows, 600)
    print(
        f"\nauto-links {quality.linked}: precision {quality.precision:.3f}, recall {quality.recall:.3f}; "
        f"wrong {dict(quality.wrong_by_kind)}, missed {dict(quality.missed_by_kind)}"
    )
    assert quality.precision >= 0.98
    assert quality.recall >= 0.6
    # The kinds that must never auto-link whoever wrote them.
    assert not {"name_only", "namesake_other_city", "order_typo"} & set(quality.wrong_by_kind)
