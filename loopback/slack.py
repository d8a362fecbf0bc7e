"""A Slack-compatible Web API on 127.0.0.1, so the real slack_sdk WebClient can be tested over the wire."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from loopback.server import DROP, LoopbackServer, Recorded, Reply

MAX_TEXT = 40_000
MAX_BLOCKS = 50
LIMITS = {"header": 150, "section": 3000, "field": 2000, "button": 75, "value": 2000, "id": 255, "url": 3000}
UPLOAD_PATH = "/upload/v1/"
BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image", "rich_text", "input", "file", "markdown"}
Args = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """A message as the server stored it: what was posted, updated or shown to one user."""

    method: str  # chat.postMessage | chat.update | chat.postEphemeral
    channel: str  # the channel id, whatever name the caller used
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    user: str | None = None  # the one user who sees an ephemeral message
    args: Mapping[str, Any] = field(default_factory=dict)  # everything the call sent, token excepted


@dataclass(frozen=True)
class SlackFile:
    """A file uploaded the way files_upload_v2 does it (get an upload URL, POST the bytes, complete the upload)."""

    file_id: str
    filename: str
    title: str
    content: bytes
    channel: str  # the channel id it was shared in
    thread_ts: str | None
    initial_comment: str | None


class SlackServer(LoopbackServer):
    """Answer ``auth.test``, ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral``, ``conversations.info``,
    ``conversations.list``, ``conversations.history`` and ``conversations.replies`` (with message metadata), and
    uploads: ``files.getUploadURLExternal`` (an upload URL on this server), the POST of the bytes to it, and
    ``files.completeUploadExternal`` (shares them in a channel or thread; see ``files``).

    ``channels`` maps names to ids (addressable as ``#name``, ``name`` or id); the bot is in all of them except
    ``not_joined``. Errors are HTTP 200 ``{"ok": false, "error": ...}`` as Slack sends them; ``rate_limit_next``
    and ``fail_next`` inject HTTP 429 / 5xx answers; ``revoke_token_after`` refuses the token part-way through a run.
    ``conversations.history`` pages by ``limit`` and ``cursor`` as Slack does.
    """

    DEFAULT_TOKEN = "xoxb-kulak-test-token"
    BOT_USER_ID = "U0KULAKBOT"
    BOT_ID = "B0KULAKBOT"
    TEAM_ID = "T0KULAK01"

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        channels: Mapping[str, str] | None = None,
        *,
        not_joined: Iterable[str] = (),
        first_ts: int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.channels = dict(channels if channels is not None else {"care-alerts": "C0CARE01"})
        self.not_joined = {self.channels.get(c.lstrip("#"), c) for c in not_joined}
        self.messages: list[SlackMessage] = []
        self.files: list[SlackFile] = []  # uploads completed, in order
        self._pending: dict[str, dict[str, Any]] = {}  # file id -> what getUploadURLExternal and the POST gave
        self._state = threading.Lock()
        # ts are times, as on Slack: the time of the post (a look-up "since" a moment must find what came after
        # it, on a server that runs for minutes), or counted from ``first_ts`` when a test fixes them
        self._first_ts = first_ts
        self._last_micros = 0
        self._seq = 0
        self._injected: list[Reply] = []
        self._methods: dict[str, Callable[[Args], Reply]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": lambda args: self._store("chat.postMessage", args),
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }
        self._drop_after: int = 0
        self._revoked: tuple[int, str] | None = None  # good calls left before the token stops working, and the error
        self.answer_delay = 0.0  # seconds each call waits after doing its work, before answering (a slow Slack)

    def start(self) -> SlackServer:
        super().start()
        return self

    def __enter__(self) -> SlackServer:
        return self.start()

    # -- what tests use ----------------------------------------------------
    def rate_limit_next(self, times: int = 1, retry_after: float = 1) -> None:
        """Answer the next ``times`` calls with HTTP 429 and ``Retry-After: retry_after``."""
        reply = Reply.json({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": f"{retry_after:g}"})
        with self._state:
            self._injected.extend([reply] * times)

    def fail_next(self, times: int = 1, status: int = 500, error: str = "internal_error") -> None:
        """Answer the next ``times`` calls with HTTP ``status`` (a Slack outage)."""
        with self._state:
            self._injected.extend([Reply.json({"ok": False, "error": error}, status)] * times)

    def calm(self) -> None:
        """Forget the injected answers not given yet: the storm or the outage is over."""
        with self._state:
            self._injected.clear()

    def revoke_token_after(self, calls: int = 0, error: str = "token_revoked") -> None:
        """Let ``calls`` more calls through, then refuse the token with ``error`` (revoked or rotated mid-run)."""
        with self._state:
            self._revoked = (calls, error)

    def restore_token(self) -> None:
        """Accept the token again (an operator installed a working one)."""
        with self._state:
            self._revoked = None

    def drop_answer_next(self, times: int = 1) -> None:
        """Carry out the next ``times`` calls, then hang up without answering (the caller cannot know it worked)."""
        with self._state:
            self._drop_after += times

    def thread(self, ts: str) -> list[SlackMessage]:
        """Replies posted in the thread of ``ts``, oldest first."""
        with self._state:
            return [m for m in self.messages if m.thread_ts == ts and m.ts != ts and m.method == "chat.postMessage"]

    def shared_message(self, ts: str) -> SlackMessage | None:
        """The message with ``ts`` as the channel sees it now (after any ``chat.update``); ephemeral ones excluded."""
        with self._state:
            found = [m for m in self.messages if m.ts == ts and m.method != "chat.postEphemeral"]
        return found[-1] if found else None

    def posted(self, channel: str | None = None) -> list[SlackMessage]:
        """Messages posted with ``chat.postMessage``, optionally in one channel (name or id)."""
        wanted = None if channel is None else self.channels.get(channel.lstrip("#"), channel)
        with self._state:
            return [m for m in self.messages if m.method == "chat.postMessage" and wanted in (None, m.channel)]

    # -- the API -------------------------------------------------------------
    def handle(self, request: Recorded) -> Reply:
        if request.path.startswith(UPLOAD_PATH):
            return self._receive_upload(request)
        if not request.path.startswith("/api/"):
            return Reply.json({"ok": False, "error": "unknown_method"}, 404)
        with self._state:
            injected = self._injected.pop(0) if self._injected else None
        if injected is not None:
            return injected
        try:
            args = _arguments(request)
        except ValueError as exc:
            return _error(str(exc))
        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else str(args.pop("token", "") or "")
        args.pop("token", None)
        if not token:
            return _error("not_authed")
        if token != self.token:
            return _error("invalid_auth")
        with self._state:
            if self._revoked is not None:
                left, code = self._revoked
                if left <= 0:
                    return _error(code)
                self._revoked = (left - 1, code)
        method = self._methods.get(request.path[len("/api/") :])
        if method is None:
            return Reply.json({"ok": False, "error": "unknown_method"}, 404)
        reply = method(args)
        if self.answer_delay:
            time.sleep(self.answer_delay)
        with self._state:
            if self._drop_after:
                self._drop_after -= 1
                return Reply(DROP)
        return reply

    def _auth_test(self, args: Args) -> Reply:
        ids = {"team_id": self.TEAM_ID, "user_id": self.BOT_USER_ID, "bot_id": self.BOT_ID}
        return _ok(url="https://kulak-test.slack.com/", team="Kulak Test", user="kulak", **ids)

    def _conversations_info(self, args: Args) -> Reply:
        channel = self._channel_id(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        name = next(n for n, i in self.channels.items() if i == channel)
        info = {"id": channel, "name": name, "is_channel": True, "is_private": False, "is_archived": False}
        return _ok(channel={**info, "is_member": channel not in self.not_joined, "created": 1700000000})

    def _conversations_list(self, args: Args) -> Reply:
        listed = [
            {"id": i, "name": n, "is_channel": True, "is_member": i not in self.not_joined}
            for n, i in self.channels.items()
        ]
        return _ok(channels=listed, response_metadata={"next_cursor": ""})

    def _top_level(self, channel: str) -> list[SlackMessage]:
        """The channel's messages as history lists them: the latest version of each, thread replies left out."""
        latest: dict[str, SlackMessage] = {}
        with self._state:
            for m in self.messages:
                if m.channel == channel and m.method != "chat.postEphemeral" and m.thread_ts in (None, m.ts):
                    latest[m.ts] = m
        return list(latest.values())

    def _listed(self, messages: list[SlackMessage], args: Args) -> list[dict[str, Any]]:
        oldest = float(args.get("oldest") or 0)
        with_metadata = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for m in sorted(messages, key=lambda m: float(m.ts), reverse=True):
            if float(m.ts) < oldest:
                continue
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text, "user": self.BOT_USER_ID}
            if m.thread_ts:
                item["thread_ts"] = m.thread_ts
            metadata = m.args.get("metadata")
            if with_metadata and metadata:
                item["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
            found.append(item)
        return found

    def _conversations_history(self, args: Args) -> Reply:
        channel = self._channel_id(args.get("channel"))
        if channel is None or channel != str(args.get("channel")):  # history takes ids only
            return _error("channel_not_found")
        listed = self._listed(self._top_level(channel), args)
        # Pages as Slack cuts them, newest first: ``limit`` (default 100) a page, an opaque cursor for the next.
        limit = max(1, min(999, int(args.get("limit") or 100)))
        start = int(base64.b64decode(str(args.get("cursor") or "")) or b"0")
        end = start + limit
        more = end < len(listed)
        next_cursor = base64.b64encode(str(end).encode()).decode() if more else ""
        return _ok(messages=listed[start:end], has_more=more, response_metadata={"next_cursor": next_cursor})

    def _conversations_replies(self, args: Args) -> Reply:
        channel = self._channel_id(args.get("channel"))
        ts = str(args.get("ts") or "")
        if channel is None or channel != str(args.get("channel")):
            return _error("channel_not_found")
        parent = self.shared_message(ts)
        if parent is None or parent.channel != channel:
            return _error("thread_not_found")
        return _ok(messages=self._listed([parent, *self.thread(ts)], args), has_more=False)

    def _post_ephemeral(self, args: Args) -> Reply:
        if not args.get("user"):
            return _error("user_not_in_channel")
        return self._store("chat.postEphemeral", args)

    def _update(self, args: Args) -> Reply:
        current = self.shared_message(str(args.get("ts") or ""))
        channel = self._channel_id(args.get("channel"))
        if channel is not None and channel != str(args.get("channel")):  # chat.update takes ids only
            return _error("channel_not_found")
        if current is None or current.channel != channel:
            return _error("message_not_found" if channel is not None else "channel_not_found")
        return self._store("chat.update", args, ts=current.ts, thread_ts=current.thread_ts)

    def _store(self, method: str, args: Args, *, ts: str | None = None, thread_ts: str | None = None) -> Reply:
        channel = self._channel_id(args.get("channel"))
        if channel is None:
            return _error("channel_not_found")
        if channel in self.not_joined:
            return _error("not_in_channel")
        text = str(args.get("text") or "")
        try:
            blocks = args.get("blocks") or []
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks  # form bodies carry JSON strings
        except ValueError:
            return _error("invalid_blocks_format")
        if not text and not blocks:
            return _error("no_text")
        if len(text) > MAX_TEXT:
            return _error("msg_too_long")
        problems = block_problems(blocks)
        if problems:
            return _error("invalid_blocks", errors=problems, response_metadata={"messages": problems})
        with self._state:
            self._seq += 1
            ts = ts or self._new_ts()
            thread_ts = thread_ts or (str(args["thread_ts"]) if args.get("thread_ts") else None)
            user = str(args["user"]) if method == "chat.postEphemeral" else None
            self.messages.append(SlackMessage(method, channel, ts, text, blocks, thread_ts, user, dict(args)))
        if method == "chat.postEphemeral":
            return _ok(message_ts=ts)
        message: dict[str, Any] = {
            "type": "message",
            "text": text,
            "user": self.BOT_USER_ID,
            "bot_id": self.BOT_ID,
            "ts": ts,
        }
        message.update({"team": self.TEAM_ID, **({"blocks": blocks} if blocks else {})})
        if thread_ts:
            message["thread_ts"] = thread_ts
        return _ok(channel=channel, ts=ts, text=text, message=message)

    def _upload_url(self, args: Args) -> Reply:
        filename = str(args.get("filename") or "")
        try:
            length = int(args.get("length") or 0)
        except ValueError:
            length = 0
        if not filename or length <= 0:
            return _error("invalid_arguments")
        with self._state:
            self._seq += 1
            file_id = f"F{self._seq:08d}"
            self._pending[file_id] = {"filename": filename, "length": length, "content": None}
        return _ok(upload_url=f"{self.url}{UPLOAD_PATH}{file_id}", file_id=file_id)

    def _receive_upload(self, request: Recorded) -> Reply:
        """The POST of a file's bytes to its upload URL (no token: the URL itself is the permission, as on Slack)."""
        file_id = request.path[len(UPLOAD_PATH) :]
        with self._state:
            pending = self._pending.get(file_id)
            if request.method != "POST" or pending is None or pending["content"] is not None:
                return Reply(404, b"not found")
            pending["content"] = request.body
        return Reply(200, f"OK - {len(request.body)}".encode(), {"Content-Type": "text/plain"})

    def _complete_upload(self, args: Args) -> Reply:
        try:
            listed = json.loads(str(args.get("files") or "[]"))
        except ValueError:
            return _error("invalid_json")
        if not isinstance(listed, list) or not listed or not all(isinstance(f, dict) for f in listed):
            return _error("invalid_arguments")
        channel = self._channel_id(args.get("channel_id"))
        if args.get("channel_id") and channel is None:
            return _error("channel_not_found")
        if channel is not None and channel in self.not_joined:
            return _error("not_in_channel")
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts is not None:
            parent = self.shared_message(thread_ts)
            if channel is None or parent is None or parent.channel != channel:
                return _error("invalid_thread_ts")
        with self._state:
            known = [self._pending.get(str(f.get("id"))) for f in listed]
            if any(p is None or p["content"] is None or len(p["content"]) != p["length"] for p in known):
                return _error("file_not_found")  # never uploaded, or not the length announced
            done = []
            for item, pending in zip(listed, known, strict=True):
                assert pending is not None
                file_id = str(item["id"])
                title = str(item.get("title") or pending["filename"])
                comment = str(args["initial_comment"]) if args.get("initial_comment") else None
                content, name = pending["content"], pending["filename"]
                self.files.append(SlackFile(file_id, name, title, content, channel or "", thread_ts, comment))
                del self._pending[file_id]
                done.append({"id": file_id, "name": pending["filename"], "title": title})
        return _ok(files=done)

    def _new_ts(self) -> str:
        if self._first_ts is None:
            micros = self._last_micros = max(int(time.time() * 1_000_000), self._last_micros + 100)
        else:
            micros = self._first_ts * 1_000_000 + self._seq * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel_id(self, channel: Any) -> str | None:
        key = str(channel or "").strip()
        if key.startswith("#"):
            return self.channels.get(key[1:])
        if key in self.channels.values():
            return key
        return self.channels.get(key)


def block_problems(blocks: Any) -> list[str]:
    """What Slack would say is wrong with ``blocks`` (empty when they are fine), json-pointer and all."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        problems += _block_problems(block, f"/blocks/{i}")
    return problems


def _block_problems(block: Any, at: str) -> list[str]:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return [f"[ERROR] unsupported type [json-pointer:{at}/type]"]
    problems = _too_long(block.get("block_id"), LIMITS["id"], f"{at}/block_id")
    kind = block["type"]
    if kind == "header":
        problems += _text_problems(block.get("text"), LIMITS["header"], f"{at}/text", plain_only=True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            problems.append(f"[ERROR] must provide either text or fields [json-pointer:{at}]")
        if "text" in block:
            problems += _text_problems(block["text"], LIMITS["section"], f"{at}/text")
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 10:
            problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{at}/fields]")
        else:
            for j, item in enumerate(fields):
                problems += _text_problems(item, LIMITS["field"], f"{at}/fields/{j}")
        if "accessory" in block:
            problems += _element_problems(block["accessory"], f"{at}/accessory")
    elif kind in ("context", "actions"):
        elements = block.get("elements")
        most = 10 if kind == "context" else 25
        if not isinstance(elements, list) or not 1 <= len(elements) <= most:
            return [*problems, f"[ERROR] must have 1 to {most} items [json-pointer:{at}/elements]"]
        for j, element in enumerate(elements):
            where = f"{at}/elements/{j}"
            is_text = isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn")
            problems += _text_problems(element, 3000, where) if is_text else _element_problems(element, where)
    return problems


def _element_problems(element: Any, at: str) -> list[str]:
    if not isinstance(element, dict):
        return [f"[ERROR] must be an object [json-pointer:{at}]"]
    problems = _too_long(element.get("action_id"), LIMITS["id"], f"{at}/action_id")
    if element.get("type") == "button":
        problems += _text_problems(element.get("text"), LIMITS["button"], f"{at}/text", plain_only=True)
        problems += _too_long(element.get("value"), LIMITS["value"], f"{at}/value")
        problems += _too_long(element.get("url"), LIMITS["url"], f"{at}/url")
    return problems


def _text_problems(obj: Any, limit: int, at: str, *, plain_only: bool = False) -> list[str]:
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if not isinstance(obj, dict) or obj.get("type") not in kinds or not isinstance(obj.get("text"), str):
        return [f"[ERROR] must be a {' or '.join(kinds)} text object [json-pointer:{at}]"]
    if not obj["text"]:
        return [f"[ERROR] must be more than 0 characters [json-pointer:{at}/text]"]
    return _too_long(obj["text"], limit, f"{at}/text")


def _too_long(value: Any, limit: int, at: str) -> list[str]:
    if value is not None and len(str(value)) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{at}]"]
    return []


def _arguments(request: Recorded) -> Args:
    """Query string, then the JSON or form body, as one dict (the last value wins, as on Slack)."""
    args: Args = {k: v[-1] for k, v in request.query.items() if v}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not request.body:
        return args
    if kind == "application/json":
        try:
            body = json.loads(request.body)
        except ValueError:
            raise ValueError("invalid_json") from None
        if not isinstance(body, dict):
            raise ValueError("invalid_json")
        return {**args, **body}
    if kind in ("application/x-www-form-urlencoded", ""):
        form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        return {**args, **{k: v[-1] for k, v in form.items()}}
    raise ValueError("invalid_form_data")


def _ok(**data: Any) -> Reply:
    return Reply.json({"ok": True, **data})


def _error(code: str, **extra: Any) -> Reply:
    return Reply.json({"ok": False, "error": code, **extra})
