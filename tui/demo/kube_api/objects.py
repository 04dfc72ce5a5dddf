"""Builders for Kubernetes objects as the real API server returns them: plain
JSON-shaped dicts, camelCase keys, RFC 3339 timestamps, zero counters left out
where the API leaves them out.

The builders are pure (uids, times and ids come in as arguments) so the cluster
generator stays deterministic, and they build every nested dict afresh, never
sharing one between objects: the server edits stored objects in place.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from random import Random
from typing import Any

Obj = dict[str, Any]

API_VERSIONS: dict[str, str] = {
    "Namespace": "v1",
    "Node": "v1",
    "Pod": "v1",
    "Event": "v1",
    "PersistentVolumeClaim": "v1",
    "PersistentVolume": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "NodeMetrics": "metrics.k8s.io/v1beta1",
    "PodMetrics": "metrics.k8s.io/v1beta1",
}

# rand.SafeEncodeString's alphabet: no vowels, no 0/1/3, so names spell no words.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
DEFAULT_TOLERATIONS = (
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
)
KUBE_VERSION = "v1.31.2"


# ---------------------------------------------------------------- small values

def rfc3339(ts: float) -> str:
    """Seconds since the epoch as the API writes a Time: whole seconds, UTC, "Z"."""
    return _rfc3339(int(ts))


@lru_cache(maxsize=65536)
def _rfc3339(seconds: int) -> str:
    # A pod's five conditions share one stamp: the cache saves most of the bulk build's formatting.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def parse_time(value: str) -> float:
    """An RFC 3339 Time written by :func:`rfc3339` back to seconds since the epoch."""
    return float(calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%SZ")))


def new_uid(rng: Random) -> str:
    """A version-4 UUID drawn from the caller's generator, so a seed fixes it."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_suffix(rng: Random, length: int = 5) -> str:
    """The random tail of a generated name (checkout-7d9f8c6b5-x2k4q)."""
    return "".join(rng.choices(NAME_ALPHABET, k=length))


def template_hash(template: Mapping[str, Any]) -> str:
    """The pod-template-hash of a template, spelled as Kubernetes spells it.

    Kubernetes safe-encodes the decimal digits of a 32-bit hash of the template,
    which is why real hashes only use 4-9 and b/c/d/f ("7d9f8c6b5"). Kubernetes
    hashes with FNV-32a; a slice of SHA-1 looks the same and costs far less in
    Python. The same template always gives the same hash: the controller relies on it.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    h = int.from_bytes(hashlib.sha1(data).digest()[:4], "big")
    return "".join(NAME_ALPHABET[ord(c) % len(NAME_ALPHABET)] for c in str(h))


@lru_cache(maxsize=4096)
def image_id(image: str) -> str:
    """A stable digest per image, like the runtime reports (repo@sha256:...)."""
    name, _, tag = image.rpartition(":")
    repo = name if name and "/" not in tag else image
    if "/" not in repo:
        repo = f"docker.io/library/{repo}"
    elif repo.count("/") == 1 and "." not in repo.split("/", 1)[0]:
        repo = f"docker.io/{repo}"
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def cpu_quantity(nanocores: int, unit: str = "n") -> str:
    """CPU as metrics-server writes it ("245762345n"), or in millicores ("245m")."""
    if unit == "m":
        return f"{max(nanocores // 1_000_000, 0)}m"
    return f"{max(nanocores, 0)}n"


def memory_quantity(nbytes: int, unit: str = "Ki") -> str:
    """Memory as the kubelet writes it ("1845324Ki"), or in Mi ("200Mi")."""
    if unit == "Mi":
        return f"{max(nbytes // (1024 * 1024), 0)}Mi"
    return f"{max(nbytes // 1024, 0)}Ki"


_SUFFIXES = {"Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "k": 1000, "M": 1000**2, "G": 1000**3}


@lru_cache(maxsize=4096)
def parse_quantity(value: str) -> float:
    """A resource quantity in base units (cores, bytes): the generator sizes usage
    from requests and limits with it. Covers the suffixes these builders write."""
    if value.endswith("n"):
        return int(value[:-1]) / 1e9
    if value.endswith("u"):
        return int(value[:-1]) / 1e6
    if value.endswith("m"):
        return int(value[:-1]) / 1e3
    for suffix in ("Ki", "Mi", "Gi", "Ti", "k", "M", "G"):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * _SUFFIXES[suffix]
    return float(value)


# --------------------------------------------------------------------- metadata

def object_meta(
    name: str,
    *,
    uid: str,
    created: float,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owner: Mapping[str, Any] | None = None,
    generation: int | None = None,
    generate_name: str | None = None,
    finalizers: Sequence[str] = (),
) -> Obj:
    """ObjectMeta with only the keys the API would send for such an object."""
    meta: Obj = {"name": name}
    if generate_name:
        meta["generateName"] = generate_name
    if namespace is not None:
        meta["namespace"] = namespace
    meta["uid"] = uid
    meta["creationTimestamp"] = rfc3339(created)
    if generation is not None:
        meta["generation"] = generation
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    if finalizers:
        meta["finalizers"] = list(finalizers)
    return meta


def owner_reference(owner: Mapping[str, Any]) -> Obj:
    """The controller reference a child carries to its owner."""
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def condition(ctype: str, status: str, *, at: float, reason: str | None = None,
              message: str | None = None, probe: bool = True) -> Obj:
    """A status condition. Pod conditions carry lastProbeTime (null); workload
    conditions carry lastUpdateTime instead (probe=False)."""
    cond: Obj = {"type": ctype, "status": status}
    if probe:
        cond["lastProbeTime"] = None
    else:
        cond["lastUpdateTime"] = rfc3339(at)
    cond["lastTransitionTime"] = rfc3339(at)
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


# -------------------------------------------------------------------- namespace

def namespace(name: str, *, uid: str, created: float) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": object_meta(name, uid=uid, created=created,
                                labels={"kubernetes.io/metadata.name": name}),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


# ------------------------------------------------------------------------- node

def node(
    name: str,
    *,
    uid: str,
    created: float,
    control_plane: bool,
    internal_ip: str,
    pod_cidr: str,
    cpu: int = 4,
    memory_gi: int = 16,
    max_pods: int = 110,
    ready: bool | None = True,
    unschedulable: bool = False,
    zone: str = "eu-west-1a",
    instance_type: str = "m6i.xlarge",
    instance_id: str = "i-0000000000000000",
    boot_id: str = "",
    heartbeat: float | None = None,
    taints: Iterable[Mapping[str, Any]] = (),
) -> Obj:
    """A Node. ``ready=None`` is a node whose kubelet stopped reporting: every
    condition Unknown and the unreachable taints the node controller adds."""
    heartbeat = created if heartbeat is None else heartbeat
    role = "control-plane" if control_plane else "worker"
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        f"node-role.kubernetes.io/{role}": "",
        "node.kubernetes.io/instance-type": instance_type,
        "topology.kubernetes.io/region": zone[:-1],
        "topology.kubernetes.io/zone": zone,
    }
    all_taints = [dict(t) for t in taints]
    if control_plane:
        all_taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    if ready is None:
        stamp = rfc3339(heartbeat)
        for effect in ("NoExecute", "NoSchedule"):
            all_taints.append({"key": "node.kubernetes.io/unreachable", "effect": effect, "timeAdded": stamp})
    if unschedulable:
        all_taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                           "timeAdded": rfc3339(heartbeat)})
    spec: Obj = {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr],
                 "providerID": f"aws:///{zone}/{instance_id}"}
    if all_taints:
        spec["taints"] = all_taints
    if unschedulable:
        spec["unschedulable"] = True
    mem_ki = memory_gi * 1024 * 1024
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": object_meta(name, uid=uid, created=created, labels=labels, annotations={
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }),
        "spec": spec,
        "status": {
            "capacity": {"cpu": str(cpu), "memory": f"{memory_gi}Gi", "pods": str(max_pods),
                         "ephemeral-storage": "104845292Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
            "allocatable": {"cpu": f"{cpu * 1000 - 80}m", "memory": f"{mem_ki - 1_150_000}Ki",
                            "pods": str(max_pods), "ephemeral-storage": "96625420948",
                            "hugepages-1Gi": "0", "hugepages-2Mi": "0"},
            "conditions": node_conditions(ready, at=heartbeat, since=created),
            "addresses": [{"type": "InternalIP", "address": internal_ip},
                          {"type": "Hostname", "address": name},
                          {"type": "InternalDNS", "address": f"ip-{internal_ip.replace('.', '-')}.{zone[:-1]}"
                                                            ".compute.internal"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": boot_id or str(uuid.UUID(hashlib.md5(name.encode() + b"boot").hexdigest())),
                "containerRuntimeVersion": "containerd://1.7.22",
                "kernelVersion": "6.8.0-1018-aws",
                "kubeProxyVersion": KUBE_VERSION,
                "kubeletVersion": KUBE_VERSION,
                "machineID": hashlib.md5(name.encode()).hexdigest(),
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.1 LTS",
                "systemUUID": str(uuid.UUID(hashlib.md5(name.encode() + b"sys").hexdigest())),
            },
        },
    }


def node_conditions(ready: bool | None, *, at: float, since: float) -> list[Obj]:
    """Kubelet's four conditions; all Unknown once it stops posting status."""
    def cond(ctype: str, status: str, reason: str, message: str) -> Obj:
        return {"type": ctype, "status": status, "lastHeartbeatTime": rfc3339(at),
                "lastTransitionTime": rfc3339(since if status != "Unknown" else at),
                "reason": reason, "message": message}

    if ready is None:
        lost = "Kubelet stopped posting node status."
        return [cond(t, "Unknown", "NodeStatusUnknown", lost)
                for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
    return [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory",
             "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")
        if ready else cond("Ready", "False", "KubeletNotReady", "container runtime is down"),
    ]


# -------------------------------------------------------------------- pod parts

def container(
    name: str,
    image: str,
    *,
    cpu_request: str = "250m",
    memory_request: str = "256Mi",
    cpu_limit: str | None = None,
    memory_limit: str | None = "256Mi",
    port: int | None = None,
    mounts: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Obj:
    """A container of a pod spec (and of a template)."""
    limits: Obj = {}
    if cpu_limit:
        limits["cpu"] = cpu_limit
    if memory_limit:
        limits["memory"] = memory_limit
    resources: Obj = {"requests": {"cpu": cpu_request, "memory": memory_request}}
    if limits:
        resources["limits"] = limits
    spec: Obj = {"name": name, "image": image, "imagePullPolicy": "IfNotPresent"}
    if env:
        spec["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if port:
        spec["ports"] = [{"name": "http" if port != 9100 else "metrics", "containerPort": port,
                          "protocol": "TCP"}]
    spec["resources"] = resources
    if mounts:
        spec["volumeMounts"] = [{"name": k, "mountPath": v} for k, v in mounts.items()]
    spec["terminationMessagePath"] = "/dev/termination-log"
    spec["terminationMessagePolicy"] = "File"
    return spec


def copy_container(spec: Mapping[str, Any]) -> Obj:
    """A fresh copy of a container spec built by :func:`container` (cheaper than
    deepcopy: the nesting is known)."""
    out = dict(spec)
    res = spec["resources"]
    out["resources"] = {k: dict(v) for k, v in res.items()}
    if "ports" in spec:
        out["ports"] = [dict(p) for p in spec["ports"]]
    if "env" in spec:
        out["env"] = [dict(e) for e in spec["env"]]
    if "volumeMounts" in spec:
        out["volumeMounts"] = [dict(m) for m in spec["volumeMounts"]]
    return out


def pod_template(labels: Mapping[str, str], containers: Sequence[Mapping[str, Any]], *,
                 annotations: Mapping[str, str] | None = None,
                 volumes: Sequence[Mapping[str, Any]] = (),
                 tolerations: Sequence[Mapping[str, Any]] = ()) -> Obj:
    """A PodTemplateSpec: what a workload stamps its pods from."""
    meta: Obj = {"labels": dict(labels)}
    if annotations:
        meta["annotations"] = dict(annotations)
    spec: Obj = {
        "containers": [copy_container(c) for c in containers],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
    }
    if volumes:
        spec["volumes"] = [_copy_volume(v) for v in volumes]
    if tolerations:
        spec["tolerations"] = [dict(t) for t in tolerations]
    return {"metadata": meta, "spec": spec}


def _copy_volume(volume: Mapping[str, Any]) -> Obj:
    return {k: dict(v) if isinstance(v, Mapping) else v for k, v in volume.items()}


def running_state(started: float) -> Obj:
    return {"running": {"startedAt": rfc3339(started)}}


def waiting_state(reason: str, message: str | None = None) -> Obj:
    waiting: Obj = {"reason": reason}
    if message:
        waiting["message"] = message
    return {"waiting": waiting}


def terminated_state(reason: str, exit_code: int, *, started: float, finished: float,
                     container_id: str | None = None) -> Obj:
    term: Obj = {"exitCode": exit_code, "reason": reason,
                 "startedAt": rfc3339(started), "finishedAt": rfc3339(finished)}
    if container_id:
        term["containerID"] = container_id
    return {"terminated": term}


def container_status(name: str, image: str, *, state: Obj, ready: bool, restart_count: int = 0,
                     last_state: Obj | None = None, container_id: str | None = None) -> Obj:
    """A containerStatuses entry; a container still being created has no id yet."""
    status: Obj = {
        "name": name,
        "state": state,
        "lastState": last_state if last_state is not None else {},
        "ready": ready,
        "restartCount": restart_count,
        "image": image,
        "imageID": image_id(image) if container_id else "",
        "started": "running" in state,
    }
    if container_id:
        status["containerID"] = container_id
    return status


def qos_class(containers: Sequence[Mapping[str, Any]]) -> str:
    """Guaranteed when every container's limits equal its requests (cpu and memory)."""
    guaranteed = True
    for spec in containers:
        res = spec.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if not req and not lim:
            continue
        if not (lim.get("cpu") and lim.get("memory") and req.get("cpu", lim["cpu"]) == lim["cpu"]
                and req.get("memory", lim["memory"]) == lim["memory"]):
            guaranteed = False
    if all(not (c.get("resources") or {}) for c in containers):
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod(
    name: str,
    *,
    namespace: str,
    uid: str,
    created: float,
    template: Mapping[str, Any],
    owner: Mapping[str, Any] | None,
    extra_labels: Mapping[str, str] | None = None,
    node_name: str | None,
    host_ip: str | None = None,
    pod_ip: str | None = None,
    phase: str = "Running",
    statuses: Sequence[Obj] = (),
    started: float | None = None,
    unschedulable_message: str | None = None,
    generate_name: str | None = None,
) -> Obj:
    """A Pod stamped from ``template``; readiness and conditions follow from the
    container statuses, as the kubelet derives them."""
    tmeta = template.get("metadata") or {}
    tspec = template["spec"]
    labels = dict(tmeta.get("labels") or {})
    if extra_labels:
        labels.update(extra_labels)
    containers = [copy_container(c) for c in tspec["containers"]]
    spec: Obj = {
        "containers": containers,
        "restartPolicy": tspec.get("restartPolicy", "Always"),
        "terminationGracePeriodSeconds": tspec.get("terminationGracePeriodSeconds", 30),
        "dnsPolicy": tspec.get("dnsPolicy", "ClusterFirst"),
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "tolerations": [dict(t) for t in tspec.get("tolerations", ())] + [
            {"key": key, "operator": "Exists", "effect": effect, "tolerationSeconds": 300}
            for key, effect in DEFAULT_TOLERATIONS
        ],
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    if "volumes" in tspec:
        spec["volumes"] = [_copy_volume(v) for v in tspec["volumes"]]
    if node_name:
        spec["nodeName"] = node_name
    status: Obj = {"phase": phase}
    if unschedulable_message is not None:
        status["conditions"] = [condition("PodScheduled", "False", at=created, reason="Unschedulable",
                                          message=unschedulable_message)]
    else:
        status["conditions"] = pod_conditions(statuses, at=started if started is not None else created)
        if host_ip:
            status["hostIP"] = host_ip
            status["hostIPs"] = [{"ip": host_ip}]
        if pod_ip:
            status["podIP"] = pod_ip
            status["podIPs"] = [{"ip": pod_ip}]
        if started is not None:
            status["startTime"] = rfc3339(started)
        if statuses:
            status["containerStatuses"] = list(statuses)
    status["qosClass"] = qos_class(containers)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": object_meta(name, uid=uid, created=created, namespace=namespace, labels=labels,
                                annotations=tmeta.get("annotations"), owner=owner,
                                generate_name=generate_name),
        "spec": spec,
        "status": status,
    }


def pod_conditions(statuses: Sequence[Mapping[str, Any]], *, at: float) -> list[Obj]:
    """The five conditions of a scheduled pod, Ready only when every container is."""
    unready = [s["name"] for s in statuses if not s["ready"]]
    created = bool(statuses) and all("waiting" not in s["state"]
                                     or s["state"]["waiting"].get("reason") != "ContainerCreating"
                                     for s in statuses)
    ready = "True" if statuses and not unready else "False"
    msg = f"containers with unready status: [{' '.join(unready)}]" if unready else None
    reason = "ContainersNotReady" if unready else None
    return [
        condition("PodReadyToStartContainers", "True" if created else "False", at=at),
        condition("Initialized", "True", at=at),
        condition("Ready", ready, at=at, reason=reason, message=msg),
        condition("ContainersReady", ready, at=at, reason=reason, message=msg),
        condition("PodScheduled", "True", at=at),
    ]


# ---------------------------------------------------------------- workloads

def _nonzero(status: Obj) -> Obj:
    """The API leaves zero counters out of workload status; consoles must cope."""
    return {k: v for k, v in status.items() if v != 0 or k in ("replicas",)}


def deployment(
    name: str,
    *,
    namespace: str,
    uid: str,
    created: float,
    replicas: int,
    template: Mapping[str, Any],
    revision: int = 1,
    generation: int = 1,
    updated: int | None = None,
    ready: int | None = None,
    total: int | None = None,
    new_rs: str = "",
    at: float | None = None,
) -> Obj:
    """A Deployment whose status says what its ReplicaSets report; ``new_rs``
    names the current ReplicaSet for the Progressing condition's message."""
    at = created if at is None else at
    total = replicas if total is None else total
    updated = total if updated is None else updated
    ready = total if ready is None else ready
    selector = {"matchLabels": dict(template["metadata"]["labels"])}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(name, uid=uid, created=created, namespace=namespace, generation=generation,
                                labels={"app": name, "app.kubernetes.io/name": name},
                                annotations={"deployment.kubernetes.io/revision": str(revision)}),
        "spec": {
            "replicas": replicas,
            "selector": selector,
            "template": template,
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        },
        "status": deployment_status(replicas=replicas, total=total, updated=updated, ready=ready,
                                    generation=generation, new_rs=new_rs, at=at, since=created),
    }


PROGRESS_MESSAGES = {
    "ReplicaSetUpdated": ("True", 'ReplicaSet "{}" is progressing.'),
    "NewReplicaSetAvailable": ("True", 'ReplicaSet "{}" has successfully progressed.'),
    "ProgressDeadlineExceeded": ("False", 'ReplicaSet "{}" has timed out progressing.'),
}


def deployment_status(*, replicas: int, total: int, updated: int, ready: int, generation: int,
                      new_rs: str, at: float, since: float, progress: str | None = None) -> Obj:
    """Status of a Deployment: Available while no more than 25 % is unavailable.

    ``progress`` is the Progressing reason; by default ReplicaSetUpdated until
    every replica runs the new template and is ready. It is the caller's to say
    when a finished rollout stays finished although a pod broke later
    (NewReplicaSetAvailable), or when it stalled (ProgressDeadlineExceeded).
    """
    max_unavailable = replicas // 4
    available = ready >= replicas - max_unavailable
    if progress is None:
        done = updated >= replicas and total == updated and ready >= replicas
        progress = "NewReplicaSetAvailable" if done else "ReplicaSetUpdated"
    flag, text = PROGRESS_MESSAGES[progress]
    progressing = condition("Progressing", flag, at=at, probe=False, reason=progress,
                            message=text.format(new_rs))
    availability = (condition("Available", "True", at=since, probe=False, reason="MinimumReplicasAvailable",
                              message="Deployment has minimum availability.")
                    if available else
                    condition("Available", "False", at=at, probe=False, reason="MinimumReplicasUnavailable",
                              message="Deployment does not have minimum availability."))
    status = _nonzero({
        "observedGeneration": generation,
        "replicas": total,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(replicas - ready, 0),
    })
    status["conditions"] = [availability, progressing]
    return status


def replica_set(
    owner: Mapping[str, Any],
    *,
    template_hash_: str,
    uid: str,
    created: float,
    replicas: int,
    template: Mapping[str, Any],
    revision: int,
    ready: int | None = None,
    total: int | None = None,
) -> Obj:
    """A Deployment's ReplicaSet: name and selector carry the pod-template-hash."""
    dep_name = owner["metadata"]["name"]
    rs_template = pod_template_with_hash(template, template_hash_)
    wanted = owner["spec"]["replicas"]
    labels = dict(rs_template["metadata"]["labels"])
    total = replicas if total is None else total
    ready = total if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": object_meta(f"{dep_name}-{template_hash_}", uid=uid, created=created,
                                namespace=owner["metadata"]["namespace"], labels=labels, owner=owner,
                                generation=1, annotations={
                                    "deployment.kubernetes.io/desired-replicas": str(wanted),
                                    "deployment.kubernetes.io/max-replicas": str(wanted + 1),
                                    "deployment.kubernetes.io/revision": str(revision),
                                }),
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)}, "template": rs_template},
        "status": replica_set_status(total=total, ready=ready),
    }


def replica_set_status(*, total: int, ready: int) -> Obj:
    return _nonzero({"replicas": total, "fullyLabeledReplicas": total, "readyReplicas": ready,
                     "availableReplicas": ready, "observedGeneration": 1})


def pod_template_with_hash(template: Mapping[str, Any], hash_: str) -> Obj:
    """A Deployment template as its ReplicaSet holds it: same, plus the hash label."""
    out = dict(template)
    meta = dict(template["metadata"])
    meta["labels"] = {**template["metadata"]["labels"], "pod-template-hash": hash_}
    out["metadata"] = meta
    return out


def stateful_set(
    name: str,
    *,
    namespace: str,
    uid: str,
    created: float,
    replicas: int,
    template: Mapping[str, Any],
    service_name: str,
    storage: str,
    storage_class: str = "gp3",
    ready: int | None = None,
    generation: int = 1,
) -> Obj:
    """A StatefulSet with one volume claim template "data" per replica."""
    ready = replicas if ready is None else ready
    revision = f"{name}-{template_hash(template)}"
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": object_meta(name, uid=uid, created=created, namespace=namespace, generation=generation,
                                labels={"app": name, "app.kubernetes.io/name": name}),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(template["metadata"]["labels"])},
            "serviceName": service_name,
            "template": template,
            "volumeClaimTemplates": [{
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}},
                         "storageClassName": storage_class, "volumeMode": "Filesystem"},
                "status": {"phase": "Pending"},
            }],
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        },
        "status": stateful_set_status(replicas=replicas, ready=ready, current=replicas, updated=replicas,
                                      current_revision=revision, update_revision=revision,
                                      generation=generation),
    }


def stateful_set_status(*, replicas: int, ready: int, current: int, updated: int, current_revision: str,
                        update_revision: str, generation: int) -> Obj:
    status = _nonzero({"observedGeneration": generation, "replicas": replicas, "readyReplicas": ready,
                       "currentReplicas": current, "updatedReplicas": updated, "availableReplicas": ready})
    status.update({"currentRevision": current_revision, "updateRevision": update_revision,
                   "collisionCount": 0})
    return status


def daemon_set(
    name: str,
    *,
    namespace: str,
    uid: str,
    created: float,
    template: Mapping[str, Any],
    desired: int,
    ready: int,
    updated: int | None = None,
    generation: int = 1,
) -> Obj:
    """A DaemonSet: one pod per node its tolerations admit."""
    updated = desired if updated is None else updated
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": object_meta(name, uid=uid, created=created, namespace=namespace, generation=generation,
                                labels={"app": name, "app.kubernetes.io/name": name},
                                annotations={"deprecated.daemonset.template.generation": str(generation)}),
        "spec": {
            "selector": {"matchLabels": dict(template["metadata"]["labels"])},
            "template": template,
            "updateStrategy": {"type": "RollingUpdate",
                               "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10,
        },
        "status": daemon_set_status(desired=desired, current=desired, ready=ready, updated=updated,
                                    generation=generation),
    }


def daemon_set_status(*, desired: int, current: int, ready: int, updated: int, generation: int) -> Obj:
    status = {
        "currentNumberScheduled": current,
        "desiredNumberScheduled": desired,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "observedGeneration": generation,
    }
    status.update(_nonzero({"updatedNumberScheduled": updated, "numberAvailable": ready,
                            "numberUnavailable": max(desired - ready, 0)}))
    return status


# ----------------------------------------------------------------------- events

def event(
    *,
    name: str,
    namespace: str,
    uid: str,
    involved: Mapping[str, Any],
    reason: str,
    message: str,
    type_: str = "Normal",
    count: int = 1,
    first: float,
    last: float,
    component: str,
    host: str | None = None,
    field_path: str | None = None,
) -> Obj:
    """A core/v1 Event about ``involved`` (any object built here)."""
    meta = involved["metadata"]
    ref: Obj = {"apiVersion": involved["apiVersion"], "kind": involved["kind"], "name": meta["name"]}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    if field_path:
        ref["fieldPath"] = field_path
    source: Obj = {"component": component}
    if host:
        source["host"] = host
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace, "uid": uid, "creationTimestamp": rfc3339(first)},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": rfc3339(first),
        "lastTimestamp": rfc3339(last),
        "source": source,
        "reportingComponent": component,
        "reportingInstance": host or "",
        "eventTime": None,
    }


def event_name(involved_name: str, at: float, rng: Random) -> str:
    """Events are named <object>.<hex nanoseconds>, unique per occurrence."""
    return f"{involved_name}.{int(at * 1e9) + rng.randrange(1_000_000):x}"


# ---------------------------------------------------------------------- storage

def persistent_volume_claim(
    name: str,
    *,
    namespace: str,
    uid: str,
    created: float,
    storage: str,
    storage_class: str = "gp3",
    volume_name: str | None = None,
    labels: Mapping[str, str] | None = None,
) -> Obj:
    """A claim, Bound when it names a volume and Pending otherwise."""
    annotations = {"volume.beta.kubernetes.io/storage-provisioner": "ebs.csi.aws.com",
                   "volume.kubernetes.io/storage-provisioner": "ebs.csi.aws.com"}
    if volume_name:
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
    spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}},
                 "storageClassName": storage_class, "volumeMode": "Filesystem"}
    if volume_name:
        spec["volumeName"] = volume_name
    status: Obj = ({"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": storage}}
                   if volume_name else {"phase": "Pending"})
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": object_meta(name, uid=uid, created=created, namespace=namespace, labels=labels,
                                annotations=annotations, finalizers=("kubernetes.io/pvc-protection",)),
        "spec": spec,
        "status": status,
    }


def persistent_volume(claim: Mapping[str, Any], *, uid: str, created: float, zone: str,
                      volume_handle: str) -> Obj:
    """The dynamically provisioned volume bound to ``claim`` (named pvc-<claim uid>)."""
    cmeta = claim["metadata"]
    storage = claim["spec"]["resources"]["requests"]["storage"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": object_meta(f"pvc-{cmeta['uid']}", uid=uid, created=created,
                                annotations={"pv.kubernetes.io/provisioned-by": "ebs.csi.aws.com",
                                             "volume.kubernetes.io/provisioner-deletion-secret-name": ""},
                                finalizers=("external-provisioner.volume.kubernetes.io/finalizer",
                                            "kubernetes.io/pv-protection")),
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": storage},
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": cmeta["name"],
                         "namespace": cmeta["namespace"], "uid": cmeta["uid"]},
            "csi": {"driver": "ebs.csi.aws.com", "fsType": "ext4", "volumeHandle": volume_handle,
                    "volumeAttributes": {
                        "storage.kubernetes.io/csiProvisionerIdentity": "1732269600000-ebs.csi.aws.com"}},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}},
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": claim["spec"]["storageClassName"],
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound", "lastPhaseTransitionTime": rfc3339(created)},
    }


# ---------------------------------------------------------------------- metrics

def node_metrics(name: str, *, cpu: str, memory: str, at: float, labels: Mapping[str, str] | None = None,
                 window: str = "30s") -> Obj:
    """metrics.k8s.io NodeMetrics: usage over the last ``window``."""
    meta: Obj = {"name": name, "creationTimestamp": rfc3339(at)}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "NodeMetrics", "metadata": meta,
            "timestamp": rfc3339(at), "window": window, "usage": {"cpu": cpu, "memory": memory}}


def pod_metrics(name: str, *, namespace: str, containers: Iterable[tuple[str, str, str]], at: float,
                labels: Mapping[str, str] | None = None, window: str = "30s") -> Obj:
    """metrics.k8s.io PodMetrics, one usage per (container, cpu, memory)."""
    meta: Obj = {"name": name, "namespace": namespace, "creationTimestamp": rfc3339(at)}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "metrics.k8s.io/v1beta1", "kind": "PodMetrics", "metadata": meta,
            "timestamp": rfc3339(at), "window": window,
            "containers": [{"name": n, "usage": {"cpu": c, "memory": m}} for n, c, m in containers]}
