"""A hand-made digest to render: one busy brand full of hostile strings, and one brand with nothing at all."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from responders.digest_model import BrandDigest, Count, Digest, Durations, HeldAlert, Period, Share, UrgentCase

ZONE = ZoneInfo("Europe/Istanbul")
START = datetime(2026, 11, 16, tzinfo=ZONE)
PING = "<!channel>"
SCRIPT = "<script>alert('kulak')</script>"
# Summaries and labels as they might come from outside: pings, markup, ampersands, Turkish letters, odd URLs.
HOSTILE_SUMMARY = f"{PING} İnternet çöktü & fatura şişti {SCRIPT} ğüşıöç ĞÜŞİÖÇ"
SAFE_URL = "https://www.sikayetvar.com/kuzey-telekom/internet-cokti?a=1&b=2|x>y"
BAD_URL = "javascript:alert(1)"
TOPIC = "<b>fatura</b> & $x$ zamları"
AGENT = "<!here>"
BRAND = "Kuzey Telekom"
EMPTY_BRAND = "Mavi Kargo"
VOLUME_NOW, VOLUME_BEFORE = 1234, 1100  # +12 %: "1.234 (+12 %)" / "1,234 (+12%)"


def _week(start: datetime) -> Period:
    year, week, _ = start.isocalendar()
    return Period("week", start, start + timedelta(days=7), f"{year}-W{week:02d}")


def busy_brand() -> BrandDigest:
    opened = START + timedelta(days=2, hours=3)
    return BrandDigest(
        brand=BRAND,
        volume=Count("mentions", VOLUME_NOW, VOLUME_BEFORE),
        by_source=(Count("sikayetvar", 800, 700), Count("x", 400, 380), Count(f"forum {PING}", 34, 20)),
        sentiment=(Count("positive", 234, 300), Count("neutral", 400, 400), Count("negative", 600, 400)),
        net_sentiment=Share("net", (234 - 600) / 1234, (300 - 400) / 1100, 1234, 1100),
        topics=(Count("network", 420, 300), Count(TOPIC, 210, 200), Count("billing", 90, 120)),
        rising=(Count("network", 420, 300), Count("kargo_gecikmesi", 12, 0)),
        intents=(Count("complaint", 700, 600), Count("question", 300, 320), Count("praise", 60, 50)),
        share_of_voice=(Share(BRAND, 0.55, 0.5, 1234, 1100), Share(f"Deniz GSM {SCRIPT}", 0.45, 0.5, 1010, 1100)),
        first_response=Durations(140, 2 * 3600 + 15 * 60, 9 * 3600),
        first_response_before=Durations(120, 3 * 3600, 11 * 3600 + 30 * 60),
        resolution=Durations(90, 26 * 3600, 4 * 86400),
        resolution_before=Durations(80, 30 * 3600, 5 * 86400),
        cases_opened=Count("opened", 150, 130),
        cases_resolved=Count("resolved", 92, 85),
        sla_breaches=Count("breached", 7, 12),
        open_by_age=(Count("<1d", 20, 18), Count("1-3d", 9, 11), Count("3-7d", 4, 2), Count(">7d", 1, 0)),
        sikayetvar_resolved=Share("resolved", 0.6, 0.5, 40, 30),
        urgent=(
            UrgentCase(41, "urgent", "new", HOSTILE_SUMMARY, SAFE_URL, "sikayetvar", opened, opened, "", True),
            UrgentCase(42, "high", "assigned", "Hat kesik & <@U0BOSS>", BAD_URL, "x", opened, None, "U0AYSE", False),
        ),
        agents=(Count("U0AYSE", 40, 35), Count(AGENT, 12, 0)),
        held=(HeldAlert(43, "normal", f"Gece gelen şikâyet {PING}", START + timedelta(days=3, hours=2)),),
        timeline=tuple(
            ((START + timedelta(days=i)).strftime("%m-%d"), n)
            for i, n in enumerate((150, 170, 210, 190, 160, 180, 174))
        ),
    )


def empty_brand() -> BrandDigest:
    nothing = Durations(0, None, None)
    return BrandDigest(
        brand=EMPTY_BRAND,
        volume=Count("mentions", 0, 0),
        by_source=(),
        sentiment=(Count("positive", 0, 0), Count("neutral", 0, 0), Count("negative", 0, 0)),
        net_sentiment=Share("net", None, None),
        topics=(),
        rising=(),
        intents=(),
        share_of_voice=(Share(EMPTY_BRAND, None, None),),
        first_response=nothing,
        first_response_before=nothing,
        resolution=nothing,
        resolution_before=nothing,
        cases_opened=Count("opened", 0, 0),
        cases_resolved=Count("resolved", 0, 0),
        sla_breaches=Count("breached", 0, 0),
        open_by_age=(Count("<1d", 0, 0), Count("1-3d", 0, 0), Count("3-7d", 0, 0), Count(">7d", 0, 0)),
        sikayetvar_resolved=None,
        urgent=(),
        agents=(),
        held=(),
        timeline=tuple(((START + timedelta(days=i)).strftime("%m-%d"), 0) for i in range(7)),
    )


def sample_digest(language: str = "tr") -> Digest:
    period = _week(START)
    return Digest(
        period=period,
        previous=_week(START - timedelta(days=7)),
        language=language,
        timezone="Europe/Istanbul",
        generated_at=datetime(2026, 11, 23, 8, 45, tzinfo=ZONE),
        brands=(busy_brand(), empty_brand()),
    )
