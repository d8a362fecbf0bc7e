"""A local server that misbehaves on purpose (hangs, resets, trickles, bombs, loops), then behaves again."""

from __future__ import annotations

import contextlib
import gzip
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from loopback.server import LoopbackServer, Recorded, Reply

Handler = Callable[[Recorded], Reply]
Matcher = Callable[[Recorded], bool]
CHUNK = 64 * 1024
MAX_HEAD = 64 * 1024  # a request head larger than this is not one our clients send
PHRASES = {s.value: s.phrase for s in HTTPStatus}


@dataclass(frozen=True)
class Hang:
    """Take the request, answer nothing for ``seconds`` (or until the client or the server goes)."""

    seconds: float = 60.0


@dataclass(frozen=True)
class Reset:
    """Send the first ``after`` bytes of the real answer, then reset the connection (TCP RST)."""

    after: int = 0


@dataclass(frozen=True)
class Status:
    """Answer with this status instead of the real answer: a 5xx burst, a 429 storm."""

    code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class Trickle:
    """The real answer ``size`` bytes every ``interval`` s: every read gets something, so no read timeout fires.
    ``in_headers``: the status line, then header bytes that never end (the body is never reached)."""

    interval: float = 0.05
    size: int = 1
    in_headers: bool = False


@dataclass(frozen=True)
class GzipBomb:
    """A 200 whose gzip body is a few KB on the wire and ``expanded`` bytes of spaces once inflated."""

    expanded: int = 20_000_000
    content_type: str = "application/json"


@dataclass(frozen=True)
class Oversized:
    """A 200 with ``size`` bytes of body and no Content-Length (it ends when the connection does), or
    ``chunked``; sent as the client reads it, so ``body_bytes_sent`` tells how much it took before it hung up."""

    size: int = 1_000_000_000
    chunked: bool = False


@dataclass(frozen=True)
class RedirectLoop:
    """302 from a path to the same path with ``?hop=1`` and back: the client goes round for ever."""

    status: int = 302


Fault = Hang | Reset | Status | Trickle | GzipBomb | Oversized | RedirectLoop


@dataclass
class _Queued:
    fault: Fault
    times: int | None  # None: until behave()
    path: str | None
    when: Matcher | None

    def matches(self, request: Recorded) -> bool:
        in_path = self.path is None or request.path.startswith(self.path)
        return in_path and (self.when is None or self.when(request))


class HostileServer:
    """A raw-socket HTTP/1.1 server on 127.0.0.1, port 0, in front of ``upstream`` (a running LoopbackServer,
    whose own URL is rewritten to this one's in answers, or a plain handler): faults queued with
    :meth:`misbehave` answer the requests they match, the others get the upstream's real answer.
    """

    def __init__(self, upstream: LoopbackServer | Handler | None = None) -> None:
        self.upstream = upstream
        self.requests: list[Recorded] = []
        self.body_bytes_sent = 0  # body bytes written under GzipBomb, Oversized and Trickle
        self._queue: list[_Queued] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None

    # -- what tests use --------------------------------------------------
    def misbehave(
        self, fault: Fault, *, times: int | None = None, path: str | None = None, when: Matcher | None = None
    ) -> None:
        """Answer the next ``times`` matching requests (every one until :meth:`behave` when None) with ``fault``;
        ``path`` is a path prefix, ``when`` a test on the request."""
        with self._lock:
            self._queue.append(_Queued(fault, times, path, when))

    def behave(self) -> None:
        """Drop every queued fault: from now on the upstream answers."""
        with self._lock:
            self._queue.clear()

    def received(self, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if path is None or r.path == path]

    # -- lifecycle -------------------------------------------------------
    def start(self) -> Self:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        threading.Thread(target=self._accept, name="HostileServer", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for conn in list(self._open):
                with contextlib.suppress(OSError):  # already gone
                    conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._listener is None:
            raise RuntimeError("server is not running")
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    # -- serving ---------------------------------------------------------
    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            with self._lock:
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while not self._stopped.is_set():
                request, buffer = _read_request(conn, buffer, self._stopped)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                    fault = self._take(request)
                if fault is None:
                    conn.sendall(_encode(self._answer(request)))
                    continue
                if not self._misbehave(conn, request, fault):
                    return
        except OSError:
            return  # the client hung up: expected when it gives up on us
        finally:
            with self._lock:
                self._open.discard(conn)
            conn.close()

    def _take(self, request: Recorded) -> Fault | None:
        for queued in self._queue:
            if queued.matches(request):
                if queued.times is not None:
                    queued.times -= 1
                    if queued.times <= 0:
                        self._queue.remove(queued)
                return queued.fault
        return None

    def _answer(self, request: Recorded) -> Reply:
        if self.upstream is None:
            return Reply(404, b"not found")
        if isinstance(self.upstream, LoopbackServer):
            reply = self.upstream.handle(request)
            theirs, ours = self.upstream.url.encode(), self.url.encode()
            headers = {k: v.replace(theirs.decode(), ours.decode()) for k, v in reply.headers.items()}
            return Reply(reply.status, reply.body.replace(theirs, ours), headers)
        return self.upstream(request)

    def _misbehave(self, conn: socket.socket, request: Recorded, fault: Fault) -> bool:
        """Serve ``fault``; whether the connection may carry another request."""
        match fault:
            case Status(code, headers, body):
                conn.sendall(_encode(Reply(code, body, dict(headers))))
                return True
            case RedirectLoop(status):
                target = request.path if request.query.get("hop") else f"{request.path}?hop=1"
                conn.sendall(_encode(Reply(status, b"", {"Location": target})))
                return True
            case Hang(seconds):
                _wait_for_hangup(conn, seconds, self._stopped)
            case Reset(after):
                if after:
                    conn.sendall(_encode(self._answer(request))[:after])
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            case Trickle(interval, size, in_headers):
                data = b"HTTP/1.1 200 OK\r\n" if in_headers else _encode(self._answer(request))
                self._trickle(conn, data, interval, size, endless=in_headers)
            case GzipBomb(expanded, content_type):
                body = gzip_bomb_body(expanded)
                head = {"Content-Type": content_type, "Content-Encoding": "gzip", "Connection": "close"}
                conn.sendall(_encode(Reply(200, body, head)))
                self.body_bytes_sent += len(body)
            case Oversized(size, chunked):
                self._flood(conn, size, chunked)
        return False

    def _trickle(self, conn: socket.socket, data: bytes, interval: float, size: int, *, endless: bool) -> None:
        sent = 0
        while not self._stopped.is_set() and (endless or sent < len(data)):
            piece = data[sent : sent + size] if sent < len(data) else b"X" * size  # endless: a header that never ends
            conn.sendall(piece)
            sent += len(piece)
            self.body_bytes_sent += len(piece)
            if self._stopped.wait(interval):
                return

    def _flood(self, conn: socket.socket, size: int, chunked: bool) -> None:
        framing = "Transfer-Encoding: chunked" if chunked else "Connection: close"
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{framing}\r\n\r\n".encode())
        conn.settimeout(5.0)  # a client that stops reading without hanging up: give up on it
        block = b"<p>" + b"x" * (CHUNK - 7) + b"</p>"
        left = size
        while left > 0 and not self._stopped.is_set():
            piece = block[: min(left, CHUNK)]
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            left -= len(piece)
            self.body_bytes_sent += len(piece)
        if chunked:
            conn.sendall(b"0\r\n\r\n")


def _read_request(conn: socket.socket, buffer: bytes, stopped: threading.Event) -> tuple[Recorded | None, bytes]:
    """The next request on ``conn`` (None when the client closed it) and what was read past it."""
    while b"\r\n\r\n" not in buffer:
        if stopped.is_set() or len(buffer) > MAX_HEAD:
            return None, b""
        ready, _, _ = select.select([conn], [], [], 0.05)
        if not ready:
            continue
        data = conn.recv(CHUNK)
        if not data:
            return None, b""
        buffer += data
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        data = conn.recv(CHUNK)
        if not data:
            return None, b""
        rest += data
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    recorded = Recorded(method, parts.path, query, headers, rest[:length], received_at=time.time())
    return recorded, rest[length:]


def _encode(reply: Reply) -> bytes:
    lines = [f"HTTP/1.1 {reply.status} {PHRASES.get(reply.status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in reply.headers.items() if k.lower() != "content-length"]
    lines.append(f"Content-Length: {len(reply.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body


def _wait_for_hangup(conn: socket.socket, seconds: float, stopped: threading.Event) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not stopped.is_set():
        ready, _, _ = select.select([conn], [], [], 0.05)
        if ready and not conn.recv(CHUNK):
            return  # the client gave up and closed


@lru_cache(maxsize=4)
def gzip_bomb_body(expanded: int) -> bytes:
    """``expanded`` spaces gzipped: about a thousandth of the size (spaces are valid JSON and HTML padding)."""
    return gzip.compress(b" " * expanded, compresslevel=9, mtime=0)
