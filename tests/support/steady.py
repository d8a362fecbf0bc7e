"""The steady-state world: 20 brands on 10 API/feed stand-ins, a publisher feeding them, and /proc sampling."""

from __future__ import annotations

import contextlib
import os
import random
import statistics
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from loopback.appstore import AppStoreFeed, entry_json
from loopback.bluesky import BlueskyAppView, post_view
from loopback.mastodon import MastodonInstance, status
from loopback.news import NewsItem, NewsSite
from loopback.server import LoopbackServer

# Made-up brands: five fictional names crossed with four trades, no word shared with the complaints below.
BRANDS = tuple(
    f"{a} {b}" for a in ("Kuzey", "Mavi", "Deniz", "Yıldız", "Pazar") for b in ("Telekom", "Kargo", "Bank", "Enerji")
)
PROBLEMS = (
    "faturama habersiz ek ücret yansıdı, iade istiyorum",
    "üç gündür hizmet alamıyorum, kaydım kapatılmış",
    "randevu verildi ama kimse gelmedi, berbat bir deneyim",
    "başvurum bir haftadır sonuçlanmadı",
    "iptal talebime rağmen bu ay yine ödeme alındı",
    "çağrı merkezine ulaşmak için kırk dakika bekledim",
    "uygulamaya giriş yaparken sürekli hata alıyorum",
    "otomatik ödeme talimatım iki kez çekim yaptı",
    "şikayetim çözülmeden kapatıldı, çok kötü",
    "söz verilen geri arama hiç yapılmadı",
)
KINDS = ("mastodon", "bluesky", "news", "feeds", "appstore")  # two stand-ins (two sources) of each


def slug(brand: str) -> str:
    """The brand's hashtag as Kulak derives it (Mastodon tag timelines)."""
    return "".join(brand.split()).casefold()


def feed_path(brand: str) -> str:
    """Where a news site serves the brand's feed (ASCII: the stand-in compares paths as sent, percent-encoded)."""
    return f"/feeds/{slug(brand).translate(str.maketrans('ıçğöşü', 'icgosu'))}.xml"


@dataclass
class Fleet:
    """The source stand-ins by source name, each watching every brand: 10 sources x 20 brands = 200 pairs."""

    servers: dict[str, LoopbackServer] = field(default_factory=dict)
    _stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Fleet:
        for kind in KINDS:
            for letter in "ab":
                server: LoopbackServer
                if kind == "mastodon":
                    server = MastodonInstance()
                elif kind == "bluesky":
                    server = BlueskyAppView()
                elif kind == "appstore":
                    server = AppStoreFeed({})
                else:
                    server = NewsSite()
                self.servers[f"{kind}-{letter}"] = self._stack.enter_context(server)
        for name, server in self.servers.items():
            if name.startswith("feeds") and isinstance(server, NewsSite):
                for brand in BRANDS:  # every brand's feed exists (empty) from the start, as a real site's would
                    server.publish(feed_path(brand), [])
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def requests(self) -> int:
        return sum(len(server.received()) for server in self.servers.values())

    def sources_toml(self, interval: str) -> str:
        common = f'delay = [0.0, 0.0]\ntimeout = 5.0\ninterval = "{interval}"\n'
        out = []
        for name, server in self.servers.items():
            kind = name.split("-")[0]
            extra = ""
            if kind == "feeds":
                feeds = ", ".join(f'"{b}" = ["{server.url}{feed_path(b)}"]' for b in BRANDS)
                extra = f"google_news = false\nfeeds = {{ {feeds} }}\n"
            elif kind == "appstore":
                extra = "apps = { " + ", ".join(f'"{b}" = ["{app_id(b)}"]' for b in BRANDS) + " }\n"
            kind = {"news": "rss", "feeds": "rss"}.get(kind, kind)
            out.append(f'[[sources]]\nname = "{name}"\ntype = "{kind}"\nbase_url = "{server.url}"\n{common}{extra}')
        return "\n".join(out)


def app_id(brand: str) -> str:
    return str(1_400_000_000 + BRANDS.index(brand))


class Publisher:
    """Adds one new complaint at a time to a random source+brand pair, each from its own author."""

    def __init__(self, fleet: Fleet, seed: int = 9) -> None:
        self.fleet = fleet
        self.rng = random.Random(seed)
        self.published: list[tuple[str, str]] = []  # (source, brand)
        self._ids = count(1)

    def publish(self) -> None:
        name = self.rng.choice(sorted(self.fleet.servers))
        brand = self.rng.choice(BRANDS)
        server = self.fleet.servers[name]
        n = next(self._ids)
        text = f"{brand} {PROBLEMS[n % len(PROBLEMS)]} (no {n})"
        author = f"musteri{n:05d}"
        now = datetime.now(UTC)
        if isinstance(server, MastodonInstance):
            server.post(slug(brand), status(115_000_000_000_000_000 + n, text, now, acct=author))
        elif isinstance(server, BlueskyAppView):
            server.add(post_view(f"3steady{n:06d}", text, now, handle=f"{author}.bsky.social"))
        elif isinstance(server, AppStoreFeed):
            server.add("tr", app_id(brand), entry_json(1_000_000 + n, text, now, title=brand, author=author))
        elif isinstance(server, NewsSite):
            link = f"https://haber.example.org/{author}"
            item = NewsItem(text, link, link, now, description=text, source="Yerel Haber")
            if name.startswith("news"):
                server.add(item)
            else:
                path = feed_path(brand)
                server.publish(path, [*server.feeds[path].items, item])
        self.published.append((name, brand))

    def run(self, per_minute: float, seconds: float, stop: threading.Event) -> None:
        """Publish at random moments (a Poisson stream of ``per_minute``) for ``seconds`` or until ``stop``."""
        end = time.monotonic() + seconds
        while not stop.is_set():
            wait = self.rng.expovariate(per_minute / 60)
            if time.monotonic() + wait > end:  # no post before the end: the run still lasts until then
                stop.wait(max(0.0, end - time.monotonic()))
                return
            if stop.wait(wait):
                return
            self.publish()


TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since sampling began
    cpu: float  # CPU seconds (user+sys) of the process, its reaped children and its live children
    rss_mb: float  # the process and its live children
    fds: int
    threads: int
    children: int  # live child processes (Scrapy spiders run in children; zombies count too)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text() if (task / "children").exists() else ""
        found += [int(c) for c in text.split()]
    return found + [g for c in found for g in _children(c)]


def sample(pid: int, began: float) -> Sample:
    """One reading of /proc for ``pid`` and its descendants (Scrapy children, when a Scrapy source runs)."""
    cpu, rss = 0.0, 0.0
    children = _children(pid)
    for i, p in enumerate([pid, *children]):
        try:
            stat = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            status_text = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:  # a child that ended between the listing and the reading
            continue
        ticks = int(stat[11]) + int(stat[12]) + (int(stat[13]) + int(stat[14]) if i == 0 else 0)
        cpu += ticks / TICK
        rss += sum(int(line.split()[1]) for line in status_text.splitlines() if line.startswith("VmRSS:")) / 1024
    status_text = Path(f"/proc/{pid}/status").read_text()
    threads = next(int(line.split()[1]) for line in status_text.splitlines() if line.startswith("Threads:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return Sample(time.monotonic() - began, cpu, rss, fds, threads, len(children))


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per hour."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 3600


class Sampler:
    """Reads /proc of each watched process every ``every`` seconds in a thread, until stopped."""

    def __init__(self, pids: dict[str, int], every: float) -> None:
        self.pids = pids
        self.every = every
        self.began = time.monotonic()
        self.samples: dict[str, list[Sample]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def start(self) -> Sampler:
        self.began = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                with contextlib.suppress(FileNotFoundError):  # the process is gone: the test will say so
                    self.samples[name].append(sample(pid, self.began))
            if self._stop.wait(self.every):
                return
