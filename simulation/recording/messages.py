"""The message log: every exchange between actors of a scheme's day, as rows of the ``messages`` table.

A row names the sender and receiver, their SGAM actor roles, the information object, the number of
messages and their bytes. The ICT check (``cba.ictcheck``) matches these rows against the SGAM library's
interaction events, so the roles here are the library's roles. The per-pair counts feed the KPIs
``messages_by_pair`` and ``bytes_by_pair``.

Message sizes come from the information records each message carries in that clearing or step, not from
a constant per message type (which made the ICT check compare the design with itself)::

    bytes(message) = sum over its records r of  MESSAGE_BYTES[obj] + STEP_BYTES[obj] * steps_r

where ``steps_r`` is the number of market steps record ``r`` carries (its time-series points). What one
message carries:

======================  ===================================  =============================================
information object      one message per                      records in it
======================  ===================================  =============================================
bid, commercial_order   bidder and clearing (one portfolio)  its bids; steps: the bid's non-zero steps
clearing_result         bidder with an activated bid         its activated bids; steps: activated steps
imbalance_need          clearing (TSO -> market)             one need time series; steps: the horizon
state_estimate          DSO and clearing                     nodes of the DSO's areas x horizon steps
prequal_result          DSO and clearing (CMS)               the bids in the DSO's areas
activation_info         DSO and clearing (CMS)               activated bids in the DSO's areas; steps as
                                                             clearing_result
aggregated_curve        DSO and clearing (LMS)               curve points: interfaces x 2 directions x
                                                             curve points x horizon steps
interface_activation,   DSO and clearing                     one time series per interface of the DSO;
interface_schedule                                           steps: the horizon
grid_model              DSO (when a scheme sends one)        its branches
setpoint                device moved (aggregator -> DER)     one set-point
der_measurement,        device, node, feeder or interface    one measurement (one node, one step)
ss/ps/interface_meas.   and physical step
======================  ===================================  =============================================

An information object this table does not know (a scheme's new flow) is one record of
``MESSAGE_BYTES.get(obj, DEFAULT_RECORD_BYTES)``.

The functions below log what each stage of the day exchanges: the clearing's bids and results
(:func:`log_clearing`), the set-points (:func:`log_setpoints`) and the measurements
(:func:`log_measurements`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from coordstudio.simulation.bidding.aggregators import BidBook
from coordstudio.simulation.schemes import SchemeBehaviour

MESSAGE_BYTES: dict[str, int] = {
    "bid": 1_000,
    "clearing_result": 600,
    "setpoint": 150,
    "der_measurement": 200,
    "ss_measurement": 1_000,
    "ps_measurement": 2_000,
    "interface_measurement": 500,
    "imbalance_need": 1_000,
    "state_estimate": 300,
    "grid_model": 2_000,
    "aggregated_curve": 120,
    "interface_activation": 1_000,
    "interface_schedule": 1_000,
    "prequal_result": 200,
    "activation_info": 600,
    "commercial_order": 500,
    "dso_needs": 5_000,
}
"""Bytes of one record of each information object, without its time-series points (:data:`STEP_BYTES`).
Source: assumption (order of magnitude of the XML serialisation of each record, estimated from the
standards' structure, not measured):

* bid: one ``Bid_TimeSeries`` of an IEC 62325-451-7 (ENTSO-E ERRP/ECAN) reserve bid document, i.e.
  mRID, auction, business type, acquiring and connecting domains, provider, registered resource, units,
  divisibility, links, status, flow direction and its ``Period``/``timeInterval`` (about 1 kB);
  commercial_order: the same for an intraday order with fewer attributes (500 B);
* clearing_result, activation_info: one time series of an activation/allocation result document per
  activated bid (600 B);
* imbalance_need, interface_activation, interface_schedule: one time-series header (1 kB);
* state_estimate: one node and step of a CIM (IEC 61970-456) state variables profile, ``SvVoltage`` plus
  ``SvInjection`` in RDF/XML (300 B); grid_model: one branch of a CGMES equipment profile
  (``ACLineSegment`` with its terminals, connectivity nodes and operational limits, 2 kB);
* aggregated_curve: one price-quantity point of an interface curve (120 B); prequal_result: one bid's
  qualification (bid mRID, status, limit: 200 B);
* setpoint, der_measurement, ss/ps/interface_measurement: one IEC 61850 MMS write or report of a DER
  set-point (150 B), DER measurement (200 B), secondary-substation (1 kB: P, Q, V, I with quality and
  time stamps), primary-substation (2 kB: transformer, tap, outgoing feeders) or interface measurement
  (500 B), as in the SGAM library's defaults."""

STEP_BYTES: dict[str, int] = {
    "bid": 120,
    "commercial_order": 120,
    "clearing_result": 100,
    "activation_info": 100,
    "imbalance_need": 120,
    "interface_activation": 120,
    "interface_schedule": 120,
}
"""Bytes each market step adds to a record of these objects: one ``Point`` (position, quantity, price) of
its time series (source: assumption, as :data:`MESSAGE_BYTES`). Objects not listed carry no points (their
records are per step already, e.g. ``state_estimate``: one record per node and step)."""

DEFAULT_RECORD_BYTES = 500
"""Bytes of one record of an information object :data:`MESSAGE_BYTES` does not list (assumption)."""


def record_bytes(obj: str, steps: int = 0) -> int:
    """Bytes of one record of ``obj`` carrying ``steps`` time-series points (module docstring)."""
    return int(MESSAGE_BYTES.get(obj, DEFAULT_RECORD_BYTES) + STEP_BYTES.get(obj, 0) * steps)


def _steps_of(rows: np.ndarray) -> np.ndarray:
    """Non-zero steps of each row of a (n, H) array, at least 1 (a record carries one point at least)."""
    if rows.ndim != 2 or rows.shape[1] == 0:
        return np.ones(rows.shape[0], dtype=np.int64)
    return np.maximum(np.count_nonzero(np.abs(rows) > 1e-9, axis=1), 1)


class MessageLog:
    """Message rows of one scheme's run (taken by the database writer) and per-pair totals (KPIs)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.messages_by_pair: dict[str, int] = defaultdict(int)
        """``"sender_role->receiver_role"`` -> number of messages over the run."""
        self.bytes_by_pair: dict[str, int] = defaultdict(int)
        """``"sender_role->receiver_role"`` -> bytes over the run."""

    def log(
        self,
        t_min: float,
        sender: str,
        s_role: str,
        receiver: str,
        r_role: str,
        obj: str,
        count: int,
        nbytes: int | None = None,
    ) -> None:
        """Log ``count`` messages of ``obj`` with ``nbytes`` bytes in all (None: each message one record
        without time-series points, :func:`record_bytes`); nothing when ``count`` is 0."""
        if count <= 0:
            return
        nbytes = int(count * record_bytes(obj) if nbytes is None else nbytes)
        self.rows.append(
            {
                "time_min": t_min,
                "sender": sender,
                "sender_role": s_role,
                "receiver": receiver,
                "receiver_role": r_role,
                "information_object": obj,
                "n_messages": int(count),
                "bytes": nbytes,
            }
        )
        pair = f"{s_role}->{r_role}"
        self.messages_by_pair[pair] += int(count)
        self.bytes_by_pair[pair] += nbytes

    def take(self) -> list[dict[str, Any]]:
        """The rows logged since the last call (the writer stores them)."""
        rows, self.rows = self.rows, []
        return rows


def log_clearing(
    log: MessageLog,
    t_min: float,
    book: BidBook,
    activation: np.ndarray,
    behaviour: SchemeBehaviour,
    area_of_node: np.ndarray,
    dso_of_area: dict[str, str],
    horizon_steps: int | None = None,
    curve_points: int = 3,
    branches_of_area: dict[str, int] | None = None,
) -> None:
    """Messages of one clearing: each bidder's portfolio of bids to its market and the results back, the
    TSO's need to the central market, and each DSO's per-clearing exchanges
    (:attr:`SchemeBehaviour.dso_messages`), each sized from the records it carries (module docstring).

    ``horizon_steps``: market steps of the clearing (None: the activation's columns); ``curve_points``:
    breakpoints per direction of a DSO's aggregated interface curve; ``branches_of_area``: lines and
    transformers of each area's grid (a grid model's records; None: unknown, one record)."""
    if horizon_steps is not None:
        H = max(int(horizon_steps), 1)
    else:
        H = max(int(activation.shape[1]), 1) if activation.ndim == 2 else 1
    n = len(book)
    bid_steps = _steps_of(np.asarray(book.quantity_mw, dtype=float).reshape(n, -1))
    act = np.asarray(activation, dtype=float).reshape(n, -1) if n else np.zeros((0, H))
    activated: list[bool] = [bool(x) for x in np.any(act > 1e-9, axis=1).tolist()] if n else []
    act_steps = _steps_of(act)
    area_of_bid = [str(area_of_node[book.node[b]]) for b in range(n)]
    by_owner: dict[str, list[int]] = defaultdict(list)
    for b in range(n):
        by_owner[book.owner[b]].append(b)
    central_role, central_name = behaviour.central_role, behaviour.central_name
    for owner, bids in by_owner.items():
        area = area_of_bid[bids[0]]
        if owner.startswith("CP"):
            role, recv_role, recv, obj = "cp_platform", "imo_platform", "IMO", "commercial_order"
        elif area == "transmission" or owner.startswith("GEN"):
            role, recv_role, recv, obj = "agg_platform", central_role, central_name, "bid"
        else:
            role, recv_role, obj = "agg_platform", behaviour.local_market_role, "bid"
            recv = behaviour.local_market_name.format(dso=dso_of_area[area])
        nbytes = sum(record_bytes(obj, int(bid_steps[b])) for b in bids)
        log.log(t_min, owner, role, recv, recv_role, obj, 1, nbytes)
        won = [b for b in bids if activated[b]]
        if won:
            nbytes = sum(record_bytes("clearing_result", int(act_steps[b])) for b in won)
            log.log(t_min, recv, recv_role, owner, role, "clearing_result", 1, nbytes)
    log.log(t_min, "EMS@TSO", "tso_ems", central_name, central_role, "imbalance_need", 1,
            record_bytes("imbalance_need", H))
    areas_of_dso: dict[str, list[str]] = defaultdict(list)
    for area, dso in dso_of_area.items():
        areas_of_dso[dso].append(area)
    for dso in dict.fromkeys(dso_of_area.values()):
        mine = set(areas_of_dso[dso])
        in_dso = [b for b in range(n) if area_of_bid[b] in mine]
        records = _DsoRecords(
            n_nodes=int(np.isin(np.asarray(area_of_node, dtype=object), list(mine)).sum()),
            n_interfaces=len(mine),
            bids=in_dso,
            activated=[b for b in in_dso if activated[b]],
            act_steps=act_steps,
            horizon_steps=H,
            curve_points=curve_points,
            n_branches=sum((branches_of_area or {}).get(a, 0) for a in mine),
        )
        for f in behaviour.dso_messages:
            names = {"dso": dso, "central": central_name, "central_role": central_role}
            log.log(
                t_min,
                f.sender.format(**names),
                f.sender_role.format(**names),
                f.receiver.format(**names),
                f.receiver_role.format(**names),
                f.information_object,
                1,
                records.bytes_of(f.information_object),
            )


class _DsoRecords:
    """What one DSO's per-clearing messages carry (module docstring's table)."""

    def __init__(
        self,
        n_nodes: int,
        n_interfaces: int,
        bids: list[int],
        activated: list[int],
        act_steps: np.ndarray,
        horizon_steps: int,
        curve_points: int,
        n_branches: int,
    ) -> None:
        self.n_nodes = n_nodes
        self.n_branches = n_branches
        self.n_interfaces = n_interfaces
        self.bids = bids
        self.activated = activated
        self.act_steps = act_steps
        self.H = horizon_steps
        self.curve_points = curve_points

    def bytes_of(self, obj: str) -> int:
        """Bytes of the DSO's message of ``obj`` in this clearing."""
        if obj == "state_estimate":
            return self.n_nodes * self.H * record_bytes(obj)
        if obj == "prequal_result":
            return max(1, len(self.bids)) * record_bytes(obj)
        if obj == "activation_info":  # nothing activated in its areas: one empty record says so
            if not self.activated:
                return record_bytes(obj)
            return sum(record_bytes(obj, int(self.act_steps[b])) for b in self.activated)
        if obj == "grid_model":
            return max(1, self.n_branches) * record_bytes(obj)
        if obj == "aggregated_curve":
            return self.n_interfaces * 2 * self.curve_points * self.H * record_bytes(obj)
        if obj in ("interface_activation", "interface_schedule"):
            return self.n_interfaces * record_bytes(obj, self.H)
        return record_bytes(obj, self.H if obj in STEP_BYTES else 0)


def log_setpoints(
    log: MessageLog, t_min: float, aggregators: list[str], aggregator_area: list[str], moved: np.ndarray
) -> None:
    """Set-points from each aggregator to its devices' gateways (``moved``: devices moved per aggregator)."""
    for agg_i, agg_name in enumerate(aggregators):
        log.log(
            t_min,
            agg_name,
            "agg_platform",
            f"DER@{aggregator_area[agg_i]}",
            "der_gateway",
            "setpoint",
            int(moved[agg_i]),
        )


def log_measurements(
    log: MessageLog,
    t_min: float,
    spec: Any,
    nodes_per_feeder: dict[str, int],
    aggregators: list[str],
    aggregator_area: list[str],
    devices_per_aggregator: list[int],
    scada_actions: list[tuple[str, str, float]],
) -> None:
    """One physical step's measurements (RTUs to the DMS and the EMS, DER gateways to their aggregator)
    and the SCADA set-points of the step's actions."""
    for fs in spec.feeders:
        log.log(
            t_min,
            f"RTU@{fs.feeder_id}",
            "rtu_secondary",
            f"DMS@{fs.dso_id}",
            "dso_dms",
            "ss_measurement",
            nodes_per_feeder[fs.feeder_id],
        )
        log.log(
            t_min, f"RTU@{fs.feeder_id}", "rtu_primary", f"DMS@{fs.dso_id}", "dso_dms", "ps_measurement", 1
        )
        log.log(t_min, f"RTU@{fs.feeder_id}", "rtu_primary", "EMS@TSO", "tso_ems", "interface_measurement", 1)
    for cp in spec.copper_plate_nodes:
        log.log(t_min, f"RTU@{cp.node_id}", "rtu_primary", "EMS@TSO", "tso_ems", "interface_measurement", 1)
    for agg_i, agg in enumerate(aggregators):
        log.log(
            t_min,
            f"DER@{aggregator_area[agg_i]}",
            "der_gateway",
            agg,
            "agg_platform",
            "der_measurement",
            devices_per_aggregator[agg_i],
        )
    for g, _act, _val in scada_actions:
        log.log(t_min, f"DMS@{g}", "dso_dms", f"RTU@{g}", "rtu_primary", "setpoint", 1)


__all__ = [
    "DEFAULT_RECORD_BYTES",
    "MESSAGE_BYTES",
    "STEP_BYTES",
    "MessageLog",
    "log_clearing",
    "log_measurements",
    "log_setpoints",
    "record_bytes",
]
