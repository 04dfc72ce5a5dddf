"""The provider contract: what every data source gives the runtime.

Providers never import Textual. They poll, return plain frozen data, and
declare the actions they can perform; the runtime and the UI do the rest.
"""

from __future__ import annotations

import dataclasses
import enum
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from providers.store import Store


@dataclass(frozen=True)
class Snapshot:
    """One poll's result. Subclasses add plain fields; `taken_at` is wall-clock UTC seconds."""

    taken_at: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data, used by `stacktop snapshot` and the audit of what was seen."""
        return _plain(self)

    def metrics(self) -> Mapping[str, float]:
        """Numeric series to append to the store (key -> value), e.g. "cpu.percent"."""
        return {}

    def alert_samples(self, provider: str) -> Iterable[Sample]:
        """What alert rules see of this snapshot: by default each metric as
        `<provider>.<key>` without labels (host.cpu.percent). Snapshots of many
        things (members, targets, instances) override it to name the thing in labels,
        so one rule covers them all: ha.lag_seconds{cluster="main",member="pg2"}."""
        return [Sample(f"{provider}.{key}", (), float(value), self.taken_at)
                for key, value in self.metrics().items()]


@dataclass(frozen=True, slots=True)
class Sample:
    """One value an alert rule can test: a metric path, its labels (sorted pairs) and when."""

    name: str
    labels: tuple[tuple[str, str], ...]
    value: float
    at: float

    def label(self, name: str) -> str:
        return next((v for k, v in self.labels if k == name), "")


def labels_of(**labels: str | None) -> tuple[tuple[str, str], ...]:
    """Sorted label pairs, leaving out the empty ones."""
    return tuple(sorted((k, v) for k, v in labels.items() if v))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


class Risk(enum.Enum):
    """What an action can break, which decides who may run it and how it is confirmed.

    SAFE changes nothing a user of the service notices (start, backup, silence): y/n.
    DISRUPTIVE interrupts service but loses no data (stop, reboot, switchover): the
    target's name is typed. DESTRUCTIVE can lose data or cannot be undone (failover,
    delete, prune, release an address): the name is typed, and only admins may run it.
    """

    SAFE = "safe"
    DISRUPTIVE = "disruptive"
    DESTRUCTIVE = "destructive"

    @property
    def required_role(self) -> str:
        """The lowest role that may run an action of this risk."""
        return "admin" if self is Risk.DESTRUCTIVE else "operator"

    @property
    def typed_confirmation(self) -> bool:
        """Whether the operator types the target's name rather than answering y/n."""
        return self is not Risk.SAFE


ROLE_ORDER = {"viewer": 0, "operator": 1, "admin": 2}
"""viewer reads only; operator runs safe and disruptive actions; admin runs all."""


def role_allows(role: str, risk: Risk) -> bool:
    """Whether `role` may run an action of `risk` (an unknown role may run nothing)."""
    return ROLE_ORDER.get(role, -1) >= ROLE_ORDER[risk.required_role]


@dataclass(frozen=True)
class ActionParameter:
    """A whole number the operator gives before confirming (e.g. replicas). The
    UI and the provider both validate through `parse`, so they cannot disagree."""

    name: str
    prompt: str
    minimum: int
    maximum: int
    current_detail: str = ""
    """The target detail holding the current value, shown next to the field."""

    def parse(self, text: str) -> int:
        """The value, or ValueError with one line saying what to type."""
        want = f"{self.name} must be a whole number from {self.minimum} to {self.maximum}"
        stripped = text.strip()
        if not stripped.lstrip("-").isdigit():
            raise ValueError(f"{want}, got {stripped!r}" if stripped else f"{want}; type one")
        value = int(stripped)
        if not self.minimum <= value <= self.maximum:
            raise ValueError(f"{want}, got {value}")
        return value


@dataclass(frozen=True)
class ActionChoice:
    """One of the target's `options` the operator picks before confirming (e.g. the
    switchover candidate); options with a reason are shown but cannot be picked."""

    name: str
    prompt: str


@dataclass(frozen=True)
class ActionOption:
    value: str
    label: str
    reason: str = ""
    """Why this option cannot be chosen now; "" when it can."""


@dataclass(frozen=True)
class TextParameter:
    """Free text the operator gives before confirming (e.g. when to switch over).
    `validate` returns the normalised value or raises ValueError with one line;
    the UI and the provider both call it."""

    name: str
    prompt: str
    validate: Callable[[str], str]
    placeholder: str = ""


@dataclass(frozen=True)
class ActionSpec:
    """A mutating operation, declared once: it yields the key binding, the footer
    hint, the palette command, the help line and the read-only check."""

    id: str
    key: str
    title: str
    description: str
    risk: Risk
    provider: str
    parameter: ActionParameter | None = None
    choice: ActionChoice | None = None
    text: TextParameter | None = None
    """Asked in this order before the gate's confirmation: choice, text, parameter."""

    @property
    def min_role(self) -> str:
        """Who may run it follows from its risk alone, so no spec can be mislabelled."""
        return self.risk.required_role


@dataclass(frozen=True)
class ActionTarget:
    """What an action will act on. `name` is what the operator types to confirm."""

    kind: str
    id: str
    name: str
    details: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    """What the operator chose (e.g. replicas=5): shown in the prompt and audited."""
    options: tuple[ActionOption, ...] = ()
    """What the spec's `choice` picks from, with the reason each ineligible one is not."""
    provider: str = ""
    """The provider that acts, when one spec serves several (one per HA cluster); else the spec's."""
    listing: tuple[str, ...] = ()
    """Lines the confirmation shows before asking, e.g. a prune's plan: each backup it
    deletes and why. What is listed is exactly what the action may touch."""


@dataclass(frozen=True)
class ActionResult:
    """The outcome shown to the operator and written to the audit log."""

    ok: bool
    message: str


ActionCallable = Callable[[ActionTarget], Awaitable[ActionResult]]


class Provider(ABC):
    """A data source polled by the runtime.

    `poll` must return a Snapshot; blocking SDK calls go through
    `self.run_blocking`, which the runtime binds to its bounded thread pool.
    """

    name: str
    interval: float
    timeout: float
    sample_window: float = 0.0
    """Shortest span that gives meaningful rates: the runtime polls again this soon
    after the first poll, and headless snapshots wait this long after `prime()`."""

    min_gap: float = 0.0
    """Shortest time between two polls when `wake` asks for them (watch-driven providers)."""

    def __init__(self, name: str, interval: float, timeout: float) -> None:
        self.name = name
        self.interval = interval
        self.timeout = timeout
        self.run_blocking: Callable[..., Awaitable[Any]] = _run_inline
        self.wake: Callable[[], None] = _no_wake
        """Ask for a poll soon; callable from any thread (a watch thread saw a change)."""

    def refresh_requested(self) -> None:
        """The operator asked for fresh data now (key r): a provider that runs parts of its
        work on their own schedules (HTTP checks each on its interval) runs them all on
        the next poll. Called before the runtime wakes it."""

    async def prime(self) -> None:
        """Take baselines (counters for rates) before a one-shot poll (`stacktop
        snapshot`); the polling loop uses its first poll as the baseline."""

    @abstractmethod
    async def poll(self) -> Snapshot:
        """Fetch fresh data. Raise on failure: the runtime records and backs off."""

    def bind_store(self, store: Store) -> None:
        """Called once by the runtime: providers that read the others' snapshots (the
        alert engine) keep the store; the rest ignore it."""

    def actions(self) -> list[ActionSpec]:
        """Mutating operations this provider offers."""
        return []

    def action_callable(self, action_id: str) -> ActionCallable:
        """The coroutine function that performs `action_id`."""
        raise KeyError(action_id)

    async def close(self) -> None:
        """Release sessions and sockets."""


def _no_wake() -> None:
    """Before a runtime binds `wake` there is no loop to wake."""


async def _run_inline(fn: Callable[..., Any], *args: Any) -> Any:
    """Fallback before a runtime binds the thread pool (used in unit tests only)."""
    return fn(*args)
