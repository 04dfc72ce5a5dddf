"""The one registry of keys. Bindings, footer hints, the help screen and the
command palette are all derived from it, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding

from providers.base import ActionSpec

TABS: tuple[tuple[str, str, str], ...] = (
    ("resources", "1", "Resources"),
    ("ha", "2", "HA"),
    ("backups", "3", "Backups"),
    ("alerts", "4", "Alerts"),
    ("costs", "5", "Costs"),
)


@dataclass(frozen=True)
class KeySpec:
    """One key: a stable id (users remap by id), the key, the Textual action,
    a description, where it works, and whether it changes anything."""

    id: str
    key: str
    action: str
    description: str
    scope: str = "global"
    show: bool = True
    mutating: bool = False


def global_keys() -> list[KeySpec]:
    keys = [
        KeySpec(f"tab.{tab_id}", key, f"show_tab('{tab_id}')", title, show=False)
        for tab_id, key, title in TABS
    ]
    keys += [
        KeySpec("app.help", "question_mark", "help", "Help"),
        KeySpec("app.filter", "slash", "filter", "Filter"),
        KeySpec("app.refresh", "r", "refresh", "Refresh"),
        KeySpec("app.palette", "ctrl+p", "command_palette", "Palette", show=False),
        KeySpec("app.quit", "q", "quit", "Quit"),
        KeySpec("resources.chart", "c", "chart_next", "Chart", scope="resources"),
    ]
    return keys


def action_keys(specs: Iterable[ActionSpec], scope: dict[str, str]) -> list[KeySpec]:
    """Keys for provider actions; `scope` maps an action id to the tab it works on."""
    return [
        KeySpec(s.id, s.key, f"run_action('{s.id}')", s.title, scope=scope.get(s.id, "global"),
                mutating=True)
        for s in specs
    ]


def to_bindings(keys: Iterable[KeySpec], read_only: bool) -> list[Binding]:
    """In read-only mode mutating keys stay bound (so pressing one explains the
    refusal) but are hidden from the footer."""
    return [
        Binding(k.key, k.action, k.description, show=k.show and not (read_only and k.mutating), id=k.id)
        for k in keys
    ]


def display_key(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "pageup": "PgUp", "pagedown": "PgDn"}.get(key, key)


def widget_key_rows(bindings: Iterable[Binding], scope: str) -> list[tuple[str, str, str]]:
    """Help lines for a widget's own BINDINGS, so the help lists table keys too."""
    rows = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            rows.append((display_key(b.key), b.description, scope))
    return rows


def help_rows(keys: Iterable[KeySpec], read_only: bool) -> list[tuple[str, str, str]]:
    rows = []
    for k in keys:
        what = k.description
        if k.mutating and read_only:
            what += " (refused: read-only)"
        rows.append((display_key(k.key), what, k.scope))
    return rows
