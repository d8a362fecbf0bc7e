"""Care alerts in Slack (escaped Block Kit within Slack's limits), and the console fallback when Slack is off."""

from __future__ import annotations

import http.client
import logging
import sys
import time
import unicodedata
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote, urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RateLimitErrorRetryHandler, RetryState

from responders.alerts import CaseView, facts, headline
from store.errors import DeliveryError, DeliveryRejected, NotConfigured

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

# Slack's limits (reference/sources.md; fields and context text from the Block Kit reference).
MAX_BLOCKS = 50
HEADER_TEXT = 150
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 4000  # Slack truncates past 40,000; notifications want far less
FALLBACK_EXCERPT = 300
TIMEOUT = 10

#: Error codes that retrying will not fix: a person has to change the token, the channel or the payload.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope",
        "channel_not_found", "not_in_channel", "is_archived", "restricted_action",
        "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_arguments",
    }
)  # fmt: skip

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def escape(text: str) -> str:
    """Escape text from outside for mrkdwn so it cannot ping (``<!channel>``, ``<@U…>``) or forge links."""
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def slack_len(text: str) -> int:
    """Length in UTF-16 code units: never less than Slack's count, whichever way Slack counts."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` (with an ellipsis when cut)."""
    return escaped_clip(text, limit, escaping=False)


def escaped_clip(text: str, limit: int, *, escaping: bool = True) -> str:
    """``text`` escaped and cut to ``limit`` with an ellipsis, never inside an ``&amp;``-style entity."""
    whole = escape(text) if escaping else text
    if slack_len(whole) <= limit:
        return whole
    pieces: list[str] = []
    used = 0
    for ch in text:
        piece = _ESCAPES.get(ch, ch) if escaping else ch
        size = slack_len(piece)
        if used + size > limit - 1:
            break
        pieces.append(piece)
        used += size
    return "".join(pieces).rstrip() + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; ``verbatim`` so Slack does not auto-link URLs or channel names written in it."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def link(url: str, label: str) -> str | None:
    """A mrkdwn link to an http(s) URL, or None for anything else (``javascript:``, ``file:``, garbage)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # Percent-encode what would end the link early ("|", ">", spaces) or is not a URL character at all.
    safe_url = quote(url, safe=":/?#[]@!$&'()*+,;=%~")
    return f"<{escape(safe_url)}|{escape(label)}>"


class RateLimitRetry(RateLimitErrorRetryHandler):
    """Retry an HTTP 429 after Slack's ``Retry-After``, but only when that wait is short; else the outbox retries."""

    def __init__(self, max_retry_count: int = 2, max_wait: float = 30.0) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code == 429 and _retry_after(response) <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        time.sleep(_retry_after(response) if response is not None else 1.0)
        state.increment_current_attempt()


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    return 1.0


def slack_client(
    token: str,
    base_url: str = "https://slack.com/api/",
    *,
    timeout: int = TIMEOUT,
    max_retries: int = 2,
    max_wait: float = 30.0,
) -> WebClient:
    """A WebClient that waits out short rate limits; other failures surface at once (the outbox retries them)."""
    base_url = base_url if base_url.endswith("/") else base_url + "/"  # urljoin would drop the last segment
    return WebClient(
        token=token, base_url=base_url, timeout=timeout, retry_handlers=[RateLimitRetry(max_retries, max_wait)]
    )


class SlackAlerter:
    """Post care alerts to one Slack channel as Block Kit messages."""

    name: ClassVar[str] = "slack"

    def __init__(self, client: WebClient, channel: str, *, min_interval: float = 0.0) -> None:
        self.client = client
        self.channel = channel
        self.target = channel
        # Slack allows about one message a second a channel but tolerates short bursts, answering 429 with
        # Retry-After past them (which slack_client waits out); set min_interval to pace posts up front instead.
        self.min_interval = min_interval
        self._last_post = float("-inf")

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackAlerter:
        if not settings.slack.token:
            raise NotConfigured("no Slack token: set KULAK_SLACK_TOKEN")
        client = slack_client(settings.slack.token, settings.slack.base_url)
        return cls(client, settings.slack.channel)

    def render(self, case: CaseView) -> dict[str, Any]:
        title = " ".join(headline(case).split())
        text = case.analysis.masked_text.strip() or "(boş metin / empty text)"
        fields = []
        for label, value in facts(case)[:MAX_FIELDS]:
            label_text = f"*{label}*\n"
            fields.append(mrkdwn(label_text + escaped_clip(value, FIELD_TEXT - slack_len(label_text))))
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": clip(title, HEADER_TEXT), "emoji": True}},
            {"type": "section", "text": mrkdwn(escaped_clip(text, SECTION_TEXT))},
            {"type": "section", "fields": fields},
            {"type": "context", "elements": [mrkdwn(self._origin(case))]},
        ]
        excerpt = escaped_clip(" ".join(text.split()), FALLBACK_EXCERPT)
        fallback = clip(f"{escape(title)} — {escape(case.mention.raw.source)}: {excerpt}", FALLBACK_TEXT)
        return {"text": fallback, "blocks": blocks[:MAX_BLOCKS]}

    @staticmethod
    def _origin(case: CaseView) -> str:
        raw = case.mention.raw
        when = raw.published_at or raw.fetched_at
        tail = f" · {escape(raw.source)} #{case.mention.id} · {when:%Y-%m-%d %H:%M}"
        room = CONTEXT_TEXT - slack_len(tail)
        linked = link(raw.url, "Orijinali aç / open original")
        if linked is not None and slack_len(linked) <= room:
            return linked + tail
        if not raw.url.strip():
            return "bağlantı yok / no link" + tail
        return escaped_clip(f"Bağlantı / Link: {raw.url.strip()}", room) + tail

    def send(self, payload: Mapping[str, Any], target: str | None = None) -> str:
        channel = target or self.channel
        text, blocks = payload.get("text"), payload.get("blocks")
        if not text and not blocks:
            raise DeliveryRejected("the alert payload has neither text nor blocks")
        self._pace()
        try:
            response = self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
            )
        except SlackApiError as exc:
            raise _translate(exc, channel) from exc
        except SlackClientError as exc:
            raise DeliveryRejected(f"Slack client refused the request: {type(exc).__name__}") from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, refused/reset, broken answers
            raise DeliveryError(f"Slack unreachable: {type(exc).__name__}: {exc}") from exc
        finally:
            self._last_post = time.monotonic()
        ts = response.get("ts")
        if not isinstance(ts, str) or not ts:
            raise DeliveryError("Slack answered ok without a message ts")
        log.info("Slack alert posted to %s (ts %s)", channel, ts, extra={"channel": channel, "ts": ts})
        return ts

    def _pace(self) -> None:
        wait = self._last_post + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)


def _translate(exc: SlackApiError, channel: str) -> DeliveryError:
    """A Slack error as a Kulak error: rejected for good, or worth another try."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    code = clip(str(data.get("error") or f"http_{response.status_code}"), 200)
    if code in PERMANENT_ERRORS:
        return DeliveryRejected(f"Slack refused the alert to {channel}: {code}")
    if response.status_code == 429 or code == "ratelimited":
        after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), "?")
        return DeliveryError(f"Slack rate limited the alert to {channel} (retry after {after} s)")
    return DeliveryError(f"Slack failed the alert to {channel}: {code} (HTTP {response.status_code})")


def plain(text: str) -> str:
    """Text safe for a terminal: no control characters (ANSI escapes) and no bidi overrides."""
    return "".join(ch for ch in text if ch in "\n\t" or (unicodedata.category(ch) != "Cc" and ch not in _BIDI))


class ConsoleAlerter:
    """Print alerts as plain text: the fallback when Slack is not configured."""

    name: ClassVar[str] = "console"

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream
        self.target = "stdout"  # one console, whatever stream stands for it: outbox keys stay the same

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleAlerter:
        return cls()

    def render(self, case: CaseView) -> dict[str, Any]:
        raw = case.mention.raw
        lines = [plain(headline(case)), clip(plain(case.analysis.masked_text.strip()), SECTION_TEXT)]
        lines += [f"  {label}: {plain(value)}" for label, value in facts(case)]
        lines.append(f"  Bağlantı / Link: {plain(raw.url) or '—'}")
        return {"text": "\n".join(lines)}

    def send(self, payload: Mapping[str, Any], target: str | None = None) -> str:
        stream = self.stream if self.stream is not None else sys.stdout  # looked up late, so redirection works
        try:
            # A payload made for every channel carries "plain", its terminal-safe text; Slack's "text" is escaped.
            stream.write(f"{payload.get('plain', payload.get('text', ''))}\n{'-' * 40}\n")
            stream.flush()
        except OSError as exc:
            raise DeliveryError(f"console alert could not be written: {exc}") from exc
        return "console"
