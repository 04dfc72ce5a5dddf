"""Kubernetes CSI VolumeSnapshots (snapshot.storage.k8s.io/v1) of one PVC.

Read through the context's KubeClient, which refuses POST/DELETE below our own code
when the session is read-only. A cluster without the external-snapshotter CRDs answers
404 for the type: that is said in one problem line, not raised as an outage.

The API cannot select snapshots by their source PVC (CRDs serve no such field
selector), so the namespace's snapshots are listed a page at a time and filtered here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from config.model import BackupSourceSettings
from providers.backups.model import COMPLETED, FAILED, RUNNING, Backup, SourceReading
from providers.k8s.client import KubeApiError, KubeClient
from providers.k8s.errors import explain
from providers.k8s.parse import quantity, timestamp

GROUP_VERSION = "snapshot.storage.k8s.io/v1"
RESOURCE = "volumesnapshots.snapshot.storage.k8s.io"
PAGE_SIZE = 500
CREATED_BY = ("created-by", "stacktop")
TARGET_LABEL = "stacktop-target"
_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9_.-]+")


class SourceError(RuntimeError):
    """One line that says what failed and what to fix."""


def snapshots_path(namespace: str, name: str | None = None) -> str:
    path = f"/apis/{GROUP_VERSION}/namespaces/{namespace}/volumesnapshots"
    return f"{path}/{name}" if name else path


def label_value(text: str) -> str:
    """`text` as a valid label value (63 characters of [A-Za-z0-9_.-], alphanumeric ends)."""
    return _LABEL_VALUE_BAD.sub("-", text)[:63].strip("-_.")


def parse_volume_snapshot(obj: Mapping[str, Any]) -> Backup:
    """One VolumeSnapshot: ready → completed, an error → failed (its message in the note),
    neither yet → running. Size is status.restoreSize: the size a restore needs."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    error = status.get("error") or {}
    if error:
        state, note = FAILED, str(error.get("message") or "snapshot error without a message")
    elif status.get("readyToUse") is True:
        state, note = COMPLETED, ""
    else:
        state, note = RUNNING, ""
    deletable = True
    if meta.get("deletionTimestamp"):
        deletable, note = False, f"being deleted since {meta['deletionTimestamp']}"
    size = quantity(status.get("restoreSize"))
    when = timestamp(status.get("creationTime")) or timestamp(meta.get("creationTimestamp")) or 0.0
    labels = meta.get("labels") or {}
    details = [("class", str(spec.get("volumeSnapshotClassName") or "(cluster default)")),
               ("content", str(status.get("boundVolumeSnapshotContentName") or "")),
               ("ready", "yes" if status.get("readyToUse") is True else "no"),
               ("restore size", str(status.get("restoreSize") or "")),
               ("error at", str(error.get("time") or "")),
               ("created by", "stacktop" if labels.get(CREATED_BY[0]) == CREATED_BY[1] else "")]
    return Backup(id=str(meta.get("name") or ""), time=when, status=state,
                  size=int(size) if size is not None else None, kind="volumesnapshot",
                  deletable=deletable, note=note, details=tuple((k, v) for k, v in details if v))


def source_pvc(obj: Mapping[str, Any]) -> str | None:
    return ((obj.get("spec") or {}).get("source") or {}).get("persistentVolumeClaimName")


class VolumeSnapshotSource:
    """VolumeSnapshots whose source is `pvc` in `namespace`. Backup now creates one
    (in `snapshot_class`, else the cluster's default class); prune deletes them."""

    kind = "kubernetes"
    backup_modes = ("snapshot",)

    def __init__(self, settings: BackupSourceSettings, client: KubeClient, target: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if not settings.pvc:
            raise ValueError(f"backups target {target}: a kubernetes source needs pvc")
        self.settings = settings
        self.client = client
        self.target = target
        self.namespace = settings.namespace
        self.pvc = settings.pvc
        self._clock = clock

    @property
    def what(self) -> str:
        return f"PVC {self.namespace}/{self.pvc} ({self.client.context})"

    def _line(self, exc: BaseException, verb: str) -> str:
        return f"{self.what}: " + explain(exc, verb=verb, resource=RESOURCE, namespace=self.namespace,
                                          host=self.client.host)

    def not_installed(self) -> str:
        return (f"VolumeSnapshot API not installed in context {self.client.context} "
                "(install the external-snapshotter CRDs)")

    def _list(self) -> list[dict[str, Any]]:
        query: dict[str, str | int] = {"limit": PAGE_SIZE}
        items: list[dict[str, Any]] = []
        while True:
            page = self.client.get_json(snapshots_path(self.namespace), query)
            items.extend(page.get("items") or ())
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
            query = {**query, "continue": token}

    def read(self) -> SourceReading:
        label = self.what
        try:
            items = self._list()
        except KubeApiError as exc:
            if exc.status == 404:  # a list names no object: the type itself is not served
                return SourceReading(backups=(), label=label, problems=(self.not_installed(),))
            raise SourceError(self._line(exc, "list")) from None
        except Exception as exc:
            raise SourceError(self._line(exc, "list")) from None
        backups = sorted((parse_volume_snapshot(o) for o in items if source_pvc(o) == self.pvc),
                         key=lambda b: (-b.time, b.id))
        facts, problems = self._pvc_facts()
        facts = (("snapshot class", self.settings.snapshot_class or "(cluster default)"), *facts)
        return SourceReading(backups=tuple(backups), label=label, facts=facts, problems=problems)

    def _pvc_facts(self) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """The PVC's size and class; a PVC gone while its snapshots stay is worth a line."""
        try:
            pvc = self.client.get_json(
                f"/api/v1/namespaces/{self.namespace}/persistentvolumeclaims/{self.pvc}")
        except KubeApiError as exc:
            if exc.status == 404:
                return (), (f"{self.what}: the PVC does not exist (its snapshots are still listed) — "
                            "check backups.targets[].source.pvc and namespace",)
            return (), (f"{self.what}: " + explain(exc, verb="get", resource="persistentvolumeclaims",
                                                   namespace=self.namespace, host=self.client.host),)
        except Exception as exc:
            return (), (self._line(exc, "get"),)
        spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
        facts = [("pvc", " ".join(filter(None, (str(status.get("phase") or ""),
                                                 str((status.get("capacity") or {}).get("storage") or "")))))]
        if spec.get("storageClassName"):
            facts.append(("storage class", str(spec["storageClassName"])))
        return tuple((k, v) for k, v in facts if v), ()

    def backup_now(self, mode: str) -> str:
        name = f"{self.pvc}-stacktop-{self._clock().astimezone(UTC).strftime('%Y%m%d-%H%M%S')}"
        spec: dict[str, Any] = {"source": {"persistentVolumeClaimName": self.pvc}}
        if self.settings.snapshot_class:
            spec["volumeSnapshotClassName"] = self.settings.snapshot_class
        body = {"apiVersion": GROUP_VERSION, "kind": "VolumeSnapshot",
                "metadata": {"name": name, "namespace": self.namespace,
                             "labels": {CREATED_BY[0]: CREATED_BY[1],
                                        TARGET_LABEL: label_value(self.target)},
                             "annotations": {"stacktop/target": self.target}},
                "spec": spec}
        try:
            self.client.send("POST", snapshots_path(self.namespace), body, content_type="application/json")
        except KubeApiError as exc:
            if exc.status == 404 and not exc.message.startswith('namespaces "'):
                raise SourceError(f"{self.what}: {self.not_installed()}") from None
            raise SourceError(self._line(exc, "create")) from None
        except Exception as exc:
            raise SourceError(self._line(exc, "create")) from None
        return f"{self.what}: VolumeSnapshot {name} created"

    def delete(self, backup: Backup) -> str:
        try:
            self.client.send("DELETE", snapshots_path(self.namespace, backup.id))
        except Exception as exc:
            raise SourceError(self._line(exc, "delete")) from None
        return f"{self.what}: deleted VolumeSnapshot {backup.id}"

    def close(self) -> None:
        """The context's client is shared with other targets: nothing to close here."""
