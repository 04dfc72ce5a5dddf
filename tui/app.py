"""The interactive console: six tabs over one Runtime and Store, and the audit trail.

The app never calls an SDK: it reads the Store, asks the Runtime to refresh,
and sends every mutating operation through the ActionGate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult, SystemCommand
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, TabbedContent, TabPane

from providers.actions import ActionGate, ConfirmRequest, Outcome
from providers.alerts.action_specs import ALERT_ACTIONS
from providers.alerts.model import AlertmanagerSnapshot, AlertsSnapshot
from providers.backups.action_specs import BACKUP_ACTIONS
from providers.backups.model import TargetSnapshot
from providers.base import ActionSpec, ActionTarget
from providers.costs.action_specs import ACTIONS as COST_ACTIONS
from providers.ha.action_specs import PATRONI_ACTIONS
from providers.ha.model import HaSnapshot
from providers.k8s.records import KubePod
from providers.runtime import Runtime
from tui.keymap import (
    TABS,
    KeySpec,
    ViewInfo,
    action_keys,
    alert_keys,
    available_views,
    backup_keys,
    costs_keys,
    detail_keys,
    display_key,
    global_keys,
    ha_keys,
    help_rows,
    kube_keys,
    security_keys,
    to_bindings,
    view_keys,
    widget_key_rows,
)
from tui.screens.alerts_rows import PROVIDERS as ALERT_PROVIDERS
from tui.screens.alerts_rows import alerts_problem
from tui.screens.alerts_rows import tab_counts as alert_tab_counts
from tui.screens.alerts_rows import tab_label as alert_tab_label
from tui.screens.alerts_view import AlertsView
from tui.screens.aws_views import partition_problem
from tui.screens.backups_rows import PROVIDER_PREFIX as BACKUP_PREFIX
from tui.screens.backups_rows import backup_problem
from tui.screens.backups_rows import tab_counts as backup_tab_counts
from tui.screens.backups_view import BackupsView
from tui.screens.ha_rows import PROVIDER_PREFIX as HA_PREFIX
from tui.screens.ha_rows import ha_problem, tab_counts
from tui.screens.ha_view import HaView
from tui.screens.http_view import http_problem
from tui.screens.kube_view import PODS_PROVIDER, KubeView
from tui.screens.kube_views import kube_problem, namespaces_in
from tui.screens.planned import CONFIGURED_STATUS, PLANNED, STATUS
from tui.screens.resources import ResourcesTab, action_scopes
from widgets.choice_dialog import ChoiceDialog
from widgets.confirm_dialog import ConfirmDialog
from widgets.filter_bar import FilterBar
from widgets.formatting import human_age
from widgets.header_bar import HeaderBar
from widgets.help_screen import HelpScreen
from widgets.number_dialog import NumberDialog
from widgets.resource_table import ResourceTable
from widgets.setup_hint import SetupHint
from widgets.status_line import SourceStatus, StatusLine
from widgets.text_dialog import TextDialog

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from tui.screens.costs_view import CostsView
    from tui.screens.security_view import SecurityView


class ProviderUpdated(Message):
    """A provider finished a poll (success or failure)."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


COSTS_PROVIDER = COST_ACTIONS[0].provider
"""The provider whose snapshot the Costs tab shows. Its modules are imported when it is
configured (the tab, its label, its status): a profile without costs pays nothing at start."""

SECURITY_PROVIDER = "security"
"""The provider whose snapshot the Security tab shows; like the Costs tab's, its modules are
imported only when it is configured."""

LONG_ACTIONS = frozenset(s.id for s in BACKUP_ACTIONS)
"""Actions that may take minutes (a full backup, a restore test, many deletions): the
operator is told when they start; the result comes when they end."""


class StacktopApp(App[int]):
    TITLE = "stacktop"
    tz: tzinfo | None = None
    """The time zone event times are shown in; None: the machine's local time."""
    CSS = """
    TabbedContent { height: 1fr; }
    TabPane { padding: 0; }
    """

    def __init__(
        self,
        runtime: Runtime,
        gate: ActionGate,
        *,
        profile: str,
        read_only: bool,
        ui_refresh: float = 1.0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        start_runtime: bool = True,
        warnings: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.store = runtime.store
        self.gate = gate
        self.profile = profile
        self.read_only = read_only
        self.ui_refresh = ui_refresh
        self.clock = clock
        self.monotonic = monotonic
        self.start_runtime = start_runtime
        self.redact: Callable[[str], str] = runtime.redact
        """The profile's redaction: screen text built from provider data passes through it."""
        self.warnings = tuple(warnings)
        """Said once after the first frame (a config file with secrets readable by others)."""
        self.action_specs: dict[str, ActionSpec] = {
            s.id: s for p in runtime.providers.values() for s in p.actions()
        }
        # One `ha.<cluster>` provider per replicated database cluster. Their actions work
        # on the selected cluster whatever its engine: pressing `x` on a MariaDB pair says
        # that switchover needs Patroni rather than nothing at all.
        self.ha_providers = tuple(n for n in runtime.providers if n.startswith(HA_PREFIX))
        if self.ha_providers:
            for spec in PATRONI_ACTIONS:
                self.action_specs.setdefault(spec.id, spec)
        # Likewise one `backups.<target>` provider per backup target; b/P/V act on the
        # target selected in the Backups tab.
        self.backup_providers = tuple(n for n in runtime.providers if n.startswith(BACKUP_PREFIX))
        if self.backup_providers:
            for spec in BACKUP_ACTIONS:
                self.action_specs.setdefault(spec.id, spec)
        # The Alerts tab merges stacktop's rule engine (`alerts`) and Alertmanager; s/x/a
        # act on the selected alert or silence, through whichever of the two owns it.
        self.alert_providers = tuple(n for n in ALERT_PROVIDERS if n in runtime.providers)
        if self.alert_providers:
            for spec in ALERT_ACTIONS:
                self.action_specs.setdefault(spec.id, spec)
        # The Costs tab: the `costs` provider's snapshot; ctrl+d / ctrl+r fix the selected finding
        # when the provider declares them (it does with an AWS account: not for Kubernetes alone).
        self.costs_provider = COSTS_PROVIDER if COSTS_PROVIDER in runtime.providers else None
        # The Security tab: the `security` provider's findings (present with an AWS account or a
        # Kubernetes context to scan); a read-only tab with a detail pane.
        self.security_provider = SECURITY_PROVIDER if SECURITY_PROVIDER in runtime.providers else None
        # The Resources tab's views: one per configured source. Each action works in
        # the view that selects its target (the view declares it), e.g. resources.ec2.
        self.views: tuple[ViewInfo, ...] = available_views(runtime.providers)
        scopes = {**action_scopes(self.views), **{s.id: "ha" for s in PATRONI_ACTIONS},
                  **{s.id: "backups" for s in BACKUP_ACTIONS}, **{s.id: "alerts" for s in ALERT_ACTIONS},
                  **{s.id: "costs" for s in COST_ACTIONS}}
        self.keys: list[KeySpec] = (
            global_keys() + view_keys(self.views)
            + action_keys(self.action_specs.values(), scopes) + detail_keys(self.views)
            + kube_keys(self.views) + ha_keys(bool(self.ha_providers))
            + backup_keys(bool(self.backup_providers)) + alert_keys(bool(self.alert_providers))
            + costs_keys(bool(self.costs_provider)) + security_keys(bool(self.security_provider))
        )
        # Bindings carry their registry id, so `set_keymap` can remap them by id.
        for binding in to_bindings(self.keys, read_only):
            self._bindings.key_to_bindings.setdefault(binding.key, []).append(binding)
        # An action may work in several places (`i`: the AWS views and the Kubernetes views).
        self._scopes: dict[str, set[str]] = {}
        for k in self.keys:
            self._scopes.setdefault(k.action, set()).add(k.scope)
        self._unsubscribe: Callable[[], None] | None = None
        self._screen_ready = False
        self._followed_view: str | None = None
        """The Resources view whose table last got the focus and the filter bar."""
        self._tab_labels: dict[str, str] = {}

    # -- layout ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar("stacktop", self.profile, self.read_only, self.clock, user=self.gate.user,
                        role=self.gate.role)
        with TabbedContent(initial="resources", id="tabs"):
            for tab_id, key, title in TABS:
                with TabPane(f"{key} {title}", id=tab_id):
                    if tab_id == "resources":  # the others are built when first shown
                        yield from self._tab_body(tab_id)
        yield StatusLine(id="status")
        yield FilterBar(id="filter")
        yield Footer()

    def _tab_body(self, tab_id: str) -> Iterable[object]:
        if tab_id == "resources" and self.views:
            yield ResourcesTab(self.store, self.runtime.states, self.views, id="resources-tab")
            return
        if tab_id == "ha" and self.ha_providers:
            yield HaView(self.store, self.runtime.states, self.ha_providers, tz=self.tz, clock=self.clock,
                         id="ha-view")
            return
        if tab_id == "backups" and self.backup_providers:
            yield BackupsView(self.store, self.runtime.states, self.backup_providers, tz=self.tz,
                              id="backups-view")
            return
        if tab_id == "alerts" and self.alert_providers:
            yield AlertsView(self.store, self.runtime.states, self.alert_providers, tz=self.tz,
                             clock=self.clock, id="alerts-view")
            return
        if tab_id == "costs" and self.costs_provider:
            from tui.screens.costs_view import CostsView

            yield CostsView(self.store, self.runtime.states, clock=self.clock, id="costs-view")
            return
        if tab_id == "security":
            if self.security_provider:
                from tui.screens.security_view import SecurityView

                yield SecurityView(self.store, self.runtime.states, redact=self.redact, clock=self.clock,
                                   id="security-view")
                return
            from tui.screens.security_rows import SETUP, SETUP_STATUS

            yield SetupHint(SETUP.title, SETUP.shows, SETUP_STATUS, SETUP.snippet, id="security-hint")
            return
        plan = PLANNED[tab_id]
        status = CONFIGURED_STATUS.get(tab_id, STATUS)
        yield SetupHint(plan.title, plan.shows, status, plan.snippet, id=f"{tab_id}-hint")

    # How long the first frame may wait for first data (a local host poll takes
    # ~30 ms; a slow cloud API is not waited for and fills in a later frame).
    FIRST_DATA_BUDGET = 0.25

    async def on_load(self) -> None:
        self._unsubscribe = self.runtime.subscribe(lambda name: self.post_message(ProviderUpdated(name)))
        if self.start_runtime:
            self.runtime.start()
            await self.runtime.first_data(self.FIRST_DATA_BUDGET)

    def on_mount(self) -> None:
        self._screen_ready = True
        self.set_interval(self.ui_refresh, self._refresh_status)
        self._refresh_status()
        self._show_ha_label()
        self._show_backups_label()
        self._show_alerts_label()
        self._show_costs_label()
        self._show_security_label()
        if tab := self._resources():
            tab.update_from_store()  # data may have arrived while the screen was built
        self._focus_active_table()
        for warning in self.warnings:
            self.notify(warning, severity="warning", timeout=10)

    async def on_unmount(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        await self.runtime.stop()

    # -- data -----------------------------------------------------------

    def on_provider_updated(self, message: ProviderUpdated) -> None:
        if not self._screen_ready:
            return  # on_mount draws whatever arrived before the screen existed
        self._refresh_status()
        if message.name.startswith(HA_PREFIX):
            self._show_ha_label()  # a few cells, even while the tab is hidden
        if message.name.startswith(BACKUP_PREFIX):
            self._show_backups_label()
        if message.name in self.alert_providers:
            self._show_alerts_label()
        if message.name == self.costs_provider:
            self._show_costs_label()
        if message.name == self.security_provider:
            self._show_security_label()
        if self._covered:
            return
        # Skip drawing a hidden tab; it catches up when shown (so do hidden views).
        active = self._active_tab()
        tab = self._resources()
        if tab is not None and active == "resources":
            tab.update_from_store()
        ha = self._ha_view()
        if ha is not None and active == "ha" and message.name.startswith(HA_PREFIX):
            ha.update_from_store()
        backups = self._backups_view()
        if backups is not None and active == "backups" and message.name.startswith(BACKUP_PREFIX):
            backups.update_from_store()
        alerts = self._alerts_view()
        if alerts is not None and active == "alerts" and message.name in self.alert_providers:
            alerts.update_from_store()
        costs = self._costs_view()
        if costs is not None and active == "costs" and message.name == self.costs_provider:
            costs.update_from_store()
        security = self._security_view()
        if security is not None and active == "security" and message.name == self.security_provider:
            security.update_from_store()

    @property
    def _covered(self) -> bool:
        """A full screen (the pod log) hides the console: its views need not redraw.
        Dialogs are modal and leave the console visible around them."""
        return len(self.screen_stack) > 1 and not isinstance(self.screen, ModalScreen)

    def _catch_up(self) -> None:
        tab = self._resources()
        if tab is not None and self._active_tab() == "resources":
            tab.update_from_store()
        ha = self._ha_view()
        if ha is not None and self._active_tab() == "ha":
            ha.update_from_store()
        backups = self._backups_view()
        if backups is not None and self._active_tab() == "backups":
            backups.update_from_store()
        alerts = self._alerts_view()
        if alerts is not None and self._active_tab() == "alerts":
            alerts.update_from_store()
        costs = self._costs_view()
        if costs is not None and self._active_tab() == "costs":
            costs.update_from_store()
        security = self._security_view()
        if security is not None and self._active_tab() == "security":
            security.update_from_store()

    def _refresh_status(self) -> None:
        now = self.monotonic()
        sources = []
        for name, state in self.runtime.states.items():
            health = state.health(self.runtime.stale_after, now).value
            age = state.age(now)
            # A fresh age ticking 0s, 1s, 2s… would repaint the line every second over
            # SSH for nothing: show the age only once data is older than two intervals.
            fresh = health == "ok" and age is not None and age < 2 * state.interval
            error = state.last_error
            stored = self.store.latest(name)
            problem = stored and (partition_problem(stored.snapshot) or kube_problem(stored.snapshot)
                                  or ha_problem(stored.snapshot) or backup_problem(stored.snapshot)
                                  or http_problem(stored.snapshot)
                                  or alerts_problem(stored.snapshot)
                                  or (name == self.costs_provider and self._costs_problem(stored.snapshot))
                                  or (name == self.security_provider
                                      and self._security_problem(stored.snapshot)))
            if health == "ok" and problem:
                # Answered, but not every account/region (AWS) or context/resource (Kubernetes) did.
                health, error = "partial", problem
            sources.append(SourceStatus(name, health, "" if fresh else human_age(age), error))
        for line in self.query(StatusLine):  # none while the app is closing
            line.show(sources)

    def _resources(self) -> ResourcesTab | None:
        found = self.query("#resources-tab")
        return found.first(ResourcesTab) if found else None

    def _ha_view(self) -> HaView | None:
        found = self.query("#ha-view")
        return found.first(HaView) if found else None

    def _backups_view(self) -> BackupsView | None:
        found = self.query("#backups-view")
        return found.first(BackupsView) if found else None

    def _alerts_view(self) -> AlertsView | None:
        found = self.query("#alerts-view")
        return found.first(AlertsView) if found else None

    def _costs_view(self) -> CostsView | None:
        found = self.query("#costs-view")
        return found.first() if found else None  # type: ignore[return-value]

    @staticmethod
    def _costs_problem(snapshot: object) -> str | None:
        from tui.screens.costs_rows import costs_problem

        return costs_problem(snapshot)

    def _show_costs_label(self) -> None:
        """`5 Costs $1,234 MTD !`: this month's spend and a budget's warning (`!`) or overrun
        (`OVER`), from any tab; shorter when the tab bar has no room."""
        if self.costs_provider:
            from providers.costs.model import CostsSnapshot
            from tui.screens.costs_rows import tab_labels

            self._show_counted_label("costs", self.costs_provider, CostsSnapshot, tab_labels)

    def _show_counted_label(self, tab_id: str, provider: str, kind: type,
                            tab_labels: Callable[[str, str, Any, bool], list[str]]) -> None:
        """Set a tab's label from its provider's newest snapshot: the longest of the labels
        `tab_labels` offers (longest first) that fits the room the tab bar has."""
        stored = self.store.latest(provider)
        snap = stored.snapshot if stored is not None else None
        state = self.runtime.states.get(provider)
        failed = state is not None and bool(state.last_error)
        key, title = next((k, t) for t_id, k, t in TABS if t_id == tab_id)
        labels = tab_labels(key, title, snap if isinstance(snap, kind) else None, failed)
        room = self._tab_room(tab_id)
        self._set_tab_label(tab_id, next((lb for lb in labels if len(lb) <= room), labels[-1]))

    def _security_view(self) -> SecurityView | None:
        found = self.query("#security-view")
        return found.first() if found else None  # type: ignore[return-value]

    @staticmethod
    def _security_problem(snapshot: object) -> str | None:
        from tui.screens.security_rows import security_problem

        return security_problem(snapshot)

    def _show_security_label(self) -> None:
        """`6 Security 2 crit 5 high`: the most severe findings from any tab, `!` when a source
        did not answer; shorter when the tab bar has no room."""
        if self.security_provider:
            from providers.security.model import SecuritySnapshot
            from tui.screens.security_rows import tab_labels

            self._show_counted_label("security", self.security_provider, SecuritySnapshot, tab_labels)

    def _tab_room(self, tab_id: str) -> int:
        """Cells the tab bar leaves for `tab_id`'s label beside the others' current labels."""
        others = sum(len(self._tab_labels.get(t_id, f"{k} {t}")) + 2
                     for t_id, k, t in TABS if t_id != tab_id)
        return self.size.width - others - 2

    def _show_alerts_label(self) -> None:
        """`4 Alerts 3 firing 2 pending`: what needs someone now (silenced ones left out),
        from any tab; the pending count only when the tab bar has room for it."""
        if not self.alert_providers:
            return
        alerts = []
        answered = False
        for name in self.alert_providers:
            stored = self.store.latest(name)
            snap = stored.snapshot if stored is not None else None
            if isinstance(snap, AlertsSnapshot | AlertmanagerSnapshot):
                alerts += snap.alerts
                answered = True
        failed = any((state := self.runtime.states.get(n)) is not None and state.last_error
                     for n in self.alert_providers)
        if not answered and not failed:
            return  # waiting for the first data: the plain title
        counts = alert_tab_counts(alerts) if answered else None
        key, title = next((k, t) for t_id, k, t in TABS if t_id == "alerts")
        label = alert_tab_label(key, title, counts)
        if len(label) > self._tab_room("alerts"):
            label = alert_tab_label(key, title, counts, with_pending=False)
        self._set_tab_label("alerts", label)

    def _set_tab_label(self, tab_id: str, label: str) -> None:
        if label == self._tab_labels.get(tab_id):
            return
        found = self.query(TabbedContent)
        if found:
            self._tab_labels[tab_id] = label
            found.first(TabbedContent).get_tab(tab_id).label = label

    def _show_ha_label(self) -> None:
        """`2 HA 1 ok 1 !`: clusters healthy, and those that are not (or not answering),
        so trouble shows from any tab."""
        self._show_tab_label("ha", self.ha_providers, HaSnapshot, lambda s: s.health, tab_counts)

    def _show_backups_label(self) -> None:
        """`3 Backups 2 ok 3 !`: targets all right, and those that are not (an RPO breach,
        a missed schedule, a failed or stale restore test, a listing problem, no data)."""
        self._show_tab_label("backups", self.backup_providers, TargetSnapshot, lambda s: s.status,
                             backup_tab_counts)

    def _show_tab_label(self, tab_id: str, providers: tuple[str, ...], kind: type,
                        judge: Callable[[Any], str], counts: Callable[[Iterable[str | None]], str]) -> None:
        """The tab's key, title and counts; a provider with an error and no data counts as not ok."""
        if not providers:
            return
        verdicts: list[str | None] = []
        for name in providers:
            stored = self.store.latest(name)
            snap = stored.snapshot if stored is not None else None
            state = self.runtime.states.get(name)
            if isinstance(snap, kind):
                verdicts.append(judge(snap))
            elif state is not None and state.last_error:
                verdicts.append(None)  # no data: not ok
        key, title = next((k, t) for t_id, k, t in TABS if t_id == tab_id)
        label = " ".join(p for p in (key, title, counts(verdicts)) if p)
        if label == self._tab_labels.get(tab_id):
            return
        found = self.query(TabbedContent)
        if found:
            self._tab_labels[tab_id] = label
            found.first(TabbedContent).get_tab(tab_id).label = label

    def _active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    async def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if not event.pane.children:
            # Awaited: its table takes the focus (and the filter bar) just below.
            await event.pane.mount_all(list(self._tab_body(event.pane.id or "")))
        if event.pane.id == "resources" and (tab := self._resources()):
            tab.update_from_store()
        if event.pane.id == "ha" and (ha := self._ha_view()):
            ha.update_from_store()
        if event.pane.id == "backups" and (backups := self._backups_view()):
            backups.update_from_store()
        if event.pane.id == "alerts" and (alerts := self._alerts_view()):
            alerts.update_from_store()
        if event.pane.id == "costs" and (costs := self._costs_view()):
            costs.update_from_store()
        if event.pane.id == "security" and (security := self._security_view()):
            security.update_from_store()
        self._follow_active_table()

    def on_resources_tab_view_changed(self, event: ResourcesTab.ViewChanged) -> None:
        """A view shown by a click (keys follow at once, see action_show_view)."""
        tab = self._resources()
        if tab is None or event.view_id != tab.active_id or event.view_id == self._followed_view:
            return  # stale, or already followed
        self._follow_active_table()

    def _follow_active_table(self) -> None:
        """After a tab or view change: focus its table, show its filter, its keys."""
        tab = self._resources()
        self._followed_view = tab.active_id if tab is not None and self._active_tab() == "resources" else None
        self._focus_active_table()
        table = self._active_table()
        if table is None:
            self.query_one(FilterBar).show_state("", 0, 0)
        else:
            table.set_filter(table.filter_text)  # re-announce this table's filter to the bar
        self.refresh_bindings()
        self.call_after_refresh(self._fit_footer)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_footer)
        self.call_after_refresh(self._show_alerts_label)  # the pending count comes and goes with the width
        self.call_after_refresh(self._show_costs_label)
        self.call_after_refresh(self._show_security_label)

    # A footer key takes its key, its word and three spaces (two when compact);
    # the palette hint takes ~13 cells.
    FOOTER_PALETTE_WIDTH = 13
    FOOTER_OPTIONAL = frozenset({"view.details", "k8s.namespace", "ha.details", "ha.timeline",
                                 "backups.details", "alerts.details", "costs.details", "security.details"})
    """Keys the footer drops first when even the compact footer is too narrow."""

    def _fit_footer(self) -> None:
        """Compact footer only when the keys shown here would not fit otherwise (the
        EC2 view's actions on 80 columns); if even that is too wide, drop the
        optional hints (the help still lists them)."""
        footers = self.query(Footer)
        if not footers or not self.is_running:
            return
        shown = [b for _, b, enabled, _ in self.screen.active_bindings.values()
                 if enabled and (b.show or b.id in self.FOOTER_OPTIONAL)]
        width = self.size.width - self.FOOTER_PALETTE_WIDTH

        def cells(pad: int) -> int:
            return sum(len(display_key(b.key)) + len(b.description) + pad for b in shown)

        compact = cells(3) > width
        footers.first(Footer).compact = compact
        keep_optional = cells(2 if compact else 3) <= width
        changed = False
        for bindings in self._bindings.key_to_bindings.values():
            for i, b in enumerate(bindings):
                if b.id in self.FOOTER_OPTIONAL and b.show != keep_optional:
                    bindings[i] = dataclasses.replace(b, show=keep_optional)
                    changed = True
        if changed:
            self.refresh_bindings()

    def _focus_active_table(self) -> None:
        table = self._active_table()
        if table is not None:
            table.focus()

    def _active_table(self) -> ResourceTable | None:
        pane = self.query_one(TabbedContent).active_pane
        if pane is None:
            return None
        if pane.id == "resources" and (tab := self._resources()):
            return tab.active_table()
        tables = pane.query(ResourceTable)
        return tables.first() if tables else None

    # -- key actions ------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Scoped keys work (and show) only where they apply: a tab, or a view in it.
        A key bound twice (o: reboot an instance, reboot a database) goes to the
        binding whose scope applies; Textual tries the next one when this says no."""
        called = f"{action}({', '.join(map(repr, parameters))})" if parameters else action
        scopes = self._scopes.get(called, {"global"})
        return "global" in scopes or bool(scopes & self.active_scopes())

    def active_scopes(self) -> set[str]:
        """Where the operator is now: {"resources", "resources.ec2", "resources.aws"}.
        Nowhere while a full screen (a pod's log) covers the tabs: its keys are its own."""
        if self.screen is not self.screen_stack[0] and not self.screen.is_modal:
            return set()
        try:
            tab = self._active_tab()
        except Exception:  # before compose
            return set()
        scopes = {tab}
        if tab == "resources" and (resources := self._resources()):
            scopes |= resources.active_scopes()
        return scopes

    def action_show_tab(self, tab_id: str) -> None:
        self.query_one(TabbedContent).active = tab_id

    async def action_show_view(self, view_id: str) -> None:
        """Show a view of the Resources tab (from any tab: the palette can ask)."""
        tab = self._resources()
        if tab is None:
            return
        if self._active_tab() != "resources":
            self.action_show_tab("resources")
        await tab.show_view(view_id)
        # At once, not when ViewChanged has bubbled up: a key typed right after
        # (`/`) must not have its filter's focus taken back by a late table focus.
        self._follow_active_table()

    async def action_cycle_view(self, step: int) -> None:
        if tab := self._resources():
            await tab.cycle(step)
            self._follow_active_table()

    def action_toggle_details(self) -> None:
        tab_view = {"ha": self._ha_view, "backups": self._backups_view,
                    "alerts": self._alerts_view, "costs": self._costs_view,
                    "security": self._security_view}.get(self._active_tab())
        if tab_view is not None:
            view = tab_view()
            if view is not None and not view.toggle_details() and view.details_wanted:
                self.notify("The detail pane needs a taller terminal", severity="warning", timeout=3)
            return
        tab = self._resources()
        if tab is None:
            return
        if not tab.toggle_details() and tab.details:
            self.notify("The detail pane needs a taller terminal", severity="warning", timeout=3)

    def action_toggle_timeline(self) -> None:
        ha = self._ha_view()
        if ha is not None:
            ha.toggle_timeline()

    def action_help(self) -> None:
        note = "READ-ONLY: actions are refused in this session." if self.read_only else ""
        rows = help_rows(self.keys, self.read_only, self.views)
        rows += widget_key_rows(ResourceTable.BINDINGS, "tables")  # type: ignore[arg-type]
        rows.append(("shift+letter", "Sort by the column with that letter (again: reverse)", "tables"))
        self.push_screen(HelpScreen(rows, note))

    def action_audit(self) -> None:
        """The audit trail, full screen (a read: watch mode too). The tabs under it stop
        redrawing while it covers them and catch up when it closes."""
        from tui.screens.audit_screen import AuditScreen

        if isinstance(self.screen, AuditScreen):
            self.screen.action_reload()
            return
        self.push_screen(AuditScreen(self.gate.audit.path, tz=self.tz, redact=self.redact),
                         callback=lambda _: self._catch_up())

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every toast passes through the profile's redaction: an action's error, a provider's
        message or a start-up warning may quote a secret."""
        super().notify(self.redact(message), title=self.redact(title), severity=severity, timeout=timeout,
                       markup=markup)

    def action_refresh(self) -> None:
        self.runtime.refresh()
        self.notify("Refreshing all data sources", timeout=2)

    def action_chart_next(self) -> None:
        tab = self._resources()
        view = tab.host_view() if tab else None
        if view is None:
            return
        label = view.next_chart()
        if view.chart_visible:
            self.notify(f"Chart: {label}", timeout=2)
        else:
            self.notify(f"Chart: {label} — the chart needs a terminal {view.CHART_MIN_SCREEN_HEIGHT}+ "
                        "rows high", timeout=3)

    def action_filter(self) -> None:
        table = self._active_table()
        if table is None:
            self.notify("Nothing to filter on this tab", severity="warning", timeout=3)
            return
        self.query_one(FilterBar).open(table.filter_text)

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        if table := self._active_table():
            table.set_filter(event.value)

    def on_filter_bar_closed(self, event: FilterBar.Closed) -> None:
        table = self._active_table()
        if table is not None:
            if event.cleared:
                table.set_filter("")
            table.focus()

    def on_resource_table_filter_changed(self, event: ResourceTable.FilterChanged) -> None:
        if event.table is self._active_table():
            self.query_one(FilterBar).show_state(event.text, event.shown, event.total, event.error)

    def action_run_action(self, action_id: str) -> None:
        spec = self.action_specs[action_id]
        self.run_worker(self._run_action(spec), group="actions", exclusive=False)

    async def _run_action(self, spec: ActionSpec) -> None:
        refusal = self.gate.refusal(spec)
        target = self._target_for(spec)
        if (target is None or isinstance(target, str)) and refusal is None:
            self.notify(target if isinstance(target, str)
                        else f"{spec.title}: {self._where_to_select(spec)}", severity="warning")
            return
        if target is None or isinstance(target, str):
            # Read-only (or the role) first: that is the answer whatever is selected, and
            # the gate records the refused attempt even with nothing selected.
            target = ActionTarget("selection", "", "nothing selected")
        if refusal is None:
            # What the operator chooses first (validated as the provider will), then the
            # gate's own confirmation, which shows it ("candidate → pg2") and audits it.
            # Refused actions ask nothing: the gate says why and records the refusal.
            asked = await self._ask_parameters(spec, target)
            if asked is None:
                self.notify(await self.gate.record_cancelled(spec, target), timeout=3)
                return
            target = asked
        result = await self.gate.execute(spec, target, self._confirm)
        severity = {Outcome.DONE: "information", Outcome.CANCELLED: "information"}.get(
            result.outcome, "error" if result.outcome is Outcome.FAILED else "warning"
        )
        self.notify(result.message, severity=severity)  # type: ignore[arg-type]

    def _target_for(self, spec: ActionSpec) -> ActionTarget | str | None:
        """The selected row of the view that declares the action, if it is the one shown;
        for the HA and Backups tabs' actions, the selected cluster or target, or one line
        saying why not."""
        scopes = self._scopes.get(f"run_action({spec.id!r})", ())
        for tab_id, tab_view in (("ha", self._ha_view), ("backups", self._backups_view),
                                 ("alerts", self._alerts_view), ("costs", self._costs_view)):
            if tab_id in scopes:
                view = tab_view()
                if view is None or self._active_tab() != tab_id:
                    return None
                return view.target_for(spec.id)
        tab = self._resources()
        if tab is None or self._active_tab() != "resources":
            return None
        return tab.target_for(spec.id)

    def _where_to_select(self, spec: ActionSpec) -> str:
        scopes = self._scopes.get(f"run_action({spec.id!r})", {"global"})
        if "ha" in scopes and "ha" not in self.active_scopes():
            return "select a cluster in the HA tab first (key 2)"
        if "backups" in scopes and "backups" not in self.active_scopes():
            return "select a target in the Backups tab first (key 3)"
        if "alerts" in scopes and "alerts" not in self.active_scopes():
            return "select an alert or a silence in the Alerts tab first (key 4)"
        if "costs" in scopes and "costs" not in self.active_scopes():
            return "select a finding in the Costs tab first (key 5)"
        view = next((v for v in self.views if v.scope in scopes), None)
        if view is None or scopes & self.active_scopes():
            return "select a row first"
        return f"select one in the {view.title} view first (key {view.key})"

    async def _ask_parameters(self, spec: ActionSpec, target: ActionTarget) -> ActionTarget | None:
        """Ask what the spec needs, in order: a choice among the target's options, a
        text, a number; each answer goes into the target's params (the gate shows and
        audits them). None as soon as one is cancelled."""
        params = dict(target.params)
        if spec.choice is not None:
            picked = await self._ask_choice(spec, target)
            if picked is None:
                return None
            params[spec.choice.name] = picked
        if spec.text is not None:
            text = spec.text
            answered_text: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
            self.push_screen(TextDialog(f"{spec.title} {target.kind} {target.name}", f"{text.prompt}:",
                                        text.validate, placeholder=text.placeholder),
                             callback=answered_text.set_result)
            value = await answered_text
            if value is None:
                return None
            params[text.name] = value
        if spec.parameter is not None:
            number = await self._ask_number(spec, target)
            if number is None:
                return None
            params[spec.parameter.name] = str(number)
        return dataclasses.replace(target, params=params) if params != dict(target.params) else target

    async def _ask_choice(self, spec: ActionSpec, target: ActionTarget) -> str | None:
        """One of the target's options; those that cannot be picked are shown with why."""
        choice = spec.choice
        assert choice is not None
        answered: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        dialog = ChoiceDialog(f"{spec.title} {target.kind} {target.name}",
                              [(o.value, o.label) for o in target.options], prompt=f"{choice.prompt}:",
                              reasons={o.value: o.reason for o in target.options if o.reason})
        self.push_screen(dialog, callback=answered.set_result)
        return await answered

    async def _ask_number(self, spec: ActionSpec, target: ActionTarget) -> int | None:
        """The action's number (replicas), asked in a NumberDialog; None if cancelled."""
        parameter = spec.parameter
        assert parameter is not None
        current = target.details.get(parameter.current_detail, "") if parameter.current_detail else ""
        answered: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        dialog = NumberDialog(f"{spec.title} {target.kind} {target.name}",
                              f"{parameter.prompt}, {parameter.minimum} to {parameter.maximum}:",
                              current, parameter.parse)
        self.push_screen(dialog, callback=answered.set_result)
        return await answered

    async def _confirm(self, request: ConfirmRequest) -> bool | str | None:
        answered: asyncio.Future[bool | str | None] = asyncio.get_running_loop().create_future()
        dialog = ConfirmDialog(request.spec.title, request.prompt, request.must_type, request.target.listing)
        self.push_screen(dialog, callback=answered.set_result)
        answer = await answered
        confirmed = answer is True or (request.must_type is not None and answer == request.must_type)
        if confirmed and request.spec.id in LONG_ACTIONS:
            # The gate runs it next, in this worker: say so, the result comes as a message.
            chosen = "".join(f" ({v})" for k, v in request.target.params.items() if k != "delete")
            self.notify(f"{request.spec.title} {request.target.name}{chosen}: started; the result shows "
                        "here when it ends (other keys keep working)", timeout=4)
        return answer

    # -- Kubernetes: namespace and pod logs ------------------------------------

    def action_pick_namespace(self) -> None:
        """Narrow every Kubernetes view to one namespace (client-side), or all."""
        tab = self._resources()
        if tab is None:
            return
        names = [v.provider for v in self.views if v.group == "resources.k8s"]
        found = namespaces_in(s.snapshot for n in names if (s := self.store.latest(n)) is not None)
        if tab.namespace is not None and tab.namespace not in found:
            found = sorted([*found, tab.namespace])  # the current choice stays pickable
        choices = [("", "all namespaces"), *((ns, ns) for ns in found)]

        def picked(choice: str | None) -> None:
            if choice is None:
                return
            tab.set_namespace(choice or None)
            self.notify(f"Kubernetes: {f'namespace {choice}' if choice else 'all namespaces'}", timeout=2)

        self.push_screen(ChoiceDialog("Namespace for the Kubernetes views", choices, tab.namespace or ""),
                         callback=picked)

    def action_pod_logs(self) -> None:
        """The selected pod's log (palette, or Enter when the table is not focused)."""
        tab = self._resources()
        view = tab.active_view if tab is not None and self._active_tab() == "resources" else None
        pod = view.selected_record() if isinstance(view, KubeView) else None
        if not isinstance(pod, KubePod):
            self.notify("Pod logs: select a pod in the Pods view first (key p)", severity="warning")
            return
        self.open_pod_logs(pod)

    def on_kube_view_logs_requested(self, message: KubeView.LogsRequested) -> None:
        self.open_pod_logs(message.pod)

    def open_pod_logs(self, pod: KubePod) -> None:
        """Push the log screen; it reads through the pods provider (a read: allowed
        in watch mode too)."""
        provider = self.runtime.providers.get(PODS_PROVIDER)
        logs = getattr(provider, "logs", None)
        if logs is None:
            self.notify("Pod logs: the Kubernetes pods source is not configured", severity="warning")
            return
        containers = [c.name for c in pod.containers]
        if not containers:
            self.notify(f"Pod logs: {pod.name} has no containers yet", severity="warning")
            return
        from tui.screens.pod_logs import PodLogsScreen  # built on first use, like the other heavy views

        # A crash-looping container's current log is often empty: start on the first
        # container that restarted, where `previous` has something to say.
        first = next((c.name for c in pod.containers if c.restarts), containers[0])
        # While the log covers the console, its views need not redraw (20,000 pods twice
        # a second); they catch up from the Store when the log closes.
        self.push_screen(PodLogsScreen(f"{pod.name} · {pod.context}/{pod.namespace}", containers,
                                       lambda container, previous: logs(pod, container, previous),
                                       container=first),
                         callback=lambda _: self._catch_up())

    # -- palette ------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for tab_id, key, title in TABS:
            yield SystemCommand(f"Go to {title}", f"Show the {title} tab (key {key})",
                                lambda t=tab_id: self.action_show_tab(t))
        if len(self.views) > 1:
            for view in self.views:
                yield SystemCommand(f"Resources: {view.noun}", f"Show the {view.title} view (key {view.key})",
                                    lambda v=view.id: self.action_show_view(v))
        if any(v.group == "resources.k8s" for v in self.views):
            yield SystemCommand("Kubernetes: namespace",
                                "Narrow the Kubernetes views to one namespace (key N)",
                                self.action_pick_namespace)
            if any(v.provider == PODS_PROVIDER for v in self.views):
                yield SystemCommand("Kubernetes: pod logs", "The selected pod's log (Enter in the Pods view)",
                                    self.action_pod_logs)
        yield SystemCommand("Audit trail", "Every action tried from this profile, by whom and with what "
                            "result (key ctrl+a)", self.action_audit)
        yield SystemCommand("Refresh now", "Poll every data source now (key r)", self.action_refresh)
        yield SystemCommand("Help", "Every key binding (key ?)", self.action_help)
        for spec in self.action_specs.values():
            suffix = " — refused: read-only" if self.read_only else ""
            yield SystemCommand(spec.title, f"{spec.description} (key {spec.key}){suffix}",
                                lambda s=spec.id: self.action_run_action(s))
        yield from super().get_system_commands(screen)

