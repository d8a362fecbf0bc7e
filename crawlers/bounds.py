"""What keeps one HTTP answer bounded: its size while it is inflated, and its time from first byte to last."""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
import zlib
from collections.abc import Mapping
from typing import Any, ClassVar

from store.errors import SourceParseError


class Inflater:
    """A body's Content-Encoding undone a bounded step at a time, refused once it passes ``limit`` bytes:
    httpx inflates each network read whole, so 64 KB of gzip would become 64 MB before any cap could look."""

    WBITS: ClassVar[dict[str, int]] = {
        "gzip": zlib.MAX_WBITS | 16,
        "x-gzip": zlib.MAX_WBITS | 16,
        "deflate": zlib.MAX_WBITS,
    }

    def __init__(self, encoding: str, limit: int, what: str) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip().lower() not in ("", "identity")]
        if len(codings) > 1 or any(c not in self.WBITS for c in codings):
            raise SourceParseError(f"{what} came with Content-Encoding {encoding!r}, which is not read")
        self.inflate = zlib.decompressobj(self.WBITS[codings[0]]) if codings else None
        self.limit = limit
        self.what = what
        self.body = bytearray()
        self.fed = False  # a 304 or a HEAD answer names its encoding and has no body at all

    def feed(self, data: bytes) -> None:
        if self.inflate is None:
            self._keep(data)
            return
        self.fed = self.fed or bool(data)
        while data:
            try:
                self._keep(self.inflate.decompress(data, self.limit + 1 - len(self.body)))
            except zlib.error as exc:
                raise SourceParseError(f"{self.what}: the compressed body is corrupt ({exc})") from exc
            data = self.inflate.unconsumed_tail

    def finish(self) -> bytes:
        if self.inflate is not None:
            self._keep(self.inflate.flush(self.limit + 1 - len(self.body)))
            if self.fed and not self.inflate.eof:  # cut short where no length told: a page in part is not the page
                raise SourceParseError(f"{self.what}: the compressed body ends early")
        return bytes(self.body)

    def _keep(self, data: bytes) -> None:
        self.body += data
        if len(self.body) > self.limit:
            raise SourceParseError(f"{self.what} is over the {self.limit}-byte limit")


class Deadline:
    """Cuts the connections of a request that is not over within ``seconds``: a server trickling a byte now and
    then never trips a read timeout. A cut socket ends the blocked read, which the caller reports as a timeout."""

    def __init__(self, seconds: float, streams: weakref.WeakSet[Any]) -> None:
        self.streams = streams
        self.fired = False
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpcore's trace hook: keep each connection this request opens, to cut it if need be."""
        if event == "connection.connect_tcp.complete" and info.get("return_value") is not None:
            self.streams.add(info["return_value"])

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def _cut(self) -> None:
        self.fired = True
        for stream in list(self.streams):  # a client serves one crawl at a time: whichever is open is this one
            sock = stream.get_extra_info("socket")
            with contextlib.suppress(OSError, AttributeError):  # closed already
                sock.shutdown(socket.SHUT_RDWR)
