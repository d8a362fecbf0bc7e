"""Every source type through the real `kulak` command against its stand-in: dry run, store, re-crawl, doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from loopback import appstore, googleplay, trustpilot
from loopback.bluesky import BlueskyAppView, post_view
from loopback.eksisozluk import EksiSozlukSite, SampleEntry, SampleTopic
from loopback.mastodon import MastodonInstance, status
from loopback.news import NewsItem, NewsSite
from loopback.reddit import RedditApi
from loopback.server import LoopbackServer
from loopback.sikayetvar import SikayetvarSite
from loopback.x import XApi
from store import db
from store.sqlalchemy import SqlAlchemyUnitOfWork

KULAK = Path(sys.executable).with_name("kulak")
BRAND = "Kuzey Telekom"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SAYINGS = (
    "Kuzey Telekom faturama habersiz ek paket yansıttı, iade istiyorum.",
    "Kuzey Telekom fiber bağlantım üç gündür kopuyor; arıza kaydım kapatılmış görünüyor.",
    "Kuzey Telekom mağazasındaki çalışan çok ilgiliydi, sorunum hemen çözüldü. Teşekkürler!",
)
HEAD = """
[[brands]]
name = "Kuzey Telekom"
aliases = ["Kuzey Telekom", "KuzeyTel"]
handles = ["@kuzeytelekom"]
hashtags = ["#KuzeyTelekom"]

[store]
sqlite_path = "{db}"

[crawl]
contact_url = "https://example.org/kulak-e2e"
retries = 0
backoff = 0.1
max_wait = 5.0
"""
SOURCE = '\n[[sources]]\nname = "{name}"\ntype = "{kind}"\nbase_url = "$URL"\ndelay = [0.0, 0.0]\ntimeout = 10.0\n'


@dataclass
class Stand:
    """A stand-in (not started yet), the type's own keys (``$URL`` is its address), what it holds for the brand."""

    server: LoopbackServer
    keys: str
    expected: int
    env: dict[str, str] = field(default_factory=dict)


def at(n: int) -> datetime:
    return T0 + timedelta(hours=n)


def sikayetvar() -> Stand:
    site = SikayetvarSite()
    keys = 'slugs = { "Kuzey Telekom" = "kuzey-telekom" }\nlist_delay = [0.0, 0.0]\npage_delay = [0.0, 0.0]\n'
    expected = sum(c.brand_slug == "kuzey-telekom" for c in site.complaints)
    return Stand(site, keys + "backoff = [0.0, 0.1]\n", expected)


def eksisozluk() -> Stand:
    entries = [SampleEntry(171_200_001 + n, f"yazar_{n}", text, at(n)) for n, text in enumerate(SAYINGS)]
    other = SampleTopic(7001002, "mavi-kargo", "mavi kargo", [SampleEntry(171_300_001, "kargocu", "kayıp koli", T0)])
    site = EksiSozlukSite([SampleTopic(123456, "kuzey-telekom", "kuzey telekom", entries), other])
    keys = 'topics = { "Kuzey Telekom" = ["kuzey-telekom--123456"] }\nsearch = false\n'
    return Stand(site, keys, len(site.topics["kuzey-telekom--123456"].entries))


def trustpilot_site() -> Stand:
    reviews = [trustpilot.review_json(f"6741a00000000000000000{n:02d}", t, at(n)) for n, t in enumerate(SAYINGS)]
    other = [trustpilot.review_json("6741b0000000000000000001", "Mavi Kargo paketimi kaybetti.", T0)]
    site = trustpilot.TrustpilotSite({"kuzeytelekom.com.tr": reviews, "mavikargo.com.tr": other})
    keys = 'domains = { "Kuzey Telekom" = "kuzeytelekom.com.tr" }\nlanguages = ["tr"]\n'
    return Stand(site, keys, len(site.domains["kuzeytelekom.com.tr"]))


def x() -> Stand:
    api = XApi()  # the stand-in does not evaluate the query: every post it holds matches
    return Stand(api, 'max_results = 10\nlang = "tr"\n', len(api.tweets), {"KULAK_X_BEARER_TOKEN": api.token})


def reddit() -> Stand:
    api = RedditApi()  # every post matches, as on X
    env = {"KULAK_REDDIT_CLIENT_ID": api.client_id, "KULAK_REDDIT_SECRET": api.client_secret}
    return Stand(api, 'token_url = "$URL/api/v1/access_token"\ntime_filter = "week"\n', len(api.posts), env)


def appstore_feed() -> Stand:
    entries = [appstore.entry_json(11_800_000_001 + n, text, at(n)) for n, text in enumerate(SAYINGS)]
    feed = appstore.AppStoreFeed({("tr", "1500000001"): entries, ("tr", "1500000002"): entries[:1]})
    keys = 'apps = { "Kuzey Telekom" = ["1500000001"] }\ncountries = ["tr"]\n'
    return Stand(feed, keys, len(feed.reviews[("tr", "1500000001")]))


def googleplay_api() -> Stand:
    reviews = [googleplay.review_json(f"gp:AOqpTOE{n}", text, at(n)) for n, text in enumerate(SAYINGS)]
    api = googleplay.PlayDeveloperApi({"com.kuzeytelekom.online": reviews, "com.mavikargo": reviews[:1]})
    keys = 'packages = { "Kuzey Telekom" = ["com.kuzeytelekom.online"] }\n'
    return Stand(api, keys, len(api.reviews["com.kuzeytelekom.online"]), {"KULAK_GOOGLEPLAY_TOKEN": api.token})


def rss() -> Stand:
    def story(n: int, title: str) -> NewsItem:
        return NewsItem(title, f"https://haber.example.com.tr/{n}", f"haber-{n}", at(n), source="Ekonomi Gündem")

    site = NewsSite([story(1, "Kuzey Telekom'da fatura krizi"), story(2, "Mavi Kargo şubesinde uzun kuyruk")])
    site.add(story(3, "KuzeyTel müşteri hizmetlerine ulaşılamıyor"))
    site.publish("/rss/ekonomi.xml", [story(10 + n, text) for n, text in enumerate(SAYINGS)], title="Ekonomi")
    found = sum("kuzey" in (s.title or "").casefold() for s in site.search.items)  # what its search matches
    keys = 'feeds = { "Kuzey Telekom" = ["$URL/rss/ekonomi.xml"] }\ngoogle_news = true\n'
    return Stand(site, keys, found + len(site.feeds["/rss/ekonomi.xml"].items))


def mastodon() -> Stand:
    instance = MastodonInstance()
    instance.post("KuzeyTelekom", *(status(113_500_000_000_000_000 + n, text, at(n)) for n, text in enumerate(SAYINGS)))
    instance.post("mavikargo", status(113_500_000_000_000_100, "Mavi Kargo kuryesi gelmedi.", T0))
    keys = 'tags = { "Kuzey Telekom" = ["KuzeyTelekom"] }\n'
    return Stand(instance, keys, len(instance.timelines["kuzeytelekom"]))


def bluesky() -> Stand:
    posts = [post_view(f"3lbq2xk7a{n}", text, at(n)) for n, text in enumerate(SAYINGS)]
    appview = BlueskyAppView([*posts, post_view("3lbq2xk7zz", "Mavi Kargo paketim kayıp", T0)])
    matching = sum("kuzey telekom" in p["record"]["text"].casefold() for p in appview.posts)  # its word search
    return Stand(appview, 'lang = "tr"\n', matching)


SETUPS: dict[str, Callable[[], Stand]] = {
    "sikayetvar": sikayetvar,
    "eksisozluk": eksisozluk,
    "trustpilot": trustpilot_site,
    "x": x,
    "reddit": reddit,
    "appstore": appstore_feed,
    "googleplay": googleplay_api,
    "rss": rss,
    "mastodon": mastodon,
    "bluesky": bluesky,
}


def write_config(tmp_path: Path, stands: dict[str, Stand]) -> Path:
    """kulak.toml with the brand, a database in ``tmp_path`` and one source table per (started) stand-in."""
    text = HEAD.format(db=(tmp_path / "kulak.db").as_posix())
    for kind, stand in stands.items():
        text += (SOURCE.format(name=f"e2e-{kind}", kind=kind) + stand.keys).replace("$URL", stand.server.url)
    config = tmp_path / "kulak.toml"
    config.write_text(text, encoding="utf-8")
    return config


def kulak(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
    clean["COLUMNS"] = "300"  # doctor's table on one line per row
    return subprocess.run(
        [str(KULAK), "--config", str(config), *args],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env={**clean, **env},
        timeout=120,
        check=False,
    )


def stored(database: Path, source: str) -> tuple[int, bool]:
    """How many mentions the database holds, and whether it keeps a crawl state for ``source`` and the brand."""
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        with SqlAlchemyUnitOfWork(engine) as uow:
            return sum(uow.mentions.count_by_status().values()), uow.crawl_state.get(source, BRAND) is not None
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", list(SETUPS))
def test_the_cli_crawls_the_source_dry_then_stored_then_incrementally(tmp_path: Path, kind: str) -> None:
    stand, name, database = SETUPS[kind](), f"e2e-{kind}", tmp_path / "kulak.db"
    with stand.server:
        config = write_config(tmp_path, {kind: stand})
        dry = kulak(config, stand.env, "crawl", name, "--brand", BRAND, "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        rows = [json.loads(line) for line in dry.stdout.splitlines()]
        assert len(rows) == stand.expected > 0, dry.stderr
        assert len({r["external_id"] for r in rows}) == len(rows)
        for row in rows:
            assert (row["source"], row["brand"], row["payload"]["source_name"]) == (kind, BRAND, name)
            assert row["text"].strip() and row["external_id"]
            assert urlsplit(row["url"]).scheme in ("http", "https") and urlsplit(row["url"]).netloc, row["url"]
        assert f"{len(rows)} mentions collected (dry run, nothing stored)" in dry.stderr
        assert ", 0 parse failures" in dry.stderr
        assert stored(database, name) == (0, False)

        first = kulak(config, stand.env, "crawl", name)
        assert first.returncode == 0, first.stderr
        assert f"{stand.expected} mentions collected, {stand.expected} new stored" in first.stdout
        assert stored(database, name) == (stand.expected, True)

        again = kulak(config, stand.env, "crawl", name)
        assert again.returncode == 0, again.stderr
        assert "0 mentions collected, 0 new stored" in again.stdout, again.stdout
        assert stored(database, name) == (stand.expected, True)

    doctor = kulak(config, stand.env, "doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    (row,) = [line for line in doctor.stdout.splitlines() if f"source {name} " in line]
    assert " OK " in row and f"{BRAND}; last run" in row, row
    assert "0 new," in row and "0 failed, 0 parse failures" in row, row


def test_crawl_list_shows_all_ten_types_on(tmp_path: Path) -> None:
    stands = {kind: setup() for kind, setup in SETUPS.items()}
    with ExitStack() as started:
        for stand in stands.values():
            started.enter_context(stand.server)
        config = write_config(tmp_path, stands)
        secrets = {k: v for stand in stands.values() for k, v in stand.env.items()}
        listed = kulak(config, secrets, "crawl", "--list", "--json")
        urls = [stand.server.url for stand in stands.values()]
    assert listed.returncode == 0, listed.stderr
    info = json.loads(listed.stdout)
    assert set(info["types"]) == set(SETUPS)
    assert {s["name"]: (s["type"], s["state"], s["brands"]) for s in info["sources"]} == {
        f"e2e-{kind}": (kind, "on", [BRAND]) for kind in SETUPS
    }
    assert [s["base_url"] for s in info["sources"]] == urls
