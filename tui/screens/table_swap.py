"""Swapping a view's table for one with another column set (a resize, a new
context) without the operator noticing: same filter, same row under the cursor,
and the focus — unless they opened an input meanwhile."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from textual.widgets import Input

from widgets.resource_table import ResourceTable


async def swap_table(old: ResourceTable, new: ResourceTable, mount: Callable[[ResourceTable], Awaitable[Any]],
                     rows: Sequence[Any]) -> None:
    """Replace `old` by `new` (placed by `mount`), filled with `rows`."""
    focused, cursor, filter_text = old.has_focus, old.selected_key(), old.filter_text
    await old.remove()
    await mount(new)
    new.apply(rows)
    if filter_text:
        new.set_filter(filter_text)
    if cursor:
        new.move_cursor_to(cursor)
    # Not if the operator opened an input (`/`) while the table was swapped:
    # the keys they type next belong to it.
    if focused and not isinstance(new.app.focused, Input):
        new.focus()
