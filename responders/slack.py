"""Care alerts in Slack (escaped Block Kit within Slack's limits), and the console fallback when Slack is off."""

from __future__ import annotations

import base64
import http.client
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import IO, TYPE_CHECKING, Any, ClassVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RateLimitErrorRetryHandler, RetryState

from responders.alerts import CaseView, facts, headline
from responders.slack_blocks import alert_payload, change_payloads
from responders.slack_text import SECTION_TEXT, clip, plain
from store.errors import CredentialsRejected, DeliveryError, DeliveryRejected, NotConfigured
from store.model import CaseChange

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT = 10

#: Error codes that retrying will not fix: a person has to change the token, the channel or the payload.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope",
        "channel_not_found", "not_in_channel", "is_archived", "restricted_action", "message_not_found",
        "invalid_blocks", "invalid_blocks_format", "msg_too_long", "no_text", "invalid_arguments",
    }
)  # fmt: skip
#: Of those, the ones that say the token itself is no good: every call on it will fail the same way.
TOKEN_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


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


HISTORY_PAGES = 20  # pages of 200 messages read to find an earlier attempt's message before giving up for now
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
METADATA_EVENT = "kulak_delivery"


def slack_ref(channel_id: str, ts: str) -> str:
    """What the outbox keeps for a Slack message: its channel id and ts (chat.update and threads need both)."""
    return f"{channel_id}/{ts}"


def split_ref(ref: str) -> tuple[str, str]:
    channel, _, ts = ref.partition("/")
    if not channel or not ts:
        raise DeliveryRejected(f"not a Slack message reference: {ref!r}")
    return channel, ts


class SlackAlerter:
    """Post care alerts to Slack as Block Kit messages, their updates into the alert's thread, and refresh them."""

    name: ClassVar[str] = "slack"

    def __init__(self, client: WebClient, channel: str, *, min_interval: float = 0.0) -> None:
        self.client = client
        self.channel = channel
        self.target = channel
        # Slack allows about one message a second a channel but tolerates short bursts, answering 429 with
        # Retry-After past them (which slack_client waits out); set min_interval to pace posts up front instead.
        self.min_interval = min_interval
        self._last_post = float("-inf")
        self._ids: dict[str, str] = {}  # channel name -> id, learnt from answers

    @classmethod
    def from_settings(cls, settings: Settings) -> SlackAlerter:
        if not settings.slack.token:
            raise NotConfigured("no Slack token: set KULAK_SLACK_TOKEN")
        client = slack_client(settings.slack.token, settings.slack.base_url)
        return cls(client, settings.slack.channel)

    def render(self, case: CaseView) -> dict[str, Any]:
        return alert_payload(case)

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        return change_payloads(case, change)

    def send(
        self, payload: Mapping[str, Any], target: str | None = None, *, key: str = "", parent_ref: str | None = None
    ) -> str:
        """Post (or, for a change, reply in the thread or update the alert); returns ``channel_id/ts``."""
        channel = target or self.channel
        if payload.get("op") == "upload":
            return self._upload(payload, channel, parent_ref)
        text, blocks = payload.get("text"), payload.get("blocks")
        if not text and not blocks:
            raise DeliveryRejected("the alert payload has neither text nor blocks")
        op = payload.get("op", "post")
        if op in ("thread", "update") and not parent_ref:
            raise DeliveryRejected(f"a Slack {op} needs the alert it belongs to")
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        if op == "update":
            channel_id, ts = split_ref(parent_ref or "")
            self._call(channel, lambda: self.client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks))
            return parent_ref or ""
        thread_ts = None
        if op == "thread":
            channel, thread_ts = split_ref(parent_ref or "")
        self._pace()
        try:
            response = self._call(
                channel,
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    reply_broadcast=bool(payload.get("broadcast")) if thread_ts else None,
                    metadata=metadata,
                    unfurl_links=False,
                    unfurl_media=False,
                ),
            )
        finally:
            self._last_post = time.monotonic()
        ts, channel_id = response.get("ts"), response.get("channel")
        if not isinstance(ts, str) or not ts or not isinstance(channel_id, str) or not channel_id:
            raise DeliveryError("Slack answered ok without a message ts and channel")
        self._ids[channel] = channel_id
        ids = {"channel": channel, "ts": ts, "delivery": key or None}
        log.info("Slack message posted to %s (ts %s)", channel, ts, extra=ids)
        return slack_ref(channel_id, ts)

    def _upload(self, payload: Mapping[str, Any], channel: str, parent_ref: str | None) -> str:
        """Upload ``payload["files"]`` (base64 PNGs) into the thread of ``parent_ref``; returns ``parent_ref``."""
        if not parent_ref:
            raise DeliveryRejected("a Slack upload needs the message whose thread it goes in")
        channel_id, ts = split_ref(parent_ref)
        try:
            uploads = [
                {"content": base64.b64decode(f["png"], validate=True), "filename": f["filename"], "title": f["title"]}
                for f in payload.get("files") or []
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise DeliveryRejected(f"the upload payload is malformed: {type(exc).__name__}") from exc
        if not uploads:
            raise DeliveryRejected("the upload payload has no files")
        comment = payload.get("text") or None
        self._call(
            channel,
            lambda: self.client.files_upload_v2(
                channel=channel_id, thread_ts=ts, file_uploads=uploads, initial_comment=comment
            ),
        )
        log.info("%d files uploaded to %s (thread %s)", len(uploads), channel, ts, extra={"channel": channel, "ts": ts})
        return parent_ref

    def find_sent(
        self, payload: Mapping[str, Any], target: str, *, key: str, since: datetime, parent_ref: str | None = None
    ) -> str | None:
        """The message an earlier, unfinished attempt posted with this outbox key, if Slack has it."""
        op = payload.get("op", "post")
        if op in ("update", "upload") or not key:
            return None  # an update is the same however often it is made; files carry no key to look for
        oldest = f"{since.timestamp() - 60:.6f}"
        thread_ts = ""
        if op == "thread":
            channel_id, thread_ts = split_ref(parent_ref or "")
        else:
            channel_id = self.channel_id(target)

        def read(cursor: str | None) -> Any:
            if thread_ts:
                return self.client.conversations_replies(
                    channel=channel_id, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                )
            return self.client.conversations_history(
                channel=channel_id, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
            )

        cursor = None
        # A busy channel has more since the first try than one page holds (newest first): reading one page only
        # would miss the message and post it twice.
        for _ in range(HISTORY_PAGES):
            page = self._call(target, partial(read, cursor))
            for message in page.get("messages") or []:
                found = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
                if found == key and isinstance(message.get("ts"), str):
                    log.info("delivery %s was already in Slack; not posted again", key, extra={"delivery": key})
                    return slack_ref(channel_id, message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not page.get("has_more") or not cursor:
                return None
        # Past that, posting (maybe twice) beats never telling the care team.
        log.warning("delivery %s: %d pages of %s read without finding it; posting", key, HISTORY_PAGES, target)
        return None

    def whisper(self, channel: str, user: str, text: str) -> None:
        """A message in ``channel`` only ``user`` sees (why a button press was refused)."""
        self._call(channel, partial(self.client.chat_postEphemeral, channel=channel, user=user, text=text))

    def channel_id(self, channel: str) -> str:
        """A channel's id (history and updates take ids only), looked up by name once."""
        name = channel.lstrip("#")
        if CHANNEL_ID.match(name):
            return name
        if channel not in self._ids:
            cursor = None
            while True:
                page = self._call(channel, partial(self.client.conversations_list, limit=500, cursor=cursor))
                for item in page.get("channels") or []:
                    self._ids.setdefault(f"#{item.get('name')}", str(item.get("id")))
                    self._ids.setdefault(str(item.get("name")), str(item.get("id")))
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor or channel in self._ids:
                    break
        if channel not in self._ids:
            raise DeliveryRejected(f"Slack has no channel named {channel}")
        return self._ids[channel]

    def _call(self, channel: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except SlackApiError as exc:
            raise _translate(exc, channel) from exc
        except SlackClientError as exc:
            raise DeliveryRejected(f"Slack client refused the request: {type(exc).__name__}") from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, refused/reset, broken answers
            raise DeliveryError(f"Slack unreachable: {type(exc).__name__}: {exc}") from exc

    def _pace(self) -> None:
        wait = self._last_post + self.min_interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)


def _translate(exc: SlackApiError, channel: str) -> DeliveryError:
    """A Slack error as a Kulak error: rejected for good, or worth another try."""
    response = exc.response
    data = response.data if isinstance(response.data, dict) else {}
    code = clip(str(data.get("error") or f"http_{response.status_code}"), 200)
    if code in TOKEN_ERRORS:
        return CredentialsRejected(f"Slack refused Kulak's token: {code}")
    if code in PERMANENT_ERRORS:
        return DeliveryRejected(f"Slack refused the alert to {channel}: {code}")
    if response.status_code == 429 or code == "ratelimited":
        after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), "?")
        try:
            wait = float(after[0] if isinstance(after, list) else after)
        except ValueError:
            wait = None
        return DeliveryError(f"Slack rate limited the alert to {channel} (retry after {after} s)", retry_after=wait)
    return DeliveryError(f"Slack failed the alert to {channel}: {code} (HTTP {response.status_code})")


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
        lines = [
            plain(f"{headline(case)} · #{case.ticket.id}"),
            clip(plain(case.analysis.masked_text.strip()), SECTION_TEXT),
        ]
        lines += [f"  {label}: {plain(value)}" for label, value in facts(case)]
        lines.append(f"  Bağlantı / Link: {plain(raw.url) or '—'}")
        if case.draft.strip():
            lines.append(f"  Önerilen yanıt / Suggested reply: {plain(case.draft.strip())}")
        return {"text": "\n".join(lines)}

    def render_change(self, case: CaseView, change: CaseChange) -> list[dict[str, Any]]:
        return [{"text": plain(f"#{change.ticket_id} {change.actor}: {change.summary}")}]

    def send(
        self, payload: Mapping[str, Any], target: str | None = None, *, key: str = "", parent_ref: str | None = None
    ) -> str:
        stream = self.stream if self.stream is not None else sys.stdout  # looked up late, so redirection works
        try:
            # A payload made for every channel carries "plain", its terminal-safe text; Slack's "text" is escaped.
            stream.write(f"{payload.get('plain', payload.get('text', ''))}\n{'-' * 40}\n")
            stream.flush()
        except OSError as exc:
            raise DeliveryError(f"console alert could not be written: {exc}") from exc
        return "console"
