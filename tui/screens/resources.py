"""The Resources tab: a view bar and one view per configured source (Host,
HTTP checks, EC2, EBS, RDS, S3, Lambda, ELB, and the Kubernetes Nodes,
Workloads, Pods, Events and PVCs).

A view is built when first shown and only the shown one redraws; hidden ones
catch up when shown. The bar's counts come straight from the store (a length
and a flag per source), so they stay current without touching hidden views.
The tab also holds the namespace the Kubernetes views are narrowed to: one
choice for all of them, kept while the app runs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget

from providers.aws.snapshot import AwsSnapshot
from providers.base import ActionTarget
from providers.http_model import DOWN, HttpChecksSnapshot
from providers.k8s.snapshot import KubeSnapshot
from providers.runtime import ProviderState
from providers.store import Store
from tui.keymap import ViewInfo
from tui.screens.aws_view import AwsView
from tui.screens.aws_views import SERVICES
from tui.screens.host_view import HostView
from tui.screens.http_view import HttpView
from tui.screens.kube_view import KubeView
from tui.screens.kube_views import KUBE_VIEWS, KubeViewSpec, visible_records
from widgets.resource_table import ResourceTable
from widgets.view_bar import ViewBar, ViewTab

DETAILS_MIN_SCREEN_HEIGHT = 32
"""From this many rows up the detail pane is shown without asking (`i` toggles)."""


def kube_spec(view_id: str) -> KubeViewSpec | None:
    """The Kubernetes view behind a view id (`k8s-pods` -> PODS)."""
    return KUBE_VIEWS.get(view_id[4:]) if view_id.startswith("k8s-") else None


def view_action_ids(view_id: str) -> tuple[str, ...]:
    """Actions whose target is picked in this view (its selected row)."""
    if view_id == "host":
        return HostView.ACTION_IDS
    if (kube := kube_spec(view_id)) is not None:
        return kube.action_ids
    service = SERVICES.get(view_id)
    return service.action_ids if service else ()


def bar_cells(tabs: Sequence[ViewTab], active: str | None) -> int:
    """Cells the ViewBar needs for `tabs` (its padding, separators and highlight)."""
    cells = 2 + 3 * max(0, len(tabs) - 1)
    for t in tabs:
        cells += len(t.key) + 1 + len(t.title) + (1 + len(t.count) if t.count else 0) + int(t.problem)
        cells += 2 if t.id == active else 0
    return cells


def fit_tabs(tabs: Sequence[ViewTab], active: str | None, groups: Mapping[str, str],
             width: int) -> list[ViewTab]:
    """Host, six AWS and five Kubernetes views do not fit one line: give up the
    names of the views the operator is not in (other groups first: `e 60`), then
    their counts, until the bar fits. The shown view keeps its name; every key
    and red mark stays, and the help and the palette still name every view."""
    group = groups.get(active or "", "")

    def unnamed(t: ViewTab) -> ViewTab:
        return dataclasses.replace(t, title=t.count, count="")

    squeezed: set[str] = set()
    for step in (lambda t: groups.get(t.id, "") != group, lambda t: True):
        fitted = [unnamed(t) if t.id in squeezed else t for t in tabs]
        if bar_cells(fitted, active) <= width:
            return fitted
        squeezed |= {t.id for t in tabs if t.id != active and step(t)}
    fitted = [unnamed(t) if t.id in squeezed else t for t in tabs]
    if bar_cells(fitted, active) <= width:
        return fitted
    return [t if t.id == active else dataclasses.replace(t, title="", count="") for t in tabs]


def action_scopes(views: Sequence[ViewInfo]) -> dict[str, str]:
    """action id -> the scope (view) it works in: `aws.ec2.stop` -> `resources.ec2`."""
    return {action: view.scope for view in views for action in view_action_ids(view.id)}


class ResourcesTab(Vertical):
    DEFAULT_CSS = """
    ResourcesTab > ViewBar { background: $boost; }
    """

    class ViewChanged(Message):
        """Another view is shown: keys, focus and the filter bar follow it."""

        def __init__(self, view_id: str) -> None:
            super().__init__()
            self.view_id = view_id

    def __init__(self, store: Store, states: Mapping[str, ProviderState], views: Sequence[ViewInfo], *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        if not views:
            raise ValueError("the Resources tab needs at least one view")
        self.store = store
        self.states = states
        self.views = tuple(views)
        self._info = {v.id: v for v in self.views}
        self._active = self.views[0].id
        self._built: dict[str, Widget] = {}
        self.details: bool | None = None
        """The operator's choice for detail panes; None: shown on tall terminals."""
        self.namespace: str | None = None
        """The namespace the Kubernetes views show; None: all of them."""

    def compose(self) -> ComposeResult:
        bar = ViewBar(id="view-bar")
        bar.display = len(self.views) > 1  # one view: nothing to pick, no line spent
        yield bar
        yield self._build(self._active)

    def _build(self, view_id: str) -> Widget:
        view: Widget
        if view_id == "host":
            view = HostView(self.store, id="view-host")
        elif view_id == "http":
            view = HttpView(self.store, self.states, provider=self._info[view_id].provider,
                            details=self._details_wanted(), id="view-http")
        elif (kube := kube_spec(view_id)) is not None:
            view = KubeView(kube, self.store, self.states, namespace=self.namespace,
                            details=self._details_wanted(), id=f"view-{view_id}")
        else:
            view = AwsView(SERVICES[view_id], self.store, self.states, details=self._details_wanted(),
                           id=f"view-{view_id}")
        self._built[view_id] = view
        return view

    def _details_wanted(self) -> bool:
        if self.details is not None:
            return self.details
        return self.app.size.height >= DETAILS_MIN_SCREEN_HEIGHT

    # -- which view -------------------------------------------------------------------

    @property
    def active_id(self) -> str:
        return self._active

    @property
    def active_view(self) -> Widget:
        return self._built[self._active]

    def view(self, view_id: str) -> Widget | None:
        """The view if it was built (shown at least once)."""
        return self._built.get(view_id)

    def host_view(self) -> HostView | None:
        view = self._built.get("host")
        return view if isinstance(view, HostView) else None

    def active_scopes(self) -> set[str]:
        """Where the operator is: the tab, the view, and the view's group."""
        info = self._info[self._active]
        return {"resources", info.scope, *([info.group] if info.group else [])}

    def active_table(self) -> ResourceTable | None:
        tables = self.active_view.query(ResourceTable)
        return tables.first() if tables else None

    async def show_view(self, view_id: str) -> None:
        """Show `view_id`, building it the first time; it catches up with the store."""
        if view_id not in self._info:
            raise KeyError(view_id)
        if view_id == self._active:
            return
        with self.app.batch_update():
            for view in self._built.values():
                view.display = False
            view = self._built.get(view_id)
            if view is None:
                await self.mount(self._build(view_id))
            else:
                view.display = True
        self._active = view_id
        self.update_from_store()
        self.post_message(self.ViewChanged(view_id))

    async def cycle(self, step: int) -> None:
        ids = [v.id for v in self.views]
        await self.show_view(ids[(ids.index(self._active) + step) % len(ids)])

    async def on_view_bar_selected(self, event: ViewBar.Selected) -> None:
        await self.show_view(event.view_id)

    # -- data --------------------------------------------------------------------------

    def update_from_store(self) -> None:
        """The bar's counts, and the shown view (each redraws only what changed)."""
        self._show_bar()
        view = self.active_view
        if isinstance(view, HostView | AwsView | KubeView | HttpView):
            view.update_from_store()

    def _show_bar(self) -> None:
        width = self.size.width or self.app.size.width
        groups = {v.id: v.group for v in self.views}
        tabs = fit_tabs([self._tab(v) for v in self.views], self._active, groups, width)
        self.query_one(ViewBar).show(tabs, self._active)

    def _tab(self, info: ViewInfo) -> ViewTab:
        state = self.states.get(info.provider)
        problem = bool(state and state.last_error)
        stored = self.store.latest(info.provider)
        if info.id == "host":
            return ViewTab(info.id, info.key, info.title, "", problem)
        if stored is None:
            return ViewTab(info.id, info.key, info.title, "…", problem)
        snap = stored.snapshot
        if isinstance(snap, KubeSnapshot) and (kube := kube_spec(info.id)) is not None:
            # What the view lists: narrowed to the namespace, events grouped by object.
            count = len(visible_records(kube, kube.records(snap), self.namespace))
            return ViewTab(info.id, info.key, info.title, str(count), problem or bool(snap.problems()))
        if isinstance(snap, HttpChecksSnapshot):  # the checks, marked while one is down
            return ViewTab(info.id, info.key, info.title, str(len(snap.checks)),
                           problem or snap.count(DOWN) > 0)
        count = len(snap.items) if isinstance(snap, AwsSnapshot) else 0
        problem = problem or (isinstance(snap, AwsSnapshot) and bool(snap.errors))
        return ViewTab(info.id, info.key, info.title, str(count), problem)

    # -- the Kubernetes namespace ----------------------------------------------------------

    def set_namespace(self, namespace: str | None) -> None:
        """Narrow every Kubernetes view to `namespace` (None: all); built views follow
        at once, the others when first built."""
        self.namespace = namespace
        for built in self._built.values():
            if isinstance(built, KubeView):
                built.set_namespace(namespace)
        self.update_from_store()

    # -- actions and details -------------------------------------------------------------

    def target_for(self, action_id: str) -> ActionTarget | None:
        """The shown view's selected row, if that view declares `action_id`."""
        view = self.active_view
        if action_id not in view_action_ids(self._active):
            return None
        if not isinstance(view, HostView | AwsView | KubeView):
            return None
        return view.target_for(action_id)

    def toggle_details(self) -> bool:
        """Flip the detail pane of the AWS, Kubernetes and HTTP views; False when there
        is no room to show it."""
        view = self.active_view
        if not isinstance(view, AwsView | KubeView | HttpView):
            return False
        self.details = not view.details_shown
        for built in self._built.values():
            if isinstance(built, AwsView | KubeView | HttpView):
                built.set_details(self.details)
        return view.details_shown == self.details

    def on_resize(self) -> None:
        self._show_bar()
        if self.details is None:  # not chosen yet: follow the terminal's height
            for built in self._built.values():
                if isinstance(built, AwsView | KubeView | HttpView):
                    built.set_details(self._details_wanted())
