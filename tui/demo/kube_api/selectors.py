"""Label and field selectors with the grammar and error messages of the real API server.

Field selectors only accept the labels each kind really supports (``kubectl get pods
--field-selector status.hostIP=x`` fails with 400 on a real cluster, so it fails here too);
an object's field values are computed once when it is stored, so filtering 20,000 pods
never decodes them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SelectorError(ValueError):
    """A selector the real server would answer with 400 BadRequest."""


# Field labels each kind supports besides metadata.name and metadata.namespace
# (pkg/apis/*/v1/conversion.go: AddFieldLabelConversionFunc in Kubernetes).
FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
            "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Node": ("spec.unschedulable",),
    "Namespace": ("status.phase",),
    "Event": ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
              "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
              "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "ReplicaSet": ("status.replicas",),
}
# Kinds whose conversion code answers "field label not supported: X"; the others use
# the generic metav1 conversion and its '"X" is not a known field selector' message.
_CUSTOM_FIELD_KINDS = {"Pod", "Node", "Namespace", "Event", "ReplicaSet", "PersistentVolumeClaim",
                       "PersistentVolume"}
_BOOL_FIELDS = {"spec.hostNetwork", "spec.unschedulable"}
_FIELD_PATHS = {"source": ("source", "component")}


def _lookup(obj: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def field_values(kind: str, obj: Mapping[str, Any]) -> tuple[str, ...]:
    """The kind's selectable field values, in FIELD_LABELS order (interned: most repeat)."""
    values = []
    for label in FIELD_LABELS.get(kind, ()):
        raw = _lookup(obj, _FIELD_PATHS.get(label) or tuple(label.split(".")))
        if label in _BOOL_FIELDS:
            text = "true" if raw is True else "false"
        elif raw is None:
            text = ""
        else:
            text = str(raw)
        values.append(sys.intern(text))
    return tuple(values)


# ---------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    index: int          # -1 = metadata.name, -2 = metadata.namespace, else into field_values
    value: str
    negate: bool


class FieldSelector:
    """A parsed fieldSelector; matches on precomputed values, never on the object."""

    __slots__ = ("name_equals", "requirements", "text")

    def __init__(self, text: str, requirements: tuple[FieldRequirement, ...]) -> None:
        self.text = text
        self.requirements = requirements
        # `metadata.name=x` alone is the single-object watch the client library sends.
        self.name_equals = next((r.value for r in requirements if r.index == -1 and not r.negate), None)

    def matches(self, namespace: str, name: str, fields: tuple[str, ...]) -> bool:
        for req in self.requirements:
            if req.index == -1:
                actual = name
            elif req.index == -2:
                actual = namespace
            else:
                actual = fields[req.index]
            if (actual == req.value) == req.negate:
                return False
        return True


def _split_terms(text: str) -> list[str]:
    """Split on commas not escaped with a backslash (fields.ParseSelector rules)."""
    terms, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == ",":
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    terms.append("".join(cur))
    return terms


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def parse_field_selector(kind: str, text: str | None) -> FieldSelector | None:
    """None when there is nothing to filter on."""
    if not text or not text.strip():
        return None
    labels = FIELD_LABELS.get(kind, ())
    reqs = []
    for term in _split_terms(text):
        if not term:
            continue
        for op in ("!=", "==", "="):
            key, sep, value = term.partition(op)
            if sep:
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        key = key.strip()
        if key == "metadata.name":
            index = -1
        elif key == "metadata.namespace":
            index = -2
        elif key in labels:
            index = labels.index(key)
        elif kind in _CUSTOM_FIELD_KINDS:
            raise SelectorError(f"field label not supported: {key}")
        else:
            raise SelectorError(f'"{key}" is not a known field selector: only "metadata.name", '
                                f'"metadata.namespace"')
        reqs.append(FieldRequirement(index, _unescape(value), op == "!="))
    return FieldSelector(text, tuple(reqs)) if reqs else None


# ---------------------------------------------------------------------------- labels

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TOKEN = re.compile(r"\s*(?:(==|!=|=|\(|\)|,|!|<|>)|([^\s,()=!<>]+))")


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    key: str
    op: str              # exists, !, =, !=, in, notin, gt, lt
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.op
        if op == "exists":
            return self.key in labels
        if op == "!":
            return self.key not in labels
        value = labels.get(self.key)
        if op in ("=", "in"):
            return value is not None and value in self.values
        if op in ("!=", "notin"):
            return value is None or value not in self.values
        if value is None:
            return False
        try:
            number = int(value)
        except ValueError:
            return False
        bound = int(next(iter(self.values)))
        return number > bound if op == "gt" else number < bound


class LabelSelector:
    """A parsed labelSelector: requirements ANDed, like labels.Parse."""

    __slots__ = ("requirements", "text")

    def __init__(self, text: str, requirements: tuple[LabelRequirement, ...]) -> None:
        self.text = text
        self.requirements = requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(req.matches(labels) for req in self.requirements)


def _check_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix))) or len(name) > 63 \
            or not _LABEL_NAME.match(name):
        raise SelectorError(f"unable to parse requirement: key: Invalid value: \"{key}\": name part must "
                            "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                            "with an alphanumeric character")
    return key


def _check_value(value: str) -> str:
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        raise SelectorError(f"unable to parse requirement: values[0]: Invalid value: \"{value}\": a valid "
                            "label must be an empty string or consist of alphanumeric characters, '-', "
                            "'_' or '.', and must start and end with an alphanumeric character")
    return value


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SelectorError(f"unable to parse requirement: found '{text[pos:]}', expected: identifier")
        out.append(m.group(1) or m.group(2))
        pos = m.end()
    return out


def parse_label_selector(text: str | None) -> LabelSelector | None:
    """None when there is nothing to filter on."""
    if not text or not text.strip():
        return None
    toks = _tokens(text)
    reqs: list[LabelRequirement] = []
    i = 0

    def take() -> str | None:
        nonlocal i
        tok = toks[i] if i < len(toks) else None
        i += 1
        return tok

    def expect_word(what: str) -> str:
        tok = take()
        if tok is None or tok in ("==", "!=", "=", "(", ")", ",", "!", "<", ">"):
            raise SelectorError(f"unable to parse requirement: found '{tok or ''}', expected: {what}")
        return tok

    while i < len(toks):
        if toks[i] == "!":
            i += 1
            reqs.append(LabelRequirement(_check_key(expect_word("identifier")), "!"))
        else:
            key = _check_key(expect_word("identifier"))
            op = take()
            if op is None or op == ",":
                reqs.append(LabelRequirement(key, "exists"))
                if op == ",":
                    continue
                break
            if op in ("=", "==", "!="):
                nxt = toks[i] if i < len(toks) else None
                value = "" if nxt in (None, ",") else _check_value(expect_word("identifier"))
                reqs.append(LabelRequirement(key, "!=" if op == "!=" else "=", frozenset((value,))))
            elif op in ("in", "notin"):
                if take() != "(":
                    raise SelectorError("unable to parse requirement: found '', expected: '('")
                values: set[str] = set()
                while True:
                    tok = take()
                    if tok == ")":
                        break
                    if tok == ",":
                        continue
                    if tok is None:
                        raise SelectorError("unable to parse requirement: found '', expected: ')'")
                    values.add(_check_value(tok))
                if not values:
                    raise SelectorError("unable to parse requirement: for 'in', 'notin' operators, "
                                        "values set can't be empty")
                reqs.append(LabelRequirement(key, op, frozenset(values)))
            elif op in ("<", ">"):
                bound = expect_word("integer")
                if not bound.lstrip("-").isdigit():
                    raise SelectorError(f"unable to parse requirement: for 'Gt', 'Lt' operators, the value "
                                        f"must be an integer: {bound}")
                reqs.append(LabelRequirement(key, "gt" if op == ">" else "lt", frozenset((bound,))))
            else:
                raise SelectorError(f"unable to parse requirement: found '{op}', expected: "
                                    "in, notin, =, ==, !=, gt, lt")
        sep = take()
        if sep not in (None, ","):
            raise SelectorError(f"found '{sep}', expected: ',' or 'end of string'")
    return LabelSelector(text, tuple(reqs)) if reqs else None


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """A LabelSelector object (matchLabels/matchExpressions) as the string Scale.status carries."""
    if not selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator", ""), sorted(expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)
