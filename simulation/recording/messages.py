"""The message log: every exchange between actors of a scheme's day, as rows of the ``messages`` table.

A row names the sender and receiver, their SGAM actor roles, the information object, the number of
messages and their bytes (:data:`MESSAGE_BYTES` per message). The ICT check (``cba.ictcheck``) matches
these rows against the SGAM library's interaction events, so the roles here are the library's roles.
The per-pair counts feed the KPIs ``messages_by_pair`` and ``bytes_by_pair``.

The functions below log what each stage of the day exchanges: the clearing's bids and results
(:func:`log_clearing`), the set-points (:func:`log_setpoints`) and the measurements
(:func:`log_measurements`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from simulation.bidding.aggregators import BidBook
from simulation.schemes import SchemeBehaviour

MESSAGE_BYTES: dict[str, int] = {
    "bid": 200,
    "clearing_result": 150,
    "setpoint": 150,
    "der_measurement": 200,
    "ss_measurement": 1_000,
    "ps_measurement": 2_000,
    "interface_measurement": 500,
    "imbalance_need": 500,
    "state_estimate": 100_000,
    "aggregated_curve": 10_000,
    "interface_activation": 1_000,
    "interface_schedule": 2_000,
    "prequal_result": 10_000,
    "activation_info": 5_000,
    "commercial_order": 500,
    "dso_needs": 5_000,
}
"""Bytes per message of each information object (per bid, per set-point, per measurement, ...), from the
default SGAM library's payload sizes where one message carries one item (assumption, order of magnitude)."""


class MessageLog:
    """Message rows of one scheme's run (taken by the database writer) and per-pair totals (KPIs)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.messages_by_pair: dict[str, int] = defaultdict(int)
        """``"sender_role->receiver_role"`` -> number of messages over the run."""
        self.bytes_by_pair: dict[str, int] = defaultdict(int)
        """``"sender_role->receiver_role"`` -> bytes over the run."""

    def log(
        self, t_min: float, sender: str, s_role: str, receiver: str, r_role: str, obj: str, count: int
    ) -> None:
        """Log ``count`` messages of ``obj`` (nothing when ``count`` is 0)."""
        if count <= 0:
            return
        nbytes = int(count * MESSAGE_BYTES.get(obj, 500))
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
) -> None:
    """Messages of one clearing: bids from their owners to the market and the results back, the TSO's
    need to the central market, and each DSO's per-clearing exchanges
    (:attr:`SchemeBehaviour.dso_messages`)."""
    by_owner: dict[str, int] = defaultdict(int)
    area_of_owner: dict[str, str] = {}
    for b in range(len(book)):
        by_owner[book.owner[b]] += 1
        area_of_owner[book.owner[b]] = area_of_node[book.node[b]]
    central_role, central_name = behaviour.central_role, behaviour.central_name
    for owner, cnt in by_owner.items():
        area = area_of_owner[owner]
        if owner.startswith("CP"):
            role, recv_role, recv, obj = "cp_platform", "imo_platform", "IMO", "commercial_order"
        elif area == "transmission" or owner.startswith("GEN"):
            role, recv_role, recv, obj = "agg_platform", central_role, central_name, "bid"
        else:
            role, recv_role, obj = "agg_platform", behaviour.local_market_role, "bid"
            recv = behaviour.local_market_name.format(dso=dso_of_area[area])
        log.log(t_min, owner, role, recv, recv_role, obj, cnt)
        n_act = sum(1 for b in range(len(book)) if book.owner[b] == owner and (activation[b] > 1e-9).any())
        log.log(t_min, recv, recv_role, owner, role, "clearing_result", n_act)
    log.log(t_min, "EMS@TSO", "tso_ems", central_name, central_role, "imbalance_need", 1)
    for dso in dict.fromkeys(dso_of_area.values()):
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
            )


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


__all__ = ["MESSAGE_BYTES", "MessageLog", "log_clearing", "log_measurements", "log_setpoints"]
