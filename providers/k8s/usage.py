"""Recent CPU and memory samples per pod and node, for the detail sparklines.

metrics.k8s.io only answers "now"; history is what we keep. A fixed number of
float32 samples per object (arrays, not lists of Python floats) keeps 20,000
pods under a few megabytes, and objects that disappear are forgotten.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping, Sequence

from providers.k8s.records import Usage


class UsageHistory:
    """Ring buffers of (cpu, memory) samples by record key."""

    def __init__(self, points: int = 60) -> None:
        self.points = points
        self._cpu: dict[str, array[float]] = {}
        self._memory: dict[str, array[float]] = {}

    def add(self, samples: Mapping[str, Usage]) -> None:
        for key, usage in samples.items():
            cpu = self._cpu.get(key)
            if cpu is None:
                cpu = self._cpu[key] = array("f")
                self._memory[key] = array("f")
            memory = self._memory[key]
            cpu.append(usage.cpu)
            memory.append(usage.memory)
            if len(cpu) > self.points:
                del cpu[0]
                del memory[0]

    def forget_all_but(self, keys: Iterable[str]) -> None:
        """Drop the history of objects that no longer exist."""
        alive = set(keys)
        for key in [k for k in self._cpu if k not in alive]:
            del self._cpu[key]
            del self._memory[key]

    def series(self, key: str) -> tuple[Sequence[float], Sequence[float]]:
        return tuple(self._cpu.get(key, ())), tuple(self._memory.get(key, ()))

    def __len__(self) -> int:
        return len(self._cpu)
