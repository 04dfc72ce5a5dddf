"""The Kubernetes actions, declared once, and how a record becomes their target.

Keys are scoped to one view (the UI binds them only there): `c`/`u` on Nodes,
`+`/`R` on Workloads, `ctrl+d` on Pods — the keys k9s users already know
where they do not collide with ours (`s` sorts every table).
"""

from __future__ import annotations

from providers.base import ActionParameter, ActionSpec, ActionTarget, Risk
from providers.k8s.records import KubeNode, KubePod, KubeRecord, KubeWorkload

MAX_REPLICAS = 1000

SCALE = ActionSpec(
    "k8s.scale", "plus", "Scale", "Scale to a number of replicas", Risk.DISRUPTIVE, "k8s.workloads",
    parameter=ActionParameter("replicas", "Replicas", 0, MAX_REPLICAS, current_detail="replicas"),
)
RESTART = ActionSpec(
    "k8s.restart", "R", "Restart", "Rollout restart (new pods replace the old, as kubectl does)",
    Risk.DISRUPTIVE, "k8s.workloads",
)
DELETE_POD = ActionSpec(
    "k8s.delete_pod", "ctrl+d", "Delete pod", "Delete the pod (its controller, if any, replaces it)",
    Risk.DISRUPTIVE, "k8s.pods",
)
CORDON = ActionSpec(
    "k8s.cordon", "c", "Cordon", "Cordon the node (no new pods are scheduled on it)", Risk.SAFE,
    "k8s.nodes",
)
UNCORDON = ActionSpec(
    "k8s.uncordon", "u", "Uncordon", "Uncordon the node (pods may be scheduled on it again)",
    Risk.SAFE, "k8s.nodes",
)

ACTIONS_BY_VIEW: dict[str, tuple[ActionSpec, ...]] = {
    "nodes": (CORDON, UNCORDON),
    "workloads": (SCALE, RESTART),
    "pods": (DELETE_POD,),
    "events": (),
    "pvcs": (),
}


def target_for(record: KubeRecord) -> ActionTarget | None:
    """The action target for a row's record; None for records nothing acts on."""
    if isinstance(record, KubeNode):
        return ActionTarget("node", record.key, record.name,
                            {"context": record.context, "name": record.name,
                             "cordoned": "yes" if record.unschedulable else "no"})
    if isinstance(record, KubePod):
        return ActionTarget("pod", record.key, record.name,
                            {"context": record.context, "namespace": record.namespace,
                             "name": record.name, "node": record.node})
    if isinstance(record, KubeWorkload):
        return ActionTarget(record.kind, record.key, record.name,
                            {"context": record.context, "namespace": record.namespace,
                             "name": record.name, "kind": record.kind,
                             "replicas": str(record.desired)})
    return None
