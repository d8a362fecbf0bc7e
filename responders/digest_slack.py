"""A digest for the outbox: one Block Kit message per brand with its charts in the thread, and the e-mail."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from responders.digest_charts import CHART_NAMES, Chart, chart_key, digest_charts
from responders.digest_html import email_payload
from responders.digest_model import Digest
from responders.digest_sections import Table, brand_tables, key_figures, plain_brand
from responders.digest_text import DASH, DigestText
from responders.slack_text import (
    CONTEXT_TEXT,
    FALLBACK_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    MAX_FIELDS,
    SECTION_TEXT,
    clip,
    escape,
    escaped_clip,
    link,
    mrkdwn,
    slack_len,
)
from store.model import Delivery

CELL_TEXT = 300  # a summary longer than this is cut in Slack: the report has the rest
FILE_TITLE = 250
COMMENT_TEXT = 1000


def slack_payloads(digest: Digest, charts: Mapping[str, Chart] | None = None) -> list[dict[str, Any]]:
    """One message payload per brand. With ``charts`` (see :func:`digest_charts`), a brand that has some says
    they follow in the thread."""
    t = DigestText(digest.language, digest.timezone)
    charted = {key.partition("/")[0] for key in charts or {}}
    return [brand_payload(digest, i, t, with_charts=str(i) in charted) for i in range(len(digest.brands))]


def brand_payload(digest: Digest, index: int, t: DigestText, *, with_charts: bool = False) -> dict[str, Any]:
    brand = digest.brands[index]
    title = " ".join(f"📊 {t.title(digest.period)} · {brand.brand}".split())
    about = (
        f"{t.label('compared')}: {t.span(digest.previous)} · {t.label('generated')}: {t.moment(digest.generated_at)}"
    )
    fields = [
        mrkdwn(f"*{escape(label)}*\n{escaped_clip(value, FIELD_TEXT // 2)}") for label, value in key_figures(brand, t)
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_TEXT), "emoji": True}},
        {"type": "context", "elements": [mrkdwn(escaped_clip(about, CONTEXT_TEXT))]},
        {"type": "section", "fields": fields[:MAX_FIELDS]},
    ]
    blocks += [{"type": "section", "text": mrkdwn(section_text(table, t))} for table in brand_tables(brand, t)]
    if with_charts:
        blocks.append({"type": "context", "elements": [mrkdwn(escape(t.label("charts_in_thread")))]})
    headline = f"{t.label('mentions')}: {t.count(brand.volume)}"
    return {
        "text": clip(f"{escape(title)} — {escape(headline)}", FALLBACK_TEXT),
        "blocks": blocks[:MAX_BLOCKS],
        "plain": plain_brand(digest, index, t),  # what the console prints when Slack is off
    }


def section_text(table: Table, t: DigestText) -> str:
    """A table as mrkdwn lines, "• first: second · head: cell ...", as many as fit in one section."""
    heading = f"*{escape(table.title)}*"
    if not table.rows:
        return f"{heading}\n_{escape(t.label('no_data'))}_"
    lines = [heading]
    used = slack_len(heading)
    links = table.links or (None,) * len(table.rows)
    for shown, (row, url) in enumerate(zip(table.rows, links, strict=True)):
        cells = [escaped_clip(" ".join(cell.split()) or DASH, CELL_TEXT) for cell in row]
        first = link(url, row[0]) if url else None
        rest = [cells[1], *(f"{escape(head)}: {cell}" for head, cell in zip(table.head[2:], cells[2:], strict=True))]
        line = f"• {first or cells[0]}: " + " · ".join(rest)
        more = f"… +{len(table.rows) - shown}"
        if used + 1 + slack_len(line) + 1 + slack_len(more) > SECTION_TEXT:
            lines.append(more)
            break
        lines.append(line)
        used += 1 + slack_len(line)
    return "\n".join(lines)


def upload_payload(digest: Digest, index: int, charts: Sequence[Chart], t: DigestText) -> dict[str, Any] | None:
    """The charts of one brand as files for the digest message's thread; None when it has none."""
    if not charts:
        return None
    brand = digest.brands[index].brand
    comment = f"{t.label('charts')} · {brand} · {t.title(digest.period)}"
    files = [
        {
            "filename": f"digest-{digest.period.label}-{index + 1}-{chart.name}.png",
            "title": clip(" ".join(f"{brand} · {chart.title}".split()), FILE_TITLE),
            "png": base64.b64encode(chart.png).decode("ascii"),
        }
        for chart in charts
    ]
    return {"op": "upload", "text": escaped_clip(comment, COMMENT_TEXT), "files": files}


def digest_deliveries(
    digest: Digest, *, slack_channel: str | None, email_to: Sequence[str], key_prefix: str
) -> list[Delivery]:
    """The outbox rows of a digest: per brand a Slack message and, in its thread, the charts; one e-mail to all
    of ``email_to``. Keys are made from ``key_prefix`` (the period), so queuing the same digest twice sends once."""
    charts = digest_charts(digest)
    t = DigestText(digest.language, digest.timezone)
    rows: list[Delivery] = []
    if slack_channel:
        for index, payload in enumerate(slack_payloads(digest, charts)):
            key = f"{key_prefix}:slack:{slack_channel}:{digest.brands[index].brand}"
            rows.append(Delivery(key, "slack", slack_channel, payload, kind="digest"))
            own = [charts[chart_key(index, name)] for name in CHART_NAMES if chart_key(index, name) in charts]
            upload = upload_payload(digest, index, own, t)
            if upload is not None:
                rows.append(Delivery(f"{key}:charts", "slack", slack_channel, upload, kind="change", parent_key=key))
    if email_to:
        target = ", ".join(email_to)
        # Keys show up in logs and audit rows: the addresses (personal data) go in as a digest of them only.
        recipients = hashlib.sha256(target.encode("utf-8")).hexdigest()[:16]
        payload = email_payload(digest, charts)
        rows.append(Delivery(f"{key_prefix}:email:{recipients}", "email", target, payload, kind="digest"))
    return rows
