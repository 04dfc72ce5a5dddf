"""The one registry of keys. Bindings, footer hints, the help screen and the
command palette are all derived from it, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from textual.binding import Binding

from providers.base import ActionSpec

TABS: tuple[tuple[str, str, str], ...] = (
    ("resources", "1", "Resources"),
    ("ha", "2", "HA"),
    ("backups", "3", "Backups"),
    ("alerts", "4", "Alerts"),
    ("costs", "5", "Costs"),
    ("security", "6", "Security"),
)

@dataclass(frozen=True)
class ViewInfo:
    """A view inside the Resources tab: its key, its name in the view bar and
    the palette, and the provider whose presence makes it exist."""

    id: str
    key: str
    title: str
    noun: str
    provider: str
    group: str = ""
    """A scope shared by sibling views (e.g. "resources.aws") for keys they all have."""

    @property
    def scope(self) -> str:
        return f"resources.{self.id}"


RESOURCE_VIEWS: tuple[ViewInfo, ...] = (
    ViewInfo("host", "h", "Host", "host processes", "host"),
    # Not u: the Nodes view uncordons with it, and both would be live there.
    ViewInfo("http", "a", "HTTP", "HTTP health checks", "http", "resources.http"),
    ViewInfo("ec2", "e", "EC2", "EC2 instances", "aws.ec2", "resources.aws"),
    ViewInfo("ebs", "v", "EBS", "EBS volumes", "aws.ebs", "resources.aws"),
    ViewInfo("rds", "d", "RDS", "RDS databases", "aws.rds", "resources.aws"),
    ViewInfo("s3", "b", "S3", "S3 buckets", "aws.s3", "resources.aws"),
    ViewInfo("lambda", "f", "Lambda", "Lambda functions", "aws.lambda", "resources.aws"),
    ViewInfo("elb", "l", "ELB", "load balancers", "aws.elb", "resources.aws"),
    # Kubernetes: `k` would be PVCs in k9s, but the host view terminates with it.
    ViewInfo("k8s-nodes", "n", "Nodes", "Kubernetes nodes", "k8s.nodes", "resources.k8s"),
    ViewInfo("k8s-workloads", "w", "Workloads", "Kubernetes workloads", "k8s.workloads", "resources.k8s"),
    ViewInfo("k8s-pods", "p", "Pods", "Kubernetes pods", "k8s.pods", "resources.k8s"),
    ViewInfo("k8s-events", "t", "Events", "Kubernetes events", "k8s.events", "resources.k8s"),
    ViewInfo("k8s-pvcs", "m", "PVCs", "Kubernetes volume claims", "k8s.pvcs", "resources.k8s"),
)

TAB_SCOPES = {"ha": "HA tab", "backups": "Backups tab", "alerts": "Alerts tab", "costs": "Costs tab",
              "security": "Security tab"}
"""Tabs whose keys the help names by the tab (the Resources tab's are named by view)."""

DETAIL_GROUPS = {"resources.aws": "AWS views", "resources.k8s": "Kubernetes views",
                 "resources.http": "HTTP view"}
"""View groups whose views have a detail pane, and how the help names them."""


def available_views(providers: Iterable[str]) -> tuple[ViewInfo, ...]:
    """The views this profile has: one per configured provider, in bar order."""
    present = set(providers)
    return tuple(v for v in RESOURCE_VIEWS if v.provider in present)


@dataclass(frozen=True)
class KeySpec:
    """One key: a stable id (users remap by id), the key, the Textual action,
    a description, where it works, and whether it changes anything.

    `scope` is "global", a tab id ("resources"), a view inside a tab
    ("resources.ec2") or a group of views ("resources.aws"): the key works
    when its scope is one of the places the operator is in now."""

    id: str
    key: str
    action: str
    description: str
    scope: str = "global"
    show: bool = True
    mutating: bool = False
    label: str = ""
    """The footer's word for it when the description is too long for 80 columns."""


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
        # Not `A`: the AWS and Kubernetes tables sort by their Account/Name column with it.
        KeySpec("app.audit", "ctrl+a", "audit", "Show the audit trail: every action tried, by whom",
                show=False, label="Audit"),
        KeySpec("app.quit", "q", "quit", "Quit"),
        KeySpec("resources.chart", "c", "chart_next", "Chart", scope="resources.host"),
    ]
    return keys


def view_keys(views: Sequence[ViewInfo]) -> list[KeySpec]:
    """Keys that pick a view of the Resources tab. With a single view there is
    nothing to pick, so none are bound (the host-only screen stays as it was)."""
    if len(views) < 2:
        return []
    keys = [
        KeySpec(f"view.{v.id}", v.key, f"show_view('{v.id}')", f"Show {v.noun}", scope="resources",
                show=False)
        for v in views
    ]
    keys += [
        KeySpec("view.next", "right_square_bracket", "cycle_view(1)", "Next view", scope="resources",
                show=False),
        KeySpec("view.previous", "left_square_bracket", "cycle_view(-1)", "Previous view",
                scope="resources", show=False),
    ]
    return keys


def detail_keys(views: Sequence[ViewInfo]) -> list[KeySpec]:
    """`i` toggles the detail pane of the AWS and Kubernetes views (one entry per
    group present, same id). Registered after the action keys: on 80 columns the
    footer runs out, and acting matters more than this hint."""
    groups = [g for g in DETAIL_GROUPS if any(v.group == g for v in views)]
    return [KeySpec("view.details", "i", "toggle_details", "Toggle the detail pane", scope=g,
                    label="Details") for g in groups]


def kube_keys(views: Sequence[ViewInfo]) -> list[KeySpec]:
    """The namespace picker for every Kubernetes view, and Enter on a pod for its log
    (the table's Enter gets there first; this entry names it in the help and lets
    it be remapped). Reads: they work in watch mode too."""
    if not any(v.group == "resources.k8s" for v in views):
        return []
    keys = [KeySpec("k8s.namespace", "N", "pick_namespace", "Pick the namespace the Kubernetes views show",
                    scope="resources.k8s", label="Namespace")]
    if any(v.id == "k8s-pods" for v in views):
        keys.append(KeySpec("k8s.logs", "enter", "pod_logs", "Show the selected pod's log",
                            scope="resources.k8s-pods", show=False, label="Logs"))
    return keys


def ha_keys(present: bool) -> list[KeySpec]:
    """The HA tab's own keys (reads, so they work in watch mode): the detail pane
    and the event timeline come and go, e.g. to give the tree the room on 80x24."""
    if not present:
        return []
    return [
        KeySpec("ha.details", "i", "toggle_details", "Toggle the detail pane", scope="ha", label="Details"),
        KeySpec("ha.timeline", "t", "toggle_timeline", "Toggle the event timeline", scope="ha",
                label="Events"),
    ]


def backup_keys(present: bool) -> list[KeySpec]:
    """The Backups tab's own key (a read, so it works in watch mode): the detail pane
    with the selected target's backups comes and goes."""
    if not present:
        return []
    return [KeySpec("backups.details", "i", "toggle_details", "Toggle the detail pane", scope="backups",
                    label="Details")]


def alert_keys(present: bool) -> list[KeySpec]:
    """The Alerts tab's own key (a read, so it works in watch mode): the detail pane with
    the selected alert's history or what the selected silence mutes comes and goes."""
    if not present:
        return []
    return [KeySpec("alerts.details", "i", "toggle_details", "Toggle the detail pane", scope="alerts",
                    label="Details")]


def costs_keys(present: bool) -> list[KeySpec]:
    """The Costs tab's own key (a read, so it works in watch mode): the detail pane with the
    selected finding's evidence, or a budget's or a namespace's figures, comes and goes.
    Its two fixes (ctrl+d delete volume, ctrl+r release address) are action keys."""
    if not present:
        return []
    return [KeySpec("costs.details", "i", "toggle_details", "Toggle the detail pane", scope="costs",
                    label="Details")]


def security_keys(present: bool) -> list[KeySpec]:
    """The Security tab's own key (a read, so it works in watch mode): the detail pane with
    the selected finding's evidence, remedy and the key that accepts it comes and goes."""
    if not present:
        return []
    return [KeySpec("security.details", "i", "toggle_details", "Toggle the detail pane", scope="security",
                    label="Details")]


QUIET_ACTIONS = frozenset({"ha.schedule_switchover", "ha.cancel_switchover"})
"""Actions kept off the footer (the help and the palette list them): rarer ones, so that
the HA tab's footer fits 80 columns with switchover and failover on it."""


def action_keys(specs: Iterable[ActionSpec], scope: Mapping[str, str]) -> list[KeySpec]:
    """Keys for provider actions; `scope` maps an action id to the tab or view it works on."""
    return [
        KeySpec(s.id, s.key, f"run_action('{s.id}')", s.title, scope=scope.get(s.id, "global"),
                show=s.id not in QUIET_ACTIONS, mutating=True, label=s.title.split()[0])
        for s in specs
    ]


def to_bindings(keys: Iterable[KeySpec], read_only: bool) -> list[Binding]:
    """In read-only mode mutating keys stay bound (so pressing one explains the
    refusal) but are hidden from the footer."""
    return [
        Binding(k.key, k.action, k.label or k.description, show=k.show and not (read_only and k.mutating),
                id=k.id)
        for k in keys
    ]


def display_key(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "pageup": "PgUp", "pagedown": "PgDn",
            "left_square_bracket": "[", "right_square_bracket": "]", "plus": "+"}.get(key, key)


def scope_label(scope: str, views: Sequence[ViewInfo] = RESOURCE_VIEWS) -> str:
    """Where a key works, short enough for the help's Where column: "EC2 view".
    With one view the tab has no view bar: its keys are simply the tab's."""
    if scope in DETAIL_GROUPS:
        return DETAIL_GROUPS[scope]
    if scope in TAB_SCOPES:
        return TAB_SCOPES[scope]
    for view in views:
        if scope == view.scope:
            return f"{view.title} view" if len(views) > 1 else "resources"
    return scope


def widget_key_rows(bindings: Iterable[Binding], scope: str) -> list[tuple[str, str, str]]:
    """Help lines for a widget's own BINDINGS, so the help lists table keys too."""
    rows = []
    for b in bindings:
        if isinstance(b, Binding) and b.description:
            rows.append((display_key(b.key), b.description, scope))
    return rows


def help_rows(
    keys: Iterable[KeySpec], read_only: bool, views: Sequence[ViewInfo] = RESOURCE_VIEWS
) -> list[tuple[str, str, str]]:
    rows = []
    for k in keys:
        what = k.description
        if k.mutating and read_only:
            what += " (refused: read-only)"
        rows.append((display_key(k.key), what, scope_label(k.scope, views)))
    return rows
