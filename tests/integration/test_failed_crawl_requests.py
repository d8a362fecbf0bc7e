"""A crawl that fails still records the requests it sent, so a source failing with retries shows what it cost."""

from __future__ import annotations

from sqlalchemy import Engine

from crawlers.base import SourceConfig
from crawlers.job import crawl_all
from crawlers.mastodon import MastodonSource
from crawlers.rss import RssSource
from loopback.mastodon import MastodonInstance
from loopback.news import NewsSite
from loopback.server import Reply
from store.model import Brand
from store.sqlalchemy import SqlAlchemyUnitOfWork

KUZEY = Brand("Kuzey Telekom", aliases=("Kuzey Telekom",))


def config(name: str, url: str, retries: int) -> SourceConfig:
    return SourceConfig(name=name, base_url=url, timeout=2.0, retries=retries, backoff=0.01, max_wait=1.0)


def test_a_feed_answering_404_records_its_request(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with NewsSite() as site:  # serves no feed at this path
        options = RssSource.Options(feeds={KUZEY.name: (f"{site.url}/feeds/gone.xml",)}, google_news=False)
        report = crawl_all(uow, [RssSource(config("news", site.url, 0), options)], [KUZEY])
        sent = len(site.received())
    (run,) = report.runs
    assert not run.ok and sent == 1
    assert run.requests == sent
    with uow:
        assert uow.source_runs.recent("news")[0].requests == sent


def test_a_timeline_failing_after_retries_records_every_try(engine: Engine) -> None:
    uow = SqlAlchemyUnitOfWork(engine)
    with MastodonInstance() as instance:
        instance.inject(Reply.json({"error": "busy"}, status=503), times=10)
        report = crawl_all(uow, [MastodonSource(config("fediverse", instance.url, 2))], [KUZEY])
        sent = len(instance.received())
    (run,) = report.runs
    assert not run.ok and sent == 3  # the first try and two retries
    assert run.requests == sent
