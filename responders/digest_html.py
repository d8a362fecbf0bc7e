"""The HTML report of a digest (Jinja2, autoescaped): one self-contained page for phones, browsers and e-mail."""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from responders.digest_charts import CHART_NAMES, Chart, chart_key, digest_charts
from responders.digest_model import Digest
from responders.digest_sections import brand_tables, key_figures, plain_report
from responders.digest_text import DigestText
from responders.slack_text import plain, without_bidi
from store.errors import DeliveryError

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates" / "digest"
REPORT = "report.html.j2"
SUBJECT_CHARS = 200


@cache
def environment() -> Environment:
    """The report's Jinja2 environment: every value escaped, a missing one an error rather than an empty string."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_shown,
    )


def _shown(value: Any) -> Any:
    """Every value the report prints: bidi controls from posts dropped, so they cannot reorder the page."""
    return without_bidi(value) if isinstance(value, str) else value


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_html(digest: Digest, images: Mapping[str, str]) -> str:
    """The report page. ``images`` maps :func:`chart_key` ("<brand index>/<chart name>") to an img src: a data:
    URI for a saved report, "cid:..." for e-mail; charts without an entry are left out."""
    t = DigestText(digest.language, digest.timezone)
    brands: list[dict[str, Any]] = []
    for index, brand in enumerate(digest.brands):
        charts = [
            {"title": t.label(f"chart_{name}"), "src": images[chart_key(index, name)]}
            for name in CHART_NAMES
            if chart_key(index, name) in images
        ]
        tables = [
            {
                "key": table.key,
                "title": table.title,
                "head": table.head,
                "rows": list(zip(table.rows, table.links or (None,) * len(table.rows), strict=True)),
            }
            for table in brand_tables(brand, t)
        ]
        brands.append({"name": brand.brand, "figures": key_figures(brand, t), "charts": charts, "tables": tables})
    return (
        environment()
        .get_template(REPORT)
        .render(
            lang=digest.language,
            title=t.title(digest.period),
            compared=f"{t.label('compared')}: {t.span(digest.previous)}",
            generated=f"{t.label('generated')}: {t.moment(digest.generated_at)}",
            charts_title=t.label("charts"),
            no_data=t.label("no_data"),
            brands=brands,
        )
    )


def content_id(key: str) -> str:
    """The Content-ID of a chart in the e-mail ("chart-0-timeline@kulak"), referred to as "cid:" + it."""
    return f"chart-{key.replace('/', '-')}@kulak"


def email_payload(digest: Digest, charts: Mapping[str, Chart]) -> dict[str, Any]:
    """What the outbox keeps for the digest e-mail: subject, HTML with cid: charts, plain text, the PNGs."""
    t = DigestText(digest.language, digest.timezone)
    names = ", ".join(b.brand for b in digest.brands)
    subject = " ".join(plain(f"{t.title(digest.period)} · {names}").split())  # one line: no header injection
    return {
        "subject": subject if len(subject) <= SUBJECT_CHARS else subject[: SUBJECT_CHARS - 1] + "…",
        "html": render_html(digest, {key: f"cid:{content_id(key)}" for key in charts}),
        "text": plain_report(digest),
        "images": {content_id(key): base64.b64encode(c.png).decode("ascii") for key, c in charts.items()},
        "language": digest.language,
    }


def report_name(digest: Digest) -> str:
    return f"{digest.period.kind}-{digest.period.label}.html"


def save_report(digest: Digest, directory: Path, charts: Mapping[str, Chart] | None = None) -> Path:
    """Write the report with its charts inlined as data: URIs to ``directory/<kind>-<label>.html``; returns the path.

    Written to a temporary file and renamed, so a reader never sees half a report.
    """
    charts = digest_charts(digest) if charts is None else charts
    html = render_html(digest, {key: data_uri(chart.png) for key, chart in charts.items()})
    path = directory / report_name(digest)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{path.name}.{os.getpid()}.tmp"
        try:
            temporary.write_text(html, encoding="utf-8")
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise DeliveryError(f"the digest report could not be written to {path}: {exc.strerror or exc}") from exc
    log.info("digest report written to %s", path, extra={"path": str(path)})
    return path
