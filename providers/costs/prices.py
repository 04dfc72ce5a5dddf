"""The price table behind the waste finder's estimates.

AWS's Price List API is large, slow and needs its own permission, and the finder
only needs a few hundred prices: so stacktop ships a dated table
(config/prices/aws.yaml) of us-east-1 on-demand prices with a factor per region,
and lets the operator merge a file of their own over it (costs.waste.prices) for
their discounts, missing types or regions. Every figure derived from it is an
estimate and the screen says which table it came from (`PriceTable.note`).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HOURS_PER_MONTH = 730
"""AWS's own convention for a month of hourly charges (8,760 h / 12)."""

def bundled_path() -> Path:
    """config/prices/aws.yaml as shipped inside the package."""
    import config

    return Path(config.__file__).resolve().parent / "prices" / "aws.yaml"


@functools.cache
def _bundled_raw() -> dict[str, Any]:
    path = bundled_path()
    raw = _read(path)
    _validate(raw, path, complete=True)
    return raw


class _Bad(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"price table {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"price table {path}: not valid YAML{where}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"price table {path}: must be a mapping of sections (ec2, rds, ebs, …), "
                         f"got {type(raw).__name__}")
    return raw


def _number(key: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(key, f"must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise _Bad(key, f"must be {'greater than 0' if positive else '0 or more'}, got {value!r}")
    return float(value)


def _mapping(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Bad(key, f"must be a mapping, got {value!r}")
    for k in value:
        if not isinstance(k, str) or not k:
            raise _Bad(key, f"keys must be names, got {k!r}")
    return value


def _prices(key: str, value: Any, *, positive: bool = False) -> None:
    for name, price in _mapping(key, value).items():
        _number(f"{key}.{name}", price, positive=positive)


def _text(key: str, value: Any) -> None:
    if not isinstance(value, str | _dt.date) or not str(value).strip():
        raise _Bad(key, f"must be a text, got {value!r}")


def _extra_charges(key: str, value: Any) -> None:
    for name, spec in _mapping(key, value).items():
        spec = _mapping(f"{key}.{name}", spec)
        unknown = set(spec) - {"price", "included"}
        if unknown:
            raise _Bad(f"{key}.{name}", f"unknown key {sorted(unknown)[0]!r} (known: price, included)")
        for part in ("price", "included"):
            if part in spec:
                _number(f"{key}.{name}.{part}", spec[part])


def _rds(key: str, value: Any) -> None:
    for engine, classes in _mapping(key, value).items():
        if engine == "multi_az_factor":
            _number(f"{key}.multi_az_factor", classes, positive=True)
        else:
            _prices(f"{key}.{engine}", classes)


def _instance_types(key: str, value: Any) -> None:
    for name, price in _mapping(key, value).items():
        if name.count(".") != 1:
            raise _Bad(f"{key}.{name}", "must be an instance type such as m5.large")
        _number(f"{key}.{name}", price)


def _ladder(key: str, value: Any) -> None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _Bad(key, f"must be a list of sizes (nano, micro, …), got {value!r}")


def _generations(key: str, value: Any) -> None:
    for old, new in _mapping(key, value).items():
        if not isinstance(new, str) or not new or "." in new:
            raise _Bad(f"{key}.{old}", f"must name an instance family such as m5, got {new!r}")


_SECTIONS = {
    "date": _text, "source": _text, "currency": _text, "base_region": _text,
    "hours_per_month": lambda k, v: _number(k, v, positive=True),
    "region_factors": lambda k, v: _prices(k, v, positive=True),
    "ec2": _instance_types,
    "rds": _rds,
    "rds_storage": _prices,
    "ebs": _prices,
    "ebs_iops": _extra_charges,
    "ebs_throughput": _extra_charges,
    "snapshot_gb_month": _number,
    "eip_idle_hourly": _number,
    "load_balancer_hourly": _prices,
    "previous_generation": _generations,
    "size_ladder": _ladder,
}


def _validate(raw: Mapping[str, Any], path: Path | str, *, complete: bool = False) -> None:
    """One line naming the file and the first bad key: what the operator must fix."""
    try:
        for key, value in raw.items():
            check = _SECTIONS.get(key)
            if check is None:
                raise _Bad(str(key), f"unknown key (known: {', '.join(_SECTIONS)})")
            check(key, value)
        if complete:
            for key in _SECTIONS:
                if key not in raw:
                    raise _Bad(key, "missing from the bundled table")
    except _Bad as exc:
        raise ValueError(f"price table {path}: {exc}") from None


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else (a price, the size ladder) is replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def split_type(instance_type: str) -> tuple[str, str]:
    """("m5", "large") from "m5.large"; ("", "") for anything else."""
    family, dot, size = instance_type.partition(".")
    return (family, size) if dot and family and size and "." not in size else ("", "")


@dataclass(frozen=True)
class PriceTable:
    """Prices of base_region, scaled by a factor per region. Look-ups answer None
    for what the table does not know, so the finder can say so instead of guessing."""

    date: str
    source: str
    currency: str
    hours_per_month: float
    base_region: str
    region_factors: Mapping[str, float]
    ec2: Mapping[str, float]
    rds: Mapping[str, Mapping[str, float]]
    rds_multi_az_factor: float
    rds_storage: Mapping[str, float]
    ebs: Mapping[str, float]
    ebs_iops: Mapping[str, tuple[float, float]]
    """Volume type -> (USD per IOPS-month, IOPS included in the type)."""
    ebs_throughput: Mapping[str, tuple[float, float]]
    """Volume type -> (USD per MiB/s-month, MiB/s included in the type)."""
    snapshot_price: float
    eip_idle_price: float
    lb_prices: Mapping[str, float]
    previous_generation: Mapping[str, str]
    size_ladder: tuple[str, ...]
    bundled_date: str = ""
    override: str | None = None
    _families: Mapping[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    # -- loading
    @classmethod
    def load(cls, override: str | None = None) -> PriceTable:
        """The bundled table, with `override` (a YAML file of the same shape) merged over it.

        A bad override raises ValueError with one line naming the file and the key."""
        raw = _bundled_raw()
        bundled_date = str(raw["date"])
        if override:
            path = Path(override).expanduser()
            over = _read(path)
            _validate(over, path)
            raw = _merge(raw, over)
        return cls.from_mapping(raw, bundled_date=bundled_date, override=override or None)

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any], *, bundled_date: str = "",
                     override: str | None = None) -> PriceTable:
        """A table from an already validated mapping (the bundled shape)."""
        rds = raw["rds"]
        ec2 = {str(k): float(v) for k, v in raw["ec2"].items()}
        families: dict[str, set[str]] = {}
        for name in ec2:
            family, size = split_type(name)
            families.setdefault(family, set()).add(size)
        return cls(
            date=str(raw["date"]),
            source=" ".join(str(raw["source"]).split()),
            currency=str(raw["currency"]),
            hours_per_month=float(raw["hours_per_month"]),
            base_region=str(raw["base_region"]),
            region_factors={str(k): float(v) for k, v in raw["region_factors"].items()},
            ec2=ec2,
            rds={str(e): {str(c): float(p) for c, p in classes.items()}
                 for e, classes in rds.items() if e != "multi_az_factor"},
            rds_multi_az_factor=float(rds.get("multi_az_factor", 2)),
            rds_storage={str(k): float(v) for k, v in raw["rds_storage"].items()},
            ebs={str(k): float(v) for k, v in raw["ebs"].items()},
            ebs_iops={str(k): (float(v.get("price", 0)), float(v.get("included", 0)))
                      for k, v in raw["ebs_iops"].items()},
            ebs_throughput={str(k): (float(v.get("price", 0)), float(v.get("included", 0)))
                            for k, v in raw["ebs_throughput"].items()},
            snapshot_price=float(raw["snapshot_gb_month"]),
            eip_idle_price=float(raw["eip_idle_hourly"]),
            lb_prices={str(k): float(v) for k, v in raw["load_balancer_hourly"].items()},
            previous_generation={str(k): str(v) for k, v in raw["previous_generation"].items()},
            size_ladder=tuple(str(s) for s in raw["size_ladder"]),
            bundled_date=bundled_date or str(raw["date"]),
            override=override,
            _families={f: frozenset(s) for f, s in families.items()},
        )

    # -- what the screen says about the estimates
    @property
    def note(self) -> str:
        """Where the prices come from, for the Costs tab and the reports."""
        if self.override:
            return (f"prices: bundled table of {self.bundled_date} with overrides from {self.override}, "
                    "estimates")
        return f"prices: bundled table of {self.date}, estimates"

    def knows_region(self, region: str) -> bool:
        return region in self.region_factors

    def region_note(self, region: str) -> str:
        """"" for a region in the table, else why its prices may be off."""
        if self.knows_region(region):
            return ""
        return f"region {region} is not in the price table: priced as {self.base_region}"

    def factor(self, region: str) -> float:
        """The region's price relative to base_region; 1.0 for a region the table lacks."""
        return self.region_factors.get(region, 1.0)

    def monthly(self, hourly: float) -> float:
        return hourly * self.hours_per_month

    # -- prices
    def ec2_hourly(self, region: str, instance_type: str) -> float | None:
        price = self.ec2.get(instance_type)
        return None if price is None else price * self.factor(region)

    def rds_hourly(self, region: str, instance_class: str, engine: str, *,
                   multi_az: bool = False) -> float | None:
        price = self.rds.get(engine, {}).get(instance_class)
        if price is None:
            return None
        return price * self.factor(region) * (self.rds_multi_az_factor if multi_az else 1.0)

    def rds_storage_gb_month(self, region: str, storage_type: str, *, multi_az: bool = False) -> float | None:
        price = self.rds_storage.get(storage_type)
        if price is None:
            return None
        return price * self.factor(region) * (self.rds_multi_az_factor if multi_az else 1.0)

    def ebs_gb_month(self, region: str, volume_type: str) -> float | None:
        price = self.ebs.get(volume_type)
        return None if price is None else price * self.factor(region)

    def ebs_volume_month(self, region: str, volume_type: str, size_gb: float, *,
                         iops: float | None = None, throughput: float | None = None) -> float | None:
        """A volume a month: its size, plus provisioned IOPS and throughput above what the
        type includes (io1/io2 IOPS, gp3 beyond 3,000 IOPS and 125 MiB/s)."""
        per_gb = self.ebs_gb_month(region, volume_type)
        if per_gb is None:
            return None
        total = per_gb * size_gb
        factor = self.factor(region)
        if iops and volume_type in self.ebs_iops:
            price, included = self.ebs_iops[volume_type]
            total += max(0.0, iops - included) * price * factor
        if throughput and volume_type in self.ebs_throughput:
            price, included = self.ebs_throughput[volume_type]
            total += max(0.0, throughput - included) * price * factor
        return total

    def snapshot_gb_month(self, region: str) -> float:
        return self.snapshot_price * self.factor(region)

    def eip_hourly(self, region: str) -> float:
        return self.eip_idle_price * self.factor(region)

    def lb_hourly(self, region: str, kind: str) -> float | None:
        """kind: application | network | gateway | classic (elbv2's Type, or classic)."""
        price = self.lb_prices.get(kind)
        return None if price is None else price * self.factor(region)

    # -- types
    def current_generation(self, instance_type: str) -> str | None:
        """The current-generation type of the same size ("m4.xlarge" -> "m5.xlarge"), or None
        when the type is not of a previous generation. The type may be unpriced."""
        family, size = split_type(instance_type)
        new = self.previous_generation.get(family)
        return f"{new}.{size}" if new and size else None

    def smaller(self, instance_type: str) -> str | None:
        """One size down in the same family: the next smaller size the table prices, or None."""
        family, size = split_type(instance_type)
        if size not in self.size_ladder:
            return None
        sizes = self._families.get(family, frozenset())
        below = self.size_ladder[:self.size_ladder.index(size)]
        return next((f"{family}.{s}" for s in reversed(below) if s in sizes), None)

    def families(self) -> Sequence[str]:
        return sorted(self._families)
