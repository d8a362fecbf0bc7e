"""Kill `kulak run --once` with SIGKILL at random points of its cycle, restart it, and check what it left behind."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy import text

from loopback.mastodon import MastodonInstance, status
from loopback.sikayetvar import SikayetvarSite, load_sample
from loopback.slack import SlackServer
from store import db
from store.model import DeliveryStatus, MentionStatus
from store.sqlalchemy import SqlAlchemyUnitOfWork

KULAK = Path(sys.executable).with_name("kulak")
CONFIG = """
[[brands]]
name = "Kuzey Telekom"
aliases = ["Kuzey Telekom"]
hashtags = ["#KuzeyTelekom"]

[[brands]]
name = "Mavi Kargo"

[[brands]]
name = "Deniz GSM"
competitor = true

[store]
sqlite_path = "{db}"

[crawl]
contact_url = "https://example.org/kulak-chaos"
retries = 0
backoff = 0.1

[[sources]]
name = "sikayetvar"
type = "sikayetvar"
base_url = "{site}"
delay = [0.0, 0.0]
list_delay = [0.0, 0.0]
page_delay = [0.0, 0.05]
backoff = [0.0, 0.1]

[[sources]]
name = "mastodon"
type = "mastodon"
base_url = "{instance}"
delay = [0.0, 0.0]
tags = {{ "Kuzey Telekom" = ["KuzeyTelekom"] }}

[slack]
channel = "#care-alerts"
base_url = "{slack}/api/"
"""
# Made-up complaints; the number in each keeps them apart, the template brings back near-duplicates now and then.
COMPLAINTS = (
    "Kuzey Telekom faturama {n} TL ek paket yansıttı, iade istiyorum.",
    "Kuzey Telekom fiber hattım {n} saattir kesik, arıza kaydı açılmıyor.",
    "Kuzey Telekom müşteri hizmetlerinde {n} dakika bekledim, kimse açmadı.",
    "Kuzey Telekom taahhüt bitti dediği halde {n} TL cayma bedeli istiyor.",
    "Kuzey Telekom mağazası numara taşıma için {n}. kez belge istedi, rezalet.",
    "Kuzey Telekom modem kargosu {n} gündür gelmedi, ulaşan yok.",
)
KILLED = -signal.SIGKILL
CALIBRATE = 4  # every fourth run is not killed
JOB = re.compile(r"\[job=([^\]\s]+)")
JOB_DONE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} .* job (.+?) ok in ")


@dataclass
class ChaosReport:
    """What happened over the runs: kills by the job each landed in, runs that ended on their own, orphans."""

    kills: Counter[str] = field(default_factory=Counter)
    finished: int = 0
    published: int = 0
    orphan_seconds: list[float] = field(default_factory=list)
    reported_analyzed: int = 0

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())


class ChaosRig:
    """Local Şikayetvar, Mastodon and Slack, a config and a database in ``workdir``; new posts every round."""

    def __init__(self, workdir: Path, rng: random.Random, *, per_round: int = 6, in_turn: bool = False) -> None:
        self.workdir = workdir
        self.rng = rng
        self.per_round = per_round
        self.site = SikayetvarSite(load_sample())
        self.instance = MastodonInstance()
        self.slack = SlackServer()
        # Slack takes each message, then is slow to say so: a kill in the delivery pass lands in that gap, where
        # only the outbox's look-up on restart keeps the message from being posted twice
        self.slack.answer_delay = 0.15
        self.in_turn = in_turn  # kill in each job in turn (a short test still reaches every stage), else at random
        self._turn = 0
        self.database = workdir / "kulak.db"
        self.config = workdir / "kulak.toml"
        self.report = ChaosReport()
        self._next_id = 113_600_000_000_000_000
        self._estimate = 6.0  # seconds a run takes; learnt from the runs that finish
        self._windows: list[tuple[float, float]] = []  # when each job of the last finished run began and ended

    def __enter__(self) -> Self:
        self.site.start()
        self.instance.start()
        self.slack.start()
        text = CONFIG.format(db=self.database, site=self.site.url, instance=self.instance.url, slack=self.slack.url)
        self.config.write_text(text, encoding="utf-8")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for server in (self.site, self.instance, self.slack):
            server.stop()

    def publish(self) -> None:
        now = datetime.now(UTC) - timedelta(minutes=1)
        posts = []
        for _ in range(self.per_round):
            self._next_id += 1
            n = self.report.published
            text = COMPLAINTS[n % len(COMPLAINTS)].format(n=self.rng.randint(2, 999))
            posts.append(status(self._next_id, text, now, acct=f"musteri{n}", display_name=f"Müşteri {n}"))
            self.report.published += 1
        self.instance.post("KuzeyTelekom", *posts)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KULAK_")}
        env.update(KULAK_SLACK_TOKEN=SlackServer.DEFAULT_TOKEN, KULAK_IDENTITY_KEY="chaos-tests-identity-key-01")
        return env

    def round(self, index: int) -> None:
        """Publish new posts, start a run, kill it at a random point of its cycle unless it ends first.

        Every CALIBRATE-th run is let finish: its log says when each job of a run ends on this machine now, and
        the kills that follow pick a job at random, then a moment inside it, so the kills spread over the
        stages rather than land mostly in start-up and crawling, which take most of a run's time. It also
        crawls, as a service does each interval, before the posts waiting outnumber what one crawl reads."""
        self.publish()
        err = self.workdir / f"run-{index}.err"
        with err.open("w", encoding="utf-8") as stderr:
            launched = time.time()
            run = subprocess.Popen(
                [str(KULAK), "--config", str(self.config), "run", "--once", "--force"],
                env=self.env(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,  # its crawler children share the group: found after the kill
            )
            try:
                out, _ = run.communicate(timeout=None if index % CALIBRATE == CALIBRATE - 1 else self._moment())
            except subprocess.TimeoutExpired:
                run.send_signal(signal.SIGKILL)
                out, _ = run.communicate(timeout=30)
        lines = err.read_text(encoding="utf-8").splitlines()
        if run.returncode == KILLED:
            jobs = [m.group(1) for line in lines for m in [JOB.search(line)] if m]
            self.report.kills[jobs[-1] if jobs else "start"] += 1
            self._wait_for_orphans(run.pid)
        else:
            assert run.returncode == 0, "\n".join(lines[-20:])
            self.report.finished += 1
            self._learn(lines, launched)
        self.report.reported_analyzed += _reported(lines, "stage:analyze", "analyzed")
        del out

    def _moment(self) -> float:
        """Seconds after its start to kill a run: inside a job picked at random from the last finished run."""
        if not self._windows:
            return self.rng.uniform(0.2, self._estimate)
        if self.in_turn:  # from the last job back: delivery first, start-up (plain Python) last
            self._turn += 1
            begin, end = self._windows[-1 - (self._turn - 1) % len(self._windows)]
        else:
            begin, end = self.rng.choice(self._windows)
        return self.rng.uniform(begin, end)

    def _learn(self, lines: list[str], launched: float) -> None:
        """The (start, end) seconds of each job of a finished run, from its log's "job … ok" lines."""
        ends: list[float] = []
        crawled = False
        for line in lines:
            done = JOB_DONE.search(line)
            if done:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").astimezone()
                if crawled and done.group(1).startswith("crawl:"):
                    ends.pop()  # the crawls count as one job: they would outnumber the stages
                crawled = done.group(1).startswith("crawl:")
                ends.append(max(0.05, stamp.timestamp() - launched))
        if ends:
            edges = [0.0, *ends]
            self._windows = [(lo, max(hi, lo + 0.05)) for lo, hi in itertools.pairwise(edges)]
            self._estimate = ends[-1]

    def _wait_for_orphans(self, group: int) -> None:
        """How long children of the killed run (Scrapy crawls) outlive it."""
        killed = time.monotonic()
        while time.monotonic() - killed < 60:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.killpg(group, signal.SIGKILL)
        self.report.orphan_seconds.append(time.monotonic() - killed)

    def finish(self) -> dict[str, int]:
        """Runs without a kill until one finds nothing left to do; its summary."""
        for _ in range(3):
            done = subprocess.run(
                [str(KULAK), "--config", str(self.config), "run", "--once", "--force"],
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stderr[-3000:]
            self.report.reported_analyzed += _reported(done.stderr.splitlines(), "stage:analyze", "analyzed")
            summary: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
            if summary["mentions_new"] == summary["analyzed"] == summary["alerts_sent"] == 0:
                return summary
        raise AssertionError(f"work still left after three clean runs: {summary}")

    def problems(self) -> list[str]:
        """Everything that breaks "stored once, analysed once, alerted once, nothing left behind"."""
        found = []
        expected = len(self.site.complaints) + self.report.published
        engine = db.make_engine(f"sqlite:///{self.database}")
        try:
            with SqlAlchemyUnitOfWork(engine) as uow:
                statuses = uow.mentions.count_by_status()
                deliveries = uow.deliveries.count_by_status()
                analysed = uow.session.execute(text("SELECT count(*), count(DISTINCT mention_id) FROM analyses"))
                rows, distinct = analysed.one()
                slack = uow.session.execute(text("SELECT key, payload FROM deliveries WHERE channel = 'slack'"))
                # a chat.update changes a message already posted; the rest each post one
                sent = {key for key, payload in slack if _json(payload).get("op", "post") != "update"}
        finally:
            engine.dispose()
        if statuses != {MentionStatus.ROUTED.value: expected}:
            found.append(f"mentions by status {statuses}, expected {expected} routed")
        if (rows, distinct) != (expected, expected):
            found.append(f"{rows} analyses for {distinct} mentions, expected one each for {expected}")
        if self.report.reported_analyzed > expected:
            found.append(f"runs reported {self.report.reported_analyzed} analyses of {expected} mentions")
        if set(deliveries) != {DeliveryStatus.SENT.value}:
            found.append(f"deliveries by status {deliveries}")
        keys = Counter(m.args["metadata"]["event_payload"]["key"] for m in self.slack.posted())
        twice = [k for k, n in keys.items() if n > 1]
        if twice:
            found.append(f"{len(twice)} Slack messages posted more than once, e.g. {twice[:3]}")
        if sent - set(keys):
            found.append(f"{len(sent - set(keys))} deliveries marked sent that Slack never got")
        if set(keys) - sent:
            found.append(f"{len(set(keys) - sent)} Slack messages without a delivery")
        return found


def _json(value: object) -> dict[str, object]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return loaded if isinstance(loaded, dict) else {}


def _reported(lines: list[str], job: str, counter: str) -> int:
    """What a run's log says ``job`` did: the ``counter`` of its "job … ok" line, 0 if it never got there."""
    pattern = re.compile(rf"job {re.escape(job)} ok in [\d.]+s: .*'{counter}': (\d+)")
    return sum(int(m.group(1)) for line in lines for m in [pattern.search(line)] if m)
