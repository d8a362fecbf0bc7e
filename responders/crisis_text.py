"""What a crisis alert says, in Turkish or English: the Slack message, its thread notes and a terminal-safe copy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from responders.slack_blocks import when
from responders.slack_text import (
    FALLBACK_TEXT,
    HEADER_TEXT,
    MAX_BLOCKS,
    SECTION_TEXT,
    clip,
    escape,
    escaped_clip,
    link,
    mrkdwn,
    plain,
)
from store.model import Crisis
from store.repository import CrisisExample

#: key -> (Turkish, English)
LABELS: dict[str, tuple[str, str]] = {
    "crisis": ("Kriz uyarısı", "Crisis alert"),
    "subsided": ("Geçti", "Subsided"),
    "volume": ("Bahsetme hacmi", "Mention volume"),
    "negative": ("Olumsuz bahsetmeler", "Negative mentions"),
    "brand": ("marka geneli", "brand-wide"),
    "source": ("kaynak", "source"),
    "topic": ("konu", "topic"),
    "last": ("Son {span}", "Last {span}"),
    "expected": ("beklenen", "expected"),
    "usually": ("normalde", "usually"),
    "times": ("{x} kat", "{x}×"),
    "of": ("{part} / {whole} bahsetme", "{part} of {whole} mentions"),
    "spiking": ("Yükselenler", "What spikes"),
    "terms": ("Öne çıkan kelimeler", "Top terms"),
    "topics": ("Konular", "Top topics"),
    "clusters": ("Benzer metin kümeleri", "Near-duplicate clusters"),
    "examples": ("Örnek bahsetmeler", "Example mentions"),
    "open_link": ("bağlantı", "link"),
    "no_link": ("bağlantı yok", "no link"),
    "opened": ("Açıldı", "Opened"),
    "closed": ("Kapandı", "Closed"),
    "baseline": (
        "taban: önceki {weeks} haftanın aynı günü ve saati",
        "baseline: the same weekday and time in the {weeks} weeks before",
    ),
    "growing": ("Büyüyor", "Growing"),
    "at_alert": ("önceki uyarıda {n}", "{n} at the last alert"),
    "new_scopes": ("Yeni yükselenler", "Newly spiking"),
    "calm": ("{span} boyunca normal seviyede kaldı.", "Back within normal for {span}."),
    "peak": ("Zirve", "Peak"),
    "lasted": ("Süre", "Lasted"),
    "hour": ("saat", "h"),
    "minute": ("dakika", "min"),
    "none": ("—", "—"),
}
TEXT_CLIP = 400
CLUSTER_CLIP = 200
MAX_LINES = 8


class Words:
    """The labels and number formats of one language."""

    def __init__(self, language: str, zone: ZoneInfo) -> None:
        self.index = 0 if language == "tr" else 1
        self.zone = zone

    def __call__(self, key: str, **values: object) -> str:
        return LABELS[key][self.index].format(**values)

    def number(self, value: float) -> str:
        text = f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
        return text.replace(".", ",") if self.index == 0 else text

    def percent(self, share: float) -> str:
        return f"%{share * 100:.0f}" if self.index == 0 else f"{share * 100:.0f}%"

    def span(self, seconds: float) -> str:
        minutes = max(0, round(seconds / 60))
        hours, minutes = divmod(minutes, 60)
        parts = [f"{hours} {self('hour')}"] if hours else []
        if minutes or not hours:
            parts.append(f"{minutes} {self('minute')}")
        return " ".join(parts)

    def local(self, moment: datetime) -> str:
        return f"{moment.astimezone(self.zone):%Y-%m-%d %H:%M}"

    def scope(self, scope: str) -> str:
        kind, _, value = scope.partition(":")
        return self("brand") if kind == "brand" else f"{self(kind) if kind in LABELS else kind} {value}"

    def what(self, signal: Mapping[str, Any]) -> str:
        """``Negative mentions · topic fatura``."""
        return f"{self(str(signal['metric']))} · {self.scope(str(signal['scope']))}"

    def figure(self, signal: Mapping[str, Any]) -> str:
        """``34 of 40 mentions (usually 31%)`` or ``52 (expected ≈ 11.2, 4.6×)``."""
        observed, expected, mentions = int(signal["observed"]), float(signal["expected"]), int(signal["mentions"])
        if signal["metric"] == "negative":
            usual = expected / mentions if mentions else 0.0
            return f"{self('of', part=observed, whole=mentions)} ({self('usually')} {self.percent(usual)})"
        ratio = f", {self('times', x=self.number(observed / expected))}" if expected > 0 else ""
        return f"{observed} ({self('expected')} ≈ {self.number(expected)}{ratio})"


def _lead(crisis: Crisis) -> Mapping[str, Any]:
    found = crisis.detail.get("lead")
    if isinstance(found, Mapping):
        return found
    return {"scope": crisis.scope, "metric": crisis.metric, "observed": crisis.peak, "expected": crisis.expected,
            "mentions": crisis.peak}  # fmt: skip


def _title(crisis: Crisis, w: Words) -> str:
    mark, word = ("✅", w("subsided")) if crisis.status == "closed" else ("🚨", w("crisis"))
    return " ".join(f"{mark} {word}: {crisis.brand}".split())


def _sections(crisis: Crisis, shown: Mapping[int, CrisisExample], w: Words) -> list[tuple[str, list[str], list[str]]]:
    """(label, mrkdwn lines, plain lines) of each part of the alert."""
    detail = crisis.detail
    window = detail.get("window") or {}
    lead = _lead(crisis)
    span = w.span(float(window.get("minutes", 60)) * 60)
    head = f"{w('last', span=span)}: {w.figure(lead)}"
    parts = [(w.what(lead), [escape(head)], [head])]
    same = (lead.get("scope"), lead.get("metric"))
    signals = [s for s in detail.get("signals") or [] if isinstance(s, Mapping) and (s["scope"], s["metric"]) != same]
    signals = signals[:MAX_LINES]
    lines = [f"{w.what(s)}: {w.figure(s)}" for s in signals]
    if lines:
        parts.append((w("spiking"), [f"• {escape(x)}" for x in lines], [f"- {x}" for x in lines]))
    terms = [(str(t), int(n)) for t, n in detail.get("terms") or []]
    if terms:
        parts.append(
            (
                w("terms"),
                [" · ".join(f"`{escape(t)}` {n}" for t, n in terms)],
                [", ".join(f"{t} ({n})" for t, n in terms)],
            )
        )
    topics = [(str(t), int(n), float(e)) for t, n, e in detail.get("topics") or []][:MAX_LINES]
    if topics:
        lines = [f"{t}: {n} ({w('expected')} ≈ {w.number(e)})" for t, n, e in topics]
        parts.append((w("topics"), [" · ".join(escape(x) for x in lines)], [", ".join(lines)]))
    groups = []
    for size, mention_id in detail.get("clusters") or []:
        example = shown.get(int(mention_id))
        quote = " ".join(example.text.split()) if example is not None else w("none")
        groups.append((int(size), quote))
    if groups:
        marked = [f"• {n} × “{escaped_clip(q, CLUSTER_CLIP)}”" for n, q in groups]
        parts.append((w("clusters"), marked, [f"- {n} x “{clip(q, CLUSTER_CLIP)}”" for n, q in groups]))
    return parts


def _examples(crisis: Crisis, shown: Mapping[int, CrisisExample], w: Words) -> list[tuple[str, str]]:
    """(mrkdwn, plain) of each example mention, in the order the check ranked them."""
    found = []
    for mention_id in crisis.detail.get("examples") or []:
        example = shown.get(int(mention_id))
        if example is None:
            continue  # erased since the alert was made
        text = " ".join(example.text.split()) or w("none")
        linked = link(example.url, w("open_link")) or w("no_link")
        marked = f">{escaped_clip(text, TEXT_CLIP)}\n_{escape(example.source)}_ · {linked}"
        found.append((marked, f'  "{clip(text, TEXT_CLIP)}" ({example.source}, {example.url or w("no_link")})'))
    return found


def _footer(crisis: Crisis, w: Words) -> tuple[str, str]:
    window = crisis.detail.get("window") or {}
    base = w("baseline", weeks=window.get("weeks", "?"))
    marked = f"{w('opened')} {when(crisis.opened_at.astimezone(UTC))}"
    text = f"{w('opened')} {w.local(crisis.opened_at)}"
    if crisis.closed_at is not None:
        marked += f" · {w('closed')} {when(crisis.closed_at.astimezone(UTC))}"
        text += f" · {w('closed')} {w.local(crisis.closed_at)}"
    return f"{marked} · {base} · #{crisis.id}", f"{text} · {base} · #{crisis.id}"


def alert_payload(crisis: Crisis, shown: Mapping[int, CrisisExample], language: str, zone: ZoneInfo) -> dict[str, Any]:
    """The alert: header, the strongest signal, what else spikes, the drivers, examples, when and against what."""
    w = Words(language, zone)
    title = _title(crisis, w)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_TEXT), "emoji": True}}
    ]
    lines = [plain(title)]
    for label, marked, text in _sections(crisis, shown, w):
        body = clip(f"*{escape(label)}*\n" + "\n".join(marked), SECTION_TEXT)
        blocks.append({"type": "section", "text": mrkdwn(body)})
        lines += [plain(f"{label}:"), *(plain(f"  {x}") for x in text)]
    examples = _examples(crisis, shown, w)
    if examples:
        blocks.append({"type": "section", "text": mrkdwn(f"*{escape(w('examples'))}*")})
        blocks += [{"type": "section", "text": mrkdwn(clip(m, SECTION_TEXT))} for m, _ in examples]
        lines += [plain(f"{w('examples')}:"), *(plain(p) for _, p in examples)]
    marked_footer, plain_footer = _footer(crisis, w)
    blocks = [*blocks[: MAX_BLOCKS - 1], {"type": "context", "elements": [mrkdwn(marked_footer)]}]
    lines.append(plain(plain_footer))
    lead = _lead(crisis)
    fallback = f"{escape(title)} — {escape(w.what(lead))}: {escape(w.figure(lead))}"
    return {"text": clip(fallback, FALLBACK_TEXT), "blocks": blocks, "plain": "\n".join(lines)}


def _note(text: str) -> dict[str, Any]:
    return {
        "op": "thread",
        "text": escaped_clip(text, FALLBACK_TEXT),
        "blocks": [{"type": "section", "text": mrkdwn(escaped_clip(text, SECTION_TEXT))}],
        "plain": plain(text),
    }


def growth_note(
    crisis: Crisis, previous: int, new_scopes: Sequence[str], language: str, zone: ZoneInfo
) -> dict[str, Any]:
    """A thread reply: the incident grew past its last alert, or spread to another scope."""
    w = Words(language, zone)
    lead = _lead(crisis)
    text = f"📈 {w('growing')}: {w.what(lead)} {int(lead['observed'])} ({w('at_alert', n=previous)})."
    if new_scopes:
        text += f" {w('new_scopes')}: {', '.join(w.scope(s) for s in new_scopes)}."
    return _note(text)


def closed_note(crisis: Crisis, calm_seconds: float, language: str, zone: ZoneInfo) -> dict[str, Any]:
    """A thread reply: back to normal, with the peak and how long it lasted."""
    w = Words(language, zone)
    closed = crisis.closed_at or crisis.updated_at
    lasted = w.span((closed - crisis.opened_at).total_seconds())
    peak = f"{crisis.peak} ({w(crisis.metric)} · {w.scope(crisis.scope)})"
    text = f"✅ {w('subsided')}: {w('calm', span=w.span(calm_seconds))} {w('peak')}: {peak}. {w('lasted')}: {lasted}."
    return _note(text)
