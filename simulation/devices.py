"""Devices as structure-of-arrays: one :class:`DeviceArrays` per device category, never one object per device.

The seed's Italian scenario holds about 2.5 million devices; every per-device quantity here is a numpy
array indexed by device, so the bidding layer, the dispatch and the physical layer work on whole
populations at once.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np

from coordstudio.simulation.errors import ScenarioError
from coordstudio.simulation.scenario import CATEGORY_PARAMETERS, DEVICE_CATEGORIES

# Every device power in this package is an injection (generator convention): loads are negative.


@dataclass
class DeviceArrays:
    """All devices of one category.

    Attributes
    ----------
    category:
        Device category (:data:`simulation.scenario.DEVICE_CATEGORIES`).
    group:
        Index of the device group (in ``spec.device_groups``) of each device.
    node:
        Index of each device's node in the scenario's node table.
    aggregator:
        Index of each device's aggregator in the scenario's aggregator table (-1: none).
    params:
        Parameter name (with unit, as in :data:`simulation.scenario.CATEGORY_PARAMETERS`) -> value per device.
    state:
        Dynamic state per device (``soc_frac``, ``temp_c``, ``on``, ``heat_kwh``, ``started_step``, ...),
        owned and updated by :mod:`simulation.physical.models`.
    """

    category: str
    group: np.ndarray
    node: np.ndarray
    aggregator: np.ndarray
    params: dict[str, np.ndarray]
    state: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.node.shape[0])

    def fresh_copy(self) -> DeviceArrays:
        """A copy for one run: its own (copied) ``state``, the fixed data (``group``, ``node``,
        ``aggregator``, ``params``) shared as read-only views of these arrays.

        Why: the fixed data is 122 MiB at the Italian scale and no run changes it; a deep copy per scheme
        process (and one more for the schedule's forecast) doubled it. A write through the views raises
        ``ValueError: assignment destination is read-only`` instead of silently changing another run's
        devices."""
        return DeviceArrays(
            category=self.category,
            group=_read_only(self.group),
            node=_read_only(self.node),
            aggregator=_read_only(self.aggregator),
            params={k: _read_only(v) for k, v in self.params.items()},
            state={k: v.copy() for k, v in self.state.items()},
        )

    def copy_state(self) -> dict[str, np.ndarray]:
        """A copy of the dynamic state (for snapshots the bidding layer reads at gate closure)."""
        return {k: v.copy() for k, v in self.state.items()}

    def validate(self, n_nodes: int, device_ids: Sequence[str] | None = None) -> None:
        """Raise :class:`ScenarioError` naming the device and field of the first bad value.

        Checks: every node index exists, every parameter is finite, capacities (names ending ``_kw``,
        ``_kwh``, ``_h``, ``_frac``) are not negative.
        """
        if self.category not in DEVICE_CATEGORIES:
            raise ScenarioError(f"device category {self.category!r}: unknown (field category)")
        n = len(self)

        def name(i: int) -> str:
            return device_ids[i] if device_ids is not None else f"{self.category}[{i}]"

        bad = np.flatnonzero((self.node < 0) | (self.node >= n_nodes))
        if bad.size:
            raise ScenarioError(
                f"device {name(int(bad[0]))}: field node refers to node {int(self.node[bad[0]])}, "
                f"which does not exist (the scenario has {n_nodes} nodes)"
            )
        for pname in CATEGORY_PARAMETERS[self.category]:
            if pname not in self.params:
                raise ScenarioError(f"device category {self.category}: field {pname} is missing")
            values = self.params[pname]
            if values.shape != (n,):
                raise ScenarioError(
                    f"device category {self.category}: field {pname} has {values.shape[0]} values "
                    f"for {n} devices"
                )
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise ScenarioError(
                    f"device {name(int(bad[0]))}: field {pname} is not a number ({values[bad[0]]})"
                )
            if pname.endswith(("_kw", "_kwh", "_h", "_frac", "_per_k", "_ratio")) or pname == "cop":
                bad = np.flatnonzero(values < 0)
                if bad.size:
                    raise ScenarioError(
                        f"device {name(int(bad[0]))}: field {pname} is negative ({values[bad[0]]})"
                    )


def _read_only(a: np.ndarray) -> np.ndarray:
    """A view of ``a`` that cannot be written (``a`` itself stays writable)."""
    v = a.view()
    v.flags.writeable = False
    return v


class DeviceNames(Sequence[str]):
    """The id of each device of one category, ``<group_id>#<k>`` (the k-th device of its group), made when
    one is asked for (an error message names a device) from the groups' ids and sizes.

    Why not a list: the Italian scenario's 2.5 million ids as Python strings held 179 MiB of every scheme
    process's memory for the few error messages that name a device (issue 21, P8)."""

    def __init__(self, group_ids: Sequence[str] = (), counts: Sequence[int] = ()) -> None:
        self._group_ids: list[str] = []
        self._starts: list[int] = [0]
        """First device of each group, then the total."""
        for gid, n in zip(group_ids, counts, strict=True):
            self.add_group(gid, n)

    def add_group(self, group_id: str, n: int) -> None:
        """The next ``n`` devices belong to group ``group_id``."""
        if n > 0:
            self._group_ids.append(group_id)
            self._starts.append(self._starts[-1] + int(n))

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        n = len(self)
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(n))]
        j = int(i) + n if int(i) < 0 else int(i)
        if not 0 <= j < n:
            raise IndexError(f"device {i} of {n}")
        g = bisect.bisect_right(self._starts, j) - 1
        return f"{self._group_ids[g]}#{j - self._starts[g]}"


def empty_devices(category: str) -> DeviceArrays:
    """A category with no devices (keeps every category present in a scenario)."""
    return DeviceArrays(
        category=category,
        group=np.zeros(0, dtype=np.int32),
        node=np.zeros(0, dtype=np.int32),
        aggregator=np.zeros(0, dtype=np.int32),
        params={p: np.zeros(0) for p in CATEGORY_PARAMETERS[category]},
    )


def concat_devices(parts: list[DeviceArrays]) -> DeviceArrays:
    """Concatenate several populations of one category into one."""
    category = parts[0].category
    return DeviceArrays(
        category=category,
        group=np.concatenate([p.group for p in parts]),
        node=np.concatenate([p.node for p in parts]),
        aggregator=np.concatenate([p.aggregator for p in parts]),
        params={k: np.concatenate([p.params[k] for p in parts]) for k in CATEGORY_PARAMETERS[category]},
    )
