"""Stored entries, bounded watch history and the per-connection watch and log-follow buffers.

An object is stored once as JSON bytes (without kind/apiVersion, as list items are
served); watch events reuse those bytes, so fanning one change out to several
watchers costs one concatenation, not one encoding per watcher.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from tui.demo.kube_api.selectors import FieldSelector, LabelSelector

RV_KEY = b'"resourceVersion":"'


@dataclass(slots=True, eq=False)
class Entry:
    """One stored object: its JSON body plus what selectors and updates need without decoding."""

    namespace: str
    name: str
    rv: int
    body: bytes                      # {"metadata":…,"spec":…} — no kind/apiVersion
    labels: dict[str, str]
    fields: tuple[str, ...]
    uid: str = ""
    created: str = ""
    generation: int = 0


def restamp(body: bytes, rv: int) -> bytes:
    """The same object with another metadata.resourceVersion (the last state of a DELETED event)."""
    obj = json.loads(body)
    obj.setdefault("metadata", {})["resourceVersion"] = str(rv)
    return json.dumps(obj, separators=(",", ":")).encode()


class WatchEvent:
    """One change in history; its wire lines are built once, on first use."""

    __slots__ = ("_lines", "entry", "kind", "old", "rv", "type")

    def __init__(self, kind: str, rv: int, type_: str, entry: Entry, old: Entry | None) -> None:
        self.kind = kind
        self.rv = rv
        self.type = type_
        self.entry = entry
        self.old = old
        self._lines: dict[str, bytes] = {}

    def line(self, type_: str, prefix: bytes) -> bytes:
        """`{"type":…,"object":…}\\n`; a DELETED made of a MODIFIED carries the old state."""
        cached = self._lines.get(type_)
        if cached is None:
            body = self.entry.body
            if type_ == "DELETED" and self.type == "MODIFIED" and self.old is not None:
                body = restamp(self.old.body, self.rv)
            cached = b'{"type":"' + type_.encode() + b'","object":' + prefix + body[1:] + b"}\n"
            self._lines[type_] = cached
        return cached


class KindHistory:
    """The last `size` events of one kind, and the newest resourceVersion no longer covered."""

    __slots__ = ("events", "floor")

    def __init__(self, size: int) -> None:
        self.events: deque[WatchEvent] = deque(maxlen=max(1, size))
        self.floor = 0

    def append(self, event: WatchEvent) -> None:
        if len(self.events) == self.events.maxlen:
            self.floor = self.events[0].rv
        self.events.append(event)

    def since(self, rv: int) -> list[WatchEvent] | None:
        """Events after `rv` in order, or None when `rv` is older than what is kept."""
        if rv < self.floor:
            return None
        out = []
        for event in reversed(self.events):
            if event.rv <= rv:
                break
            out.append(event)
        out.reverse()
        return out

    def compact(self, rv: int) -> None:
        self.events.clear()
        self.floor = rv


def bookmark_line(kind: str, api_version: str, rv: int, initial_end: bool = False) -> bytes:
    meta: dict[str, object] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": kind, "apiVersion": api_version, "metadata": meta}
    return json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")).encode() + b"\n"


class Subscriber:
    """One open watch: filters events, buffers their lines and wakes its writer (loop thread only)."""

    __slots__ = ("buffer", "closed", "fields", "labels", "max_buffer", "namespace", "overflowed",
                 "prefix", "start_rv", "wake")

    def __init__(self, prefix: bytes, namespace: str | None, labels: LabelSelector | None,
                 fields: FieldSelector | None, start_rv: int, max_buffer: int = 200_000) -> None:
        self.prefix = prefix
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.start_rv = start_rv
        self.max_buffer = max_buffer
        self.buffer: list[bytes] = []
        self.wake = asyncio.Event()
        self.closed = False
        self.overflowed = False

    def wants(self, entry: Entry) -> bool:
        if self.namespace is not None and entry.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(entry.labels):
            return False
        return self.fields is None or self.fields.matches(entry.namespace, entry.name, entry.fields)

    def initial(self, entries: Iterable[Entry]) -> Iterable[bytes]:
        for entry in entries:
            if self.wants(entry):
                yield b'{"type":"ADDED","object":' + self.prefix + entry.body[1:] + b"}\n"

    def offer(self, event: WatchEvent) -> None:
        if self.closed or event.rv <= self.start_rv:
            return
        if self.namespace is not None and event.entry.namespace != self.namespace:
            return
        now = self.wants(event.entry)
        type_ = event.type
        if type_ == "MODIFIED" and (self.labels is not None or self.fields is not None):
            before = event.old is not None and self.wants(event.old)
            if now and not before:
                type_ = "ADDED"
            elif before and not now:
                type_, now = "DELETED", True
        if not now:
            return
        self.push(event.line(type_, self.prefix))

    def push(self, line: bytes) -> None:
        self.buffer.append(line)
        if len(self.buffer) > self.max_buffer:
            # The real cacher drops a watcher that cannot keep up; the client re-watches.
            self.overflowed = True
            self.close()
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class LogFollower:
    """One `follow=true` log stream of one container (loop thread only)."""

    __slots__ = ("buffer", "closed", "container", "timestamps", "wake")

    def __init__(self, container: str, timestamps: bool) -> None:
        self.container = container
        self.timestamps = timestamps
        self.buffer: list[bytes] = []
        self.wake = asyncio.Event()
        self.closed = False

    def offer(self, lines: Iterable[tuple[str, str]]) -> None:
        if self.closed:
            return
        self.buffer.append(format_log(lines, self.timestamps))
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


def format_log(lines: Iterable[tuple[str, str]], timestamps: bool) -> bytes:
    if timestamps:
        return "".join(f"{ts} {text}\n" for ts, text in lines).encode()
    return "".join(f"{text}\n" for _, text in lines).encode()
