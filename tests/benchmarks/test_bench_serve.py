"""From a post appearing on a source to its Slack alert, with `kulak serve` polling the source every 60 seconds.

20 posts appear on a local Mastodon at random moments over five minutes while a real `kulak serve` runs
(SQLite, default schedule settings but a 60 s source interval). The wait for the next poll is most of the
latency: its expected value with a 60 s interval (plus up to 10 % jitter) is the side-by-side baseline, and
the part Kulak adds (crawl start to alert) is reported apart.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime
from pathlib import Path

from loopback.mastodon import MastodonInstance
from loopback.slack import SlackServer
from tests.support.service import Publisher, alert_times, json_lines, start, stop, wait_for, write_config

POSTS = 20
SPREAD = 300.0  # seconds over which the posts appear
POLL = 60.0


def test_post_to_slack_alert_latency_with_a_60_second_poll(tmp_path: Path) -> None:
    rng = random.Random(7)
    offsets = sorted(rng.uniform(0, SPREAD) for _ in range(POSTS))
    with MastodonInstance() as instance, SlackServer() as slack:
        publisher = Publisher(instance)
        config = write_config(
            tmp_path / "kulak.toml", instance.url, slack.url, database=str(tmp_path / "kulak.db"), interval="60s"
        )
        log = tmp_path / "serve.log"
        service = start(config, tmp_path, log=log)
        try:
            wait_for(lambda: "serving as worker" in log.read_text(encoding="utf-8"), 60, "the service starting")
            began = time.time()
            for offset in offsets:
                time.sleep(max(0.0, began + offset - time.time()))
                publisher.publish(1)
            wait_for(lambda: len(alert_times(slack)) == POSTS, POLL * 2 + 30, "every alert", interval=0.2)
            stop(service)
        finally:
            if service.poll() is None:
                service.kill()
        alerted = alert_times(slack)
    latencies = sorted(alerted[sid] - at for sid, at in publisher.published.items())
    crawl_starts = sorted(
        datetime.fromisoformat(line["at"]).timestamp() - line.get("seconds", 0.0)
        for line in json_lines(log.read_text(encoding="utf-8"))
        if str(line.get("job", "")).startswith("crawl:") and line.get("counts", {}).get("new")
    )
    own = []  # crawl start (of the crawl that found the post) to alert: the part Kulak adds to the poll's wait
    for sid, at in publisher.published.items():
        start_of = max((c for c in crawl_starts if c <= alerted[sid]), default=at)
        own.append(alerted[sid] - max(start_of, at))
    baseline = POLL * (1 + 0.1 / 2) / 2  # expected wait for the next poll: half an interval with mean jitter
    median = statistics.median(latencies)
    print(
        f"\npost -> Slack alert over {POSTS} posts, 60 s poll: median {median:.1f} s, worst {latencies[-1]:.1f} s,"
        f" best {latencies[0]:.1f} s; the poll's expected wait alone {baseline:.1f} s (ratio {median / baseline:.2f});"
        f" crawl start -> alert median {statistics.median(own):.2f} s, worst {max(own):.2f} s"
    )
    assert len(latencies) == POSTS
    assert latencies[-1] <= POLL * 1.1 + 30  # one poll interval (with jitter) and the stages, never two polls
