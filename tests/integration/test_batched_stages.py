"""Matching and routing take a batch of mentions at once: what they read and write together must be what one
mention after the other would have read and written."""

from __future__ import annotations

from datetime import timedelta

from classifiers.duplicates import BatchDuplicates
from loopback.slack import SlackServer
from responders.budget import RecentAlerts
from responders.cases import case_view
from responders.slack import SlackAlerter, slack_client
from store.model import Delivery, DeliveryStatus, MentionStatus
from store.sqlalchemy import SqlAlchemyUnitOfWork
from tests.integration.test_cases import LONG, NOW, post, process, slack, uow

__all__ = ["slack", "uow"]  # the fixtures, shared with the case tests

REPOST = "Kuzey Telekom " + LONG.split(". ", 1)[1] + " #kuzeytelekom @kuzeytelekom"


def test_a_repeat_in_the_same_batch_finds_the_earlier_mention_and_joins_its_case(uow: SqlAlchemyUnitOfWork) -> None:
    counts = process(
        uow,
        post("1", LONG, source="sikayetvar", handle="sikayetci_1"),
        post("2", "Kuzey Telekom modemim bozuldu, teknik servis gelmedi", handle="x1"),
        post("3", REPOST, source="eksisozluk", handle="gece kusu"),
    )
    assert counts["near_duplicates"] == 1
    assert counts["joined_by_duplicate"] == 1 and counts["tickets_opened"] == 2
    with uow:
        ids = [m.id for m in uow.mentions.with_status(MentionStatus.ROUTED, limit=10)]
        assert uow.fingerprints.duplicates_of(ids) == {ids[2]: ids[0]}
        assert uow.tickets.case_of(ids[2]) == uow.tickets.case_of(ids[0])


TEMPLATE = LONG.replace("KT-40123456 numaralı başvurumu", "Başvurumu")  # a form letter: no one's number in it


def test_a_repeat_sees_what_its_batch_did_to_the_case_it_repeats(uow: SqlAlchemyUnitOfWork) -> None:
    # In one batch: someone unknown opens a case with a form letter; Ayşe sends the same letter, joins the case
    # and it becomes hers; Mehmet's copy repeats hers, but a case of someone else is not his, so he gets his own.
    counts = process(
        uow,
        post("1", TEMPLATE, handle="bilinmeyen"),
        post("2", TEMPLATE, handle="aysenur_y"),
        post("3", TEMPLATE, handle="mkaya"),
    )
    assert counts["near_duplicates"] == 2
    assert counts["joined_by_duplicate"] == 1 and counts["tickets_opened"] == 2
    with uow:
        first, ayse, mehmet = uow.mentions.with_status(MentionStatus.ROUTED, limit=10)
        assert uow.fingerprints.duplicates_of([mehmet.id]) == {mehmet.id: ayse.id}
        shared, own = uow.tickets.case_of(first.id), uow.tickets.case_of(mehmet.id)
        assert shared is not None and own is not None
        assert uow.tickets.case_of(ayse.id) == shared and own != shared
        assert shared.customer_id is not None and own.customer_id is not None
        assert {c.external_id for c in uow.customers.get_many([shared.customer_id, own.customer_id]).values()} == {
            "C1",
            "C2",
        }


def test_a_mention_joining_a_case_opened_in_its_batch_is_told_in_the_new_alert_s_thread(
    uow: SqlAlchemyUnitOfWork, slack: SlackServer
) -> None:
    counts = process(
        uow,
        post("1", "Kuzey Telekom faturam yine yanlış", handle="aysenur_y"),
        post("2", "KT-40123456 için hâlâ bekliyorum", source="sikayetvar", handle="ayse_n"),
        slack=slack,
    )
    assert counts["tickets_opened"] == 1 and counts["joined_by_customer"] == 1
    (alert,) = [m for m in slack.posted() if m.thread_ts is None]
    (note,) = slack.thread(alert.ts)
    assert "#2" in note.text


def test_of_equally_similar_earlier_mentions_the_latest_is_the_one_repeated(uow: SqlAlchemyUnitOfWork) -> None:
    # three copies in one batch, then a fourth in the next: each repeats the copy just before it
    process(uow, *(post(str(i), LONG, handle=f"kopya{i}") for i in range(3)))
    process(uow, post("3", LONG, handle="kopya3"))
    with uow:
        ids = [m.id for m in uow.mentions.with_status(MentionStatus.ROUTED, limit=10)]
        assert uow.fingerprints.duplicates_of(ids) == {ids[1]: ids[0], ids[2]: ids[1], ids[3]: ids[2]}


def test_batch_reads_and_writes_agree_with_one_at_a_time(uow: SqlAlchemyUnitOfWork) -> None:
    process(
        uow,
        post("1", LONG + " ayse.nur@ornek.test", handle="aysenur_y"),
        post("2", "Kuzey Telekom KT-40999999 siparişim gelmedi", handle="biri"),
        post("3", REPOST, source="eksisozluk", handle="gece kusu"),
        post("4", "Kuzey Telekom fatura", handle=""),
    )
    with uow:
        ids = [m.id for m in uow.mentions.with_status(MentionStatus.ROUTED, limit=10)]
        asked = [*ids, 999_999]  # one that does not exist
        assert uow.analyses.get_many(asked) == {i: a for i in asked if (a := uow.analyses.get(i)) is not None}
        candidates = uow.matches.candidates_of(asked)
        assert candidates == {i: uow.matches.candidates(i) for i in asked}
        assert sum(map(len, candidates.values())) >= 2  # the look-ups were not compared on nothing
        customer_ids = [c.customer_id for found in candidates.values() for c in found] + [999_999]
        assert uow.customers.get_many(customer_ids) == {
            c: found for c in customer_ids if (found := uow.customers.get(c)) is not None
        }
        assert uow.fingerprints.duplicates_of(asked) == {
            i: d for i in asked if (d := uow.fingerprints.duplicate_of(i)) is not None
        }
        cases = uow.tickets.cases_of(asked)
        assert cases == {i: c for i in asked if (c := uow.tickets.case_of(i)) is not None}
        assert len(cases) >= 3 and len(set(cases.values())) >= 2  # joined and opened cases both


def test_a_written_batch_of_fingerprints_is_what_one_at_a_time_writes(uow: SqlAlchemyUnitOfWork) -> None:
    """The fingerprints written in one go are found by the next look-up (bands and data both stored), and writing
    a mention's fingerprint again replaces it."""
    with uow:
        uow.mentions.add_many([post("1", LONG), post("2", "Kuzey Telekom modemim bozuldu, servis gelmedi")])
        uow.commit()
    since = NOW - timedelta(days=1)
    with uow:
        first, other = uow.mentions.with_status(MentionStatus.NEW, limit=10)
        batch = BatchDuplicates()
        assert batch.find(uow, first, since) is None and batch.find(uow, other, since) is None
        batch.write(uow)
        batch.write(uow)  # nothing left to write: nothing happens
        again = BatchDuplicates()
        assert again.find(uow, first, since) is None  # itself is no earlier mention
        again.write(uow)
        uow.commit()
    with uow:
        uow.mentions.add_many([post("3", REPOST, handle="gece kusu")])
        uow.commit()
    with uow:
        (repost,) = [m for m in uow.mentions.with_status(MentionStatus.NEW, limit=10) if m.raw.external_id == "3"]
        cold = BatchDuplicates()  # nothing held: the data must come from the store
        assert cold.find(uow, repost, since) == first.id


def test_the_alert_of_a_new_case_shows_what_the_store_holds(uow: SqlAlchemyUnitOfWork, slack: SlackServer) -> None:
    """Routing builds a new case's alert from what it has in hand; read back from the store, it is the same."""
    alerter = SlackAlerter(slack_client(SlackServer.DEFAULT_TOKEN, f"{slack.url}/api/"), "#care-alerts")
    posts = [
        post("1", LONG + " ayse.nur@ornek.test", handle="aysenur_y"),
        post("2", "Kuzey Telekom KT-40999999 siparişim gelmedi", handle="m", hours=2),
        post("3", "Kuzey Telekom modemim bozuldu, teknik servis gelmedi", handle="x1", hours=4),
    ]
    for hours, one in zip((0, 2, 4), posts, strict=True):  # hours apart: none folds into another's alert
        process(uow, one, slack=slack, at=NOW + timedelta(hours=hours))
        with uow:
            ticket = uow.tickets.listed()[-1]
            assert ticket.id is not None
            (alert,) = uow.deliveries.alerts_of(ticket.id)
            assert alert.payload == alerter.render(case_view(uow, ticket.id))
    with uow:
        assert sum(t.customer_id is not None for t in uow.tickets.listed()) == 2


def test_the_latest_alert_of_a_group_a_batch_keeps_is_the_one_the_store_would_answer(
    uow: SqlAlchemyUnitOfWork,
) -> None:
    def alert(
        key: str, minutes: float, group: str | None = "g", status: DeliveryStatus = DeliveryStatus.PENDING
    ) -> Delivery:
        return Delivery(key, "slack", "#care", {}, status=status, created_at=NOW + timedelta(minutes=minutes),
                        group_key=group)  # fmt: skip

    with uow:
        uow.deliveries.enqueue(alert("before", 0))
        uow.commit()
    with uow:
        recent = RecentAlerts()
        steps: list[tuple[float, Delivery | None]] = [
            (5, None),  # nothing that recent
            (-1, None),  # a wider window: the store's alert
            (-1, alert("later", 10)),  # queued by the batch: it is the latest now
            (5, None),
            (20, None),  # nothing that recent
            (-60, None),  # wider still
            (-60, alert("held", 30, group=None, status=DeliveryStatus.DEFERRED)),  # held back: in no group
            (-60, alert("other", 40, group="h")),  # another group
            (-60, alert("earlier", 1)),  # queued, but created before the latest
            (-60, alert("last", 50)),
            (45, None),
        ]
        answers = []
        for minutes, queued in steps:
            if queued is not None:
                assert uow.deliveries.enqueue(queued)
                recent.queued(queued)
            since = NOW + timedelta(minutes=minutes)
            held = recent.last_in_group(uow, "slack", "#care", "g", since)
            stored = uow.deliveries.last_in_group("slack", "#care", "g", since)
            answers.append(held.key if held is not None else None)
            assert answers[-1] == (stored.key if stored is not None else None), (minutes, queued)
        assert answers == [None, "before", "later", "later", None, "later", "later", "later", "later", "last", "last"]
