"""The demo's stand-ins, each holding the fictional sample posts shipped in loopback/data, and their API secrets."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from loopback import appstore, bluesky, eksisozluk, googleplay, mastodon, news, reddit, x
from loopback.server import LoopbackServer
from loopback.sikayetvar import SikayetvarSite

# Where the demo's kulak.toml tells each API source to find its token (kulak.toml.in names the same variables).
X_TOKEN, GOOGLEPLAY_TOKEN = "KULAK_DEMO_X_TOKEN", "KULAK_DEMO_GOOGLEPLAY_TOKEN"
REDDIT_ID, REDDIT_SECRET = "KULAK_DEMO_REDDIT_CLIENT_ID", "KULAK_DEMO_REDDIT_SECRET"


@dataclass
class StandIns:
    """Running stand-ins by source name (as in kulak.toml.in), and the environment their API sources need."""

    servers: dict[str, LoopbackServer]
    secrets: dict[str, str]

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}


def build() -> StandIns:
    """Every stand-in loaded with its sample (not started yet)."""
    search, feeds = news.load_sample()
    site = news.NewsSite(search)
    for path, feed in feeds.items():
        site.publish(path, feed.items, title=feed.title)
    instance = mastodon.MastodonInstance()
    for tag, statuses in mastodon.load_sample().items():
        instance.post(tag, *statuses)
    tweets, users = x.load_sample()
    x_api = x.XApi(tweets, users)
    reddit_api = reddit.RedditApi(reddit.load_sample())
    play = googleplay.PlayDeveloperApi(googleplay.load_sample())
    servers: dict[str, LoopbackServer] = {
        "sikayetvar": SikayetvarSite(),
        "eksisozluk": eksisozluk.EksiSozlukSite(eksisozluk.load_sample()),
        "rss": site,
        "appstore": appstore.AppStoreFeed(appstore.load_sample()),
        "googleplay": play,
        "x": x_api,
        "reddit": reddit_api,
        "mastodon": instance,
        "bluesky": bluesky.BlueskyAppView(bluesky.load_sample()),
    }
    secrets = {
        X_TOKEN: x_api.token,
        GOOGLEPLAY_TOKEN: play.token,
        REDDIT_ID: reddit_api.client_id,
        REDDIT_SECRET: reddit_api.client_secret,
    }
    return StandIns(servers, secrets)


@contextmanager
def running(stand_ins: StandIns) -> Iterator[StandIns]:
    """Start every stand-in and stop them all on the way out, whatever happened in between."""
    with ExitStack() as stack:
        for server in stand_ins.servers.values():
            stack.enter_context(server)
        yield stand_ins
