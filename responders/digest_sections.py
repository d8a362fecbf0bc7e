"""A brand's digest as labelled tables of formatted figures: what Slack, HTML and plain text each lay out."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from responders.digest_model import BrandDigest, Count, Digest, Durations, Share
from responders.digest_text import DASH, DigestText
from responders.slack_text import plain


@dataclass(frozen=True)
class Table:
    """One block of figures: a title, column heads and rows of text (unescaped: each renderer escapes its way)."""

    key: str  # by_source, sentiment, ... (stable: tests and CSS hook on it)
    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    links: tuple[str | None, ...] = field(default=())  # per row: the http(s) URL its first cell links to


def web_url(url: str) -> str | None:
    """``url`` when it is an http(s) address with a host; anything else (``javascript:``, garbage) is no link."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None


def key_figures(brand: BrandDigest, t: DigestText) -> list[tuple[str, str]]:
    """The figures a manager reads first, as (label, value)."""
    figures = [
        (t.label("mentions"), t.count(brand.volume)),
        (t.label("net_sentiment"), t.share(brand.net_sentiment, signed=True)),
        (t.label("cases_opened"), t.count(brand.cases_opened)),
        (t.label("cases_resolved"), t.count(brand.cases_resolved)),
        (t.label("sla_breaches"), t.count(brand.sla_breaches)),
        (t.label("first_response_median"), t.duration(brand.first_response.median)),
        (t.label("resolution_median"), t.duration(brand.resolution.median)),
    ]
    if brand.sikayetvar_resolved is not None:
        figures.append((t.label("sikayetvar_resolved"), t.share(brand.sikayetvar_resolved)))
    return figures


def brand_tables(brand: BrandDigest, t: DigestText) -> list[Table]:
    """Every figure of ``brand``, table by table, in the order the digest shows them."""
    when = (t.label("now"), t.label("before"))

    def counted(key: str, column: str, counts: tuple[Count, ...]) -> Table:
        rows = tuple((t.term(c.label), t.count(c), t.number(c.before)) for c in counts)
        return Table(key, t.label(key), (t.label(column), *when), rows)

    total_now, total_before = brand.volume.now, brand.volume.before
    mix = tuple(
        (
            t.term(c.label),
            f"{t.count(c)} · {t.percent(c.now / total_now if total_now else None)}",
            f"{t.number(c.before)} · {t.percent(c.before / total_before if total_before else None)}",
        )
        for c in brand.sentiment
    )
    net = brand.net_sentiment
    mix += ((t.label("net_sentiment"), t.percent(net.now, signed=True), t.percent(net.before, signed=True)),)
    voices = tuple(
        (
            s.label,
            f"{t.percent(s.now)} · {t.number(s.count_now)}",
            f"{t.percent(s.before)} · {t.number(s.count_before)}",
        )
        for s in brand.share_of_voice
    )
    ages = tuple((t.term(c.label), t.count(c), t.number(c.before)) for c in brand.open_by_age)
    urgent = tuple(
        (
            f"#{u.ticket_id} · {t.term(u.source)}",
            f"{t.term(u.priority)} · {t.term(u.status)}" + (f" · {t.label('overdue')}" if u.overdue else ""),
            t.moment(u.respond_by),
            u.assignee or t.label("unassigned"),
            u.summary,
        )
        for u in brand.urgent
    )
    held = tuple((f"#{h.ticket_id}", t.term(h.priority), t.moment(h.held_at), h.summary) for h in brand.held)
    return [
        counted("by_source", "source", brand.by_source),
        Table("sentiment", t.label("sentiment"), (t.label("feeling"), *when), mix),
        counted("topics", "topic", brand.topics),
        counted("rising", "topic", brand.rising),
        counted("intents", "intent", brand.intents),
        Table("share_of_voice", t.label("share_of_voice"), (t.label("brand"), *when), voices),
        Table("care", t.label("care"), (t.label("measure"), *when), care_rows(brand, t)),
        Table(
            "open_by_age", t.label("open_by_age"), (t.label("age"), t.label("at_end"), t.label("at_end_before")), ages
        ),
        Table(
            "urgent",
            t.label("urgent"),
            tuple(t.label(k) for k in ("case", "priority", "respond_by", "assignee", "summary")),
            urgent,
            tuple(web_url(u.url) for u in brand.urgent),
        ),
        counted("agents", "agent", brand.agents),
        Table("held", t.label("held"), tuple(t.label(k) for k in ("case", "priority", "held_at", "summary")), held),
    ]


def care_rows(brand: BrandDigest, t: DigestText) -> tuple[tuple[str, ...], ...]:
    def timed(name: str, now: Durations, before: Durations) -> list[tuple[str, ...]]:
        return [
            (t.label(f"{name}_median"), t.duration(now.median), t.duration(before.median)),
            (t.label(f"{name}_p90"), t.duration(now.p90), t.duration(before.p90)),
            (t.label(f"{name}_count"), t.count(Count(name, now.count, before.count)), t.number(before.count)),
        ]

    rows = timed("first_response", brand.first_response, brand.first_response_before)
    rows += timed("resolution", brand.resolution, brand.resolution_before)
    for key, count in (
        ("cases_opened", brand.cases_opened),
        ("cases_resolved", brand.cases_resolved),
        ("sla_breaches", brand.sla_breaches),
    ):
        rows.append((t.label(key), t.count(count), t.number(count.before)))
    solved = brand.sikayetvar_resolved
    if solved is not None:
        rows.append((t.label("sikayetvar_resolved"), resolved_rate(solved, t), resolved_rate(solved, t, before=True)))
    return tuple(rows)


def resolved_rate(share: Share, t: DigestText, *, before: bool = False) -> str:
    """ "60 % · 12 şikâyet": the rate and how many complaints it is out of."""
    rate, whole = (share.before, share.count_before) if before else (share.now, share.count_now)
    return f"{t.percent(rate)} · {t.number(whole)} {t.label('complaints')}"


def plain_report(digest: Digest) -> str:
    """The whole digest as plain text (the e-mail's text part; the console when Slack is off)."""
    t = DigestText(digest.language, digest.timezone)
    return "\n\n".join(plain_brand(digest, i, t) for i in range(len(digest.brands))) + "\n"


def plain_brand(digest: Digest, index: int, t: DigestText | None = None) -> str:
    t = t or DigestText(digest.language, digest.timezone)
    brand = digest.brands[index]
    title = f"{t.title(digest.period)} · {brand.brand}"
    lines = [title, "=" * len(title), f"{t.label('compared')}: {t.span(digest.previous)}", ""]
    lines += [f"{label}: {value}" for label, value in key_figures(brand, t)]
    for table in brand_tables(brand, t):
        lines += ["", table.title, "-" * len(table.title)]
        if not table.rows:
            lines.append(f"  {t.label('no_data')}")
        for row, url in zip(table.rows, table.links or (None,) * len(table.rows), strict=True):
            cells = [f"{row[0]}: {row[1]}", *(f"{h}: {c}" for h, c in zip(table.head[2:], row[2:], strict=True))]
            lines.append("  " + " · ".join(" ".join(c.split()) or DASH for c in cells))
            if url:
                lines.append(f"    {url}")
    return plain("\n".join(lines))  # terminal-safe: no control characters or bidi overrides from outside
