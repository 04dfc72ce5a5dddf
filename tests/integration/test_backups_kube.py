"""Kubernetes VolumeSnapshots as a backup source, through our KubeClient against the
project's test API server (tui/demo/kube_api/server.py), which serves the
snapshot.storage.k8s.io/v1 type like the external-snapshotter CRD does.

One server for the module; each test works in its own namespace.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from config.model import BackupSourceSettings, KubernetesSettings
from providers.backups import kube_snapshots
from providers.backups.kube_snapshots import (
    SourceError,
    VolumeSnapshotSource,
    label_value,
    parse_volume_snapshot,
)
from providers.backups.model import COMPLETED, FAILED, RUNNING
from providers.k8s.client import KubeClient, build_api_client
from tests.support.kube import TEST_TOKEN, minimal_namespace, running_kube_api, write_kubeconfig
from tui.demo.kube_api.server import KubeApiServer

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 22, 14, 30, 5, tzinfo=UTC)
_namespaces = itertools.count(1)


@pytest.fixture(scope="module")
def api() -> Iterator[KubeApiServer]:
    with running_kube_api() as server:
        yield server


@pytest.fixture(scope="module")
def kube(api: KubeApiServer, tmp_path_factory: pytest.TempPathFactory) -> KubernetesSettings:
    path: Path = write_kubeconfig(tmp_path_factory.mktemp("kube") / "config", {"dev": (api.url, TEST_TOKEN)})
    return KubernetesSettings(kubeconfig=(str(path),))


@pytest.fixture
def ns(api: KubeApiServer) -> Iterator[str]:
    name = f"db-{next(_namespaces)}"
    api.put(minimal_namespace(name))
    yield name
    api.clear_faults()


def client(kube: KubernetesSettings, *, read_only: bool = False) -> KubeClient:
    return KubeClient("dev", build_api_client(kube, "dev"), read_only=read_only, timeout=10)


def source(kube: KubernetesSettings, ns: str, pvc: str = "data-orders-0", *, read_only: bool = False,
           snapshot_class: str | None = "csi-hostpath-snapclass") -> VolumeSnapshotSource:
    settings = BackupSourceSettings(kind="kubernetes", context="dev", namespace=ns, pvc=pvc,
                                    snapshot_class=snapshot_class)
    return VolumeSnapshotSource(settings, client(kube, read_only=read_only), "orders db", clock=lambda: NOW)


def pvc(name: str, namespace: str, size: str = "20Gi") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "csi-hostpath-sc",
                     "resources": {"requests": {"storage": size}}, "volumeName": f"pv-{name}"},
            "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}}}


def snapshot(name: str, namespace: str, claim: str, *, ready: bool | None = True, size: str | None = "20Gi",
             created: str | None = "2026-11-21T03:00:04Z", error: str | None = None,
             stamp: str = "2026-11-21T03:00:00Z") -> dict[str, Any]:
    status: dict[str, Any] = {}
    if ready is not None:
        status["readyToUse"] = ready
    if created:
        status["creationTime"] = created
        status["boundVolumeSnapshotContentName"] = f"snapcontent-{name}"
    if size:
        status["restoreSize"] = size
    if error:
        status["error"] = {"message": error, "time": "2026-11-21T03:00:09Z"}
    return {"apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": stamp},
            "spec": {"volumeSnapshotClassName": "csi-hostpath-snapclass",
                     "source": {"persistentVolumeClaimName": claim}},
            **({"status": status} if status else {})}


def names(api: KubeApiServer, ns: str) -> set[str]:
    return {o["metadata"]["name"] for o in api.list("VolumeSnapshot") if o["metadata"]["namespace"] == ns}


def writes(api: KubeApiServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in api.requests if r.method not in ("GET", "HEAD")]


# -- listing -----------------------------------------------------------------------------------


def test_lists_the_pvcs_snapshots_with_states_sizes_and_times(
        api: KubeApiServer, kube: KubernetesSettings, ns: str) -> None:
    api.put(pvc("data-orders-0", ns))
    api.put_many([
        snapshot("nightly-1", ns, "data-orders-0", created="2026-11-20T03:00:04Z"),
        snapshot("nightly-2", ns, "data-orders-0", size="1500M"),
        snapshot("taking", ns, "data-orders-0", ready=False, size=None, created=None,
                 stamp="2026-11-22T03:00:00Z"),
        snapshot("broken", ns, "data-orders-0", ready=False, size=None,
                 error="Failed to check and update snapshot content: rpc error: code = Internal"),
        snapshot("other-pvc", ns, "data-billing-0"),
    ])
    reading = source(kube, ns).read()
    assert reading.label == f"PVC {ns}/data-orders-0 (dev)"
    assert [b.id for b in reading.backups] == ["taking", "broken", "nightly-2", "nightly-1"]
    by = {b.id: b for b in reading.backups}
    assert (by["nightly-1"].status, by["nightly-1"].size, by["nightly-1"].kind) == (COMPLETED, 20 * 2**30,
                                                                                    "volumesnapshot")
    assert by["nightly-1"].time == datetime(2026, 11, 20, 3, 0, 4, tzinfo=UTC).timestamp()
    assert by["nightly-2"].size == 1_500_000_000
    # Not ready and no error yet: still being taken, timed by the object's creation.
    assert (by["taking"].status, by["taking"].size) == (RUNNING, None)
    assert by["taking"].time == datetime(2026, 11, 22, 3, 0, 0, tzinfo=UTC).timestamp()
    assert (by["broken"].status, by["broken"].note) == (
        FAILED, "Failed to check and update snapshot content: rpc error: code = Internal")
    details = dict(by["nightly-1"].details)
    assert details["class"] == "csi-hostpath-snapclass"
    assert details["content"] == "snapcontent-nightly-1"
    assert dict(reading.facts) == {"snapshot class": "csi-hostpath-snapclass", "pvc": "Bound 20Gi",
                                   "storage class": "csi-hostpath-sc"}
    assert reading.problems == ()


def test_lists_every_page(api: KubeApiServer, kube: KubernetesSettings, ns: str,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    api.put(pvc("data-orders-0", ns))
    api.put_many(snapshot(f"s-{i:02d}", ns, "data-orders-0" if i % 2 else "other") for i in range(11))
    monkeypatch.setattr(kube_snapshots, "PAGE_SIZE", 3)
    api.clear_requests()
    reading = source(kube, ns).read()
    assert sorted(b.id for b in reading.backups) == [f"s-{i:02d}" for i in range(1, 11, 2)]
    lists = [r for r in api.requests if r.path.endswith("/volumesnapshots")]
    assert len(lists) == 4 and all(r.query["limit"] == "3" for r in lists)


def test_a_pvc_that_is_gone_keeps_its_snapshots_listed_with_a_problem(
        api: KubeApiServer, kube: KubernetesSettings, ns: str) -> None:
    api.put(snapshot("last", ns, "data-orders-0"))
    reading = source(kube, ns).read()
    assert [b.id for b in reading.backups] == ["last"]
    assert reading.problems == (f"PVC {ns}/data-orders-0 (dev): the PVC does not exist (its snapshots are "
                                "still listed) — check backups.targets[].source.pvc and namespace",)


# -- backup now and delete ------------------------------------------------------------------------


def test_backup_now_creates_a_labelled_snapshot_that_becomes_ready_and_delete_removes_it(
        api: KubeApiServer, kube: KubernetesSettings, ns: str) -> None:
    api.put(pvc("data-orders-0", ns))
    api.put(snapshot("keep-me", ns, "data-billing-0"))
    src = source(kube, ns)
    assert src.backup_modes == ("snapshot",)
    assert src.backup_now("snapshot") == (f"PVC {ns}/data-orders-0 (dev): VolumeSnapshot "
                                          "data-orders-0-stacktop-20261122-143005 created")
    created = api.get("VolumeSnapshot", ns, "data-orders-0-stacktop-20261122-143005")
    assert created is not None
    assert created["spec"] == {"source": {"persistentVolumeClaimName": "data-orders-0"},
                               "volumeSnapshotClassName": "csi-hostpath-snapclass"}
    assert created["metadata"]["labels"] == {"created-by": "stacktop", "stacktop-target": "orders-db"}
    assert created["metadata"]["annotations"] == {"stacktop/target": "orders db"}

    [taking] = src.read().backups
    assert (taking.id, taking.status) == ("data-orders-0-stacktop-20261122-143005", RUNNING)
    assert dict(taking.details)["created by"] == "stacktop"

    # The snapshot controller's part, as it would write it.
    api.mutate("VolumeSnapshot", ns, taking.id, lambda o: o.update(status={
        "readyToUse": True, "restoreSize": "20Gi", "creationTime": "2026-11-22T14:30:06Z",
        "boundVolumeSnapshotContentName": "snapcontent-1"}))
    [ready] = src.read().backups
    assert (ready.status, ready.size) == (COMPLETED, 20 * 2**30)

    assert src.delete(ready) == f"PVC {ns}/data-orders-0 (dev): deleted VolumeSnapshot {ready.id}"
    assert src.read().backups == ()
    assert names(api, ns) == {"keep-me"}


def test_backup_now_without_a_class_leaves_it_to_the_cluster_default(
        api: KubeApiServer, kube: KubernetesSettings, ns: str) -> None:
    api.put(pvc("data-orders-0", ns))
    src = source(kube, ns, snapshot_class=None)
    src.backup_now("snapshot")
    created = api.get("VolumeSnapshot", ns, "data-orders-0-stacktop-20261122-143005")
    assert created is not None and "volumeSnapshotClassName" not in created["spec"]
    assert dict(src.read().facts)["snapshot class"] == "(cluster default)"


def test_deleting_a_snapshot_already_gone_is_one_line(kube: KubernetesSettings, ns: str) -> None:
    src = source(kube, ns)
    with pytest.raises(SourceError) as err:
        src.delete(parse_volume_snapshot(snapshot("gone", ns, "data-orders-0")))
    assert str(err.value) == (f"PVC {ns}/data-orders-0 (dev): volumesnapshots.snapshot.storage.k8s.io not "
                              'found on this API server (404): volumesnapshots.snapshot.storage.k8s.io '
                              '"gone" not found')


# -- errors --------------------------------------------------------------------------------------


def test_snapshot_crds_missing_is_a_problem_line_not_an_outage(
        api: KubeApiServer, kube: KubernetesSettings, ns: str) -> None:
    # What a server without the CRD answers for the type (no object named in the Status).
    api.fail(404, resource="volumesnapshots")
    src = source(kube, ns)
    reading = src.read()
    assert reading.backups == ()
    assert reading.problems == ("VolumeSnapshot API not installed in context dev (install the "
                                "external-snapshotter CRDs)",)
    with pytest.raises(SourceError) as err:
        src.backup_now("snapshot")
    assert str(err.value) == (f"PVC {ns}/data-orders-0 (dev): VolumeSnapshot API not installed in context "
                              "dev (install the external-snapshotter CRDs)")


def test_forbidden_list_is_one_line_naming_the_rbac(api: KubeApiServer, kube: KubernetesSettings,
                                                    ns: str) -> None:
    api.fail(403, resource="volumesnapshots", verb="list", namespace=ns)
    with pytest.raises(SourceError) as err:
        source(kube, ns).read()
    assert str(err.value) == (f"PVC {ns}/data-orders-0 (dev): forbidden: cannot list "
                              f"volumesnapshots.snapshot.storage.k8s.io in namespace {ns} — ask for RBAC "
                              "list on volumesnapshots.snapshot.storage.k8s.io")


def test_read_only_refuses_create_and_delete_and_sends_nothing(
        api: KubeApiServer, kube: KubernetesSettings, ns: str) -> None:
    api.put(pvc("data-orders-0", ns))
    api.put(snapshot("nightly", ns, "data-orders-0"))
    src = source(kube, ns, read_only=True)
    [existing] = src.read().backups  # reads pass
    api.clear_requests()
    with pytest.raises(SourceError) as err:
        src.backup_now("snapshot")
    assert str(err.value) == (f"PVC {ns}/data-orders-0 (dev): read-only: refused POST "
                              f"/apis/snapshot.storage.k8s.io/v1/namespaces/{ns}/volumesnapshots "
                              "on context dev")
    with pytest.raises(SourceError, match=r"refused DELETE .*/volumesnapshots/nightly on context dev"):
        src.delete(existing)
    assert writes(api) == []
    assert names(api, ns) == {"nightly"}


# -- pure parts -----------------------------------------------------------------------------------


def test_label_value_and_a_snapshot_being_deleted() -> None:
    assert label_value("orders db") == "orders-db"
    long = label_value("-x" * 40)
    assert len(long) <= 63 and long[0].isalnum() and long[-1].isalnum()
    obj = snapshot("going", "db", "data")
    obj["metadata"]["deletionTimestamp"] = "2026-11-22T10:00:00Z"
    going = parse_volume_snapshot(obj)
    assert (going.deletable, going.note) == (False, "being deleted since 2026-11-22T10:00:00Z")
