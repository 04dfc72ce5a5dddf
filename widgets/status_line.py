"""One line with each data source's health and the age of its data.

Sources named `family.member` (aws.ec2, aws.rds, …; k8s.pods, k8s.nodes, …)
share one entry named for the family, showing the worst health among them: six
AWS services and five Kubernetes views would not fit in 80 columns, and the
operator first wants to know whether AWS, or the cluster, is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rich.text import Text
from textual.widgets import Static

from config.redaction import redact as redact_shapes

HEALTH_STYLE = {"ok": "green", "stale": "yellow", "partial": "yellow", "error": "bold red", "pending": "dim"}
HEALTH_MARK = {"ok": "●", "stale": "◐", "partial": "◑", "error": "✖", "pending": "○"}
HEALTH_RANK = {"ok": 0, "pending": 1, "stale": 2, "partial": 3, "error": 4}
"""Worse health ranks higher; a family shows its worst member."""


@dataclass(frozen=True)
class SourceStatus:
    name: str
    health: str
    age_text: str
    error: str | None = None
    share: str = ""
    """For a family: how many members are in this health ("2/6")."""


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $boost; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown: tuple[SourceStatus, ...] = ()

    def _redactor(self) -> Callable[[str], str]:
        try:
            redact = getattr(self.app, "redact", None)
        except Exception:  # no active app
            redact = None
        return redact if callable(redact) else redact_shapes

    def show(self, sources: Sequence[SourceStatus]) -> None:
        """Each source's health; its error message redacted (an error may quote a URL or a key)."""
        redact = self._redactor()
        sources = [replace(s, error=redact(s.error)) if s.error else s for s in sources]
        as_tuple = tuple(group_sources(sources))
        if as_tuple == self._shown:
            return
        self._shown = as_tuple
        self.update(render_sources(as_tuple), layout=False)  # height is fixed at 1


def group_sources(sources: Sequence[SourceStatus]) -> list[SourceStatus]:
    """One entry per family (the name before the first "."), in first-seen order.

    A family's entry carries its worst health, how many members share it
    (`error 2/6`) and the first of their errors, prefixed with the member.
    """
    families: dict[str, list[SourceStatus]] = {}
    for s in sources:
        families.setdefault(s.name.split(".", 1)[0], []).append(s)
    grouped = []
    for family, members in families.items():
        if len(members) == 1 and members[0].name == family:
            grouped.append(members[0])
            continue
        worst = max(members, key=lambda m: HEALTH_RANK.get(m.health, 0))
        sharing = [m for m in members if m.health == worst.health]
        share = f"{len(sharing)}/{len(members)}" if worst.health != "ok" and len(members) > 1 else ""
        first_error = next((m for m in sharing if m.error), None)
        error = f"{_member(first_error.name)}: {first_error.error}" if first_error else None
        ages = [m.age_text for m in sharing if m.age_text]
        grouped.append(SourceStatus(family, worst.health, ages[0] if ages else "", error, share))
    return grouped


def _member(name: str) -> str:
    return name.split(".", 1)[1] if "." in name else name


def render_sources(sources: Sequence[SourceStatus]) -> Text:
    """`host ● ok 1s │ aws ✖ error 2/6: ec2: timed out after 10s`"""
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    if not sources:
        out.append("no data sources configured — see `stacktop check`", style="dim")
        return out
    for i, s in enumerate(sources):
        if i:
            out.append(" │ ", style="dim")
        style = HEALTH_STYLE.get(s.health, "")
        out.append(f"{s.name} ")
        out.append(f"{HEALTH_MARK.get(s.health, '?')} {s.health}", style=style)
        if s.share:
            out.append(f" {s.share}", style=style)
        if s.age_text:
            out.append(f" {s.age_text}", style="dim")
        if s.error:
            out.append(f": {s.error}", style=style)
    return out
