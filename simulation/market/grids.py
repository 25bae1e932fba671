"""Grid descriptions used by the market clearing, built from pandapower networks.

Three kinds, all plain data (numpy arrays, no pandapower object inside once built):

* :class:`TransmissionGrid`: DC model (B-theta). Branch ``l`` from node ``f`` to node ``t`` carries
  ``F_l = base_mva * b_l * (theta_f - theta_t)`` MW with ``b_l = 1 / (x_l * tap_l)`` in per unit, and
  ``|F_l| <= rating_mw_l``. No losses, no reactive power. ``base_injection_mw`` is the scheduled net
  injection (generation - load) of each node in each step, before any activation; it must sum to zero
  in each step (the pandapower import takes it from a DC power flow, slack included).
* :class:`DistributionGrid`: a radial grid modelled in detail with the SOCP relaxation of DistFlow
  (branch flow model), attached at one transmission node (its *interface*). Branch ``(i, j)`` is
  oriented away from the root ``i -> j``; ``base_p_mw`` / ``base_q_mvar`` are the scheduled net loads
  (load - generation) of each node; ``interface_schedule_mw`` is the scheduled import at the root.
* :class:`CopperPlateNode`: a distribution grid not modelled in detail: one node at the interface
  transmission node; bids there face no distribution constraint.

Per-unit conversion and branch data come from pandapower's own converter (``to_ppc``), topology checks
from networkx (a loop in a distribution grid raises :class:`MarketError` naming the loop's buses).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx
import numpy as np
import scipy.sparse as sp

from coordstudio.simulation.errors import MarketError

UNLIMITED_RATING_MVA = 1e5
"""Branch ratings at or above this (pandapower's 99999 kA placeholders) or <= 0 count as unlimited."""


def _ppc_node_ids(net: Any, ppc: dict[str, Any], prefix: str) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """Node ids of the internal (ppc) buses of a pandapower net.

    pandapower merges buses joined by bus-bus switches into one internal bus; the first in-service
    pandapower bus of each internal bus names it (``prefix + str(bus)``), the others become aliases that
    resolve to the same row. Buses pandapower left out (isolated, out of service: lookup < 0 or past the
    end) get no id. Returns the pandapower-to-ppc bus lookup, the id of each ppc row and the aliases.
    """
    lookup = np.asarray(net._pd2ppc_lookups["bus"])
    n = ppc["bus"].shape[0]
    canonical: dict[int, str] = {}
    aliases: dict[str, int] = {}
    for b in net.bus.index[net.bus.in_service.to_numpy(bool)]:
        k = int(lookup[b])
        if k < 0 or k >= n:
            continue
        nid = f"{prefix}{b}"
        if k not in canonical:
            canonical[k] = nid
        else:
            aliases[nid] = k
    return lookup, [canonical.get(k, f"{prefix}ppc{k}") for k in range(n)], aliases


def _to_ppc(net: Any, calculate_voltage_angles: bool = False) -> dict[str, Any]:
    """pandapower's ppc of ``net``; ``calculate_voltage_angles=True`` keeps the transformers' phase shifts
    (``shift_degree``) in the branch table's SHIFT column, as pandapower's DC power flow does."""
    from pandapower.converter.pypower.to_ppc import to_ppc

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return to_ppc(  # type: ignore[no-any-return]
                net, init="flat", calculate_voltage_angles=calculate_voltage_angles
            )
    except (IndexError, KeyError, ValueError) as exc:  # e.g. every line of an area out of service after trips
        raise MarketError(f"grid: cannot be modelled for the market ({type(exc).__name__}: {exc})") from None


def _pandapower_rate_a(net: Any, ppc: dict[str, Any]) -> np.ndarray:
    """RATE_A (MVA) of every ppc branch, with the lines' and transformers' ratings derived as pandapower
    defines them where the net gives no ``max_loading_percent``.

    pandapower's converter writes ``max_loading_percent/100 * sqrt(3) * vn_kv(from bus) * max_i_ka * df
    * parallel`` for a line and ``max_loading_percent/100 * sn_mva`` for a transformer, but a flat
    100 MVA placeholder when the column is absent (e.g. the CIGRE HV network). A missing (or NaN)
    ``max_loading_percent`` here means the branch's own rating, the power at which pandapower reports
    100 % loading: the line formula above at 100 %, ``sn_mva * parallel * df`` for a transformer
    (``results_branch``: ``loading_percent = s / sn_mva / parallel / df``).
    Other branch kinds (impedances, switches, 3-winding transformers) keep pandapower's value.
    """
    rate = np.asarray(ppc["branch"][:, 5].real, dtype=float).copy()
    ranges = net._pd2ppc_lookups["branch"]
    n_full = max((t for _, t in ranges.values()), default=0)
    # to_ppc returns pandapower's internal ppc: out-of-service branches (and those at isolated buses)
    # are dropped; ``branch_is`` marks the rows of the full branch table that were kept
    kept = ppc.get("internal", {}).get("branch_is")
    if kept is None or len(kept) != n_full:
        if rate.shape[0] != n_full:
            return rate  # rows cannot be matched to the elements: keep the converter's values
        kept = np.ones(n_full, bool)
    own = np.full(n_full, np.nan)
    if "line" in ranges and len(net.line):
        f, t = ranges["line"]
        line = net.line
        mlp = line.max_loading_percent.to_numpy(float) if "max_loading_percent" in line else None
        missing = np.ones(len(line), bool) if mlp is None else ~np.isfinite(mlp)
        vn = net.bus.loc[line.from_bus.to_numpy(), "vn_kv"].to_numpy(float)
        df = line.df.to_numpy(float) if "df" in line else np.ones(len(line))
        cap = math.sqrt(3.0) * vn * line.max_i_ka.to_numpy(float) * df * line.parallel.to_numpy(float)
        own[f:t] = np.where(missing, cap, np.nan)
    if "trafo" in ranges and len(net.trafo):
        f, t = ranges["trafo"]
        tr = net.trafo
        mlp = tr.max_loading_percent.to_numpy(float) if "max_loading_percent" in tr else None
        missing = np.ones(len(tr), bool) if mlp is None else ~np.isfinite(mlp)
        par = tr.parallel.to_numpy(float) if "parallel" in tr else np.ones(len(tr))
        df_t = tr.df.to_numpy(float) if "df" in tr else np.ones(len(tr))
        own[f:t] = np.where(missing, tr.sn_mva.to_numpy(float) * par * df_t, np.nan)
    own = own[np.asarray(kept, bool)]
    return np.where(np.isfinite(own), own, rate)


def _ratings(rate_a: np.ndarray) -> np.ndarray:
    r = np.asarray(rate_a, dtype=float).copy()
    r[(r <= 0) | (r >= UNLIMITED_RATING_MVA)] = math.inf
    return r


@dataclass
class TransmissionGrid:
    """DC (B-theta) model of the transmission grid: see the module docstring."""

    node_ids: list[str]
    branch_ids: list[str]
    branch_from: np.ndarray
    branch_to: np.ndarray
    branch_b_pu: np.ndarray
    branch_rating_mw: np.ndarray
    base_injection_mw: np.ndarray
    base_mva: float = 100.0
    ref_node: int = 0
    name: str = "transmission"
    aliases: dict[str, int] = field(default_factory=dict)
    branch_shift_flow_mw: np.ndarray | None = None
    """Flow (MW) each branch carries at equal end angles: ``-base_mva * b_l * shift_l`` of a phase
    shifter (pandapower's ``Pfinj``), zero elsewhere; ``None`` = no shifter."""

    def __post_init__(self) -> None:
        m0 = len(self.branch_ids)
        self.branch_shift_flow_mw = (
            np.zeros(m0)
            if self.branch_shift_flow_mw is None
            else np.asarray(self.branch_shift_flow_mw, float)
        )
        self.branch_from = np.asarray(self.branch_from, dtype=int)
        self.branch_to = np.asarray(self.branch_to, dtype=int)
        self.branch_b_pu = np.asarray(self.branch_b_pu, dtype=float)
        self.branch_rating_mw = np.asarray(self.branch_rating_mw, dtype=float)
        self.base_injection_mw = np.asarray(self.base_injection_mw, dtype=float)
        n = len(self.node_ids)
        if len(set(self.node_ids)) != n:
            raise MarketError(f"transmission grid {self.name!r}: node ids are not unique")
        m = len(self.branch_ids)
        for fld in ("branch_from", "branch_to", "branch_b_pu", "branch_rating_mw", "branch_shift_flow_mw"):
            if getattr(self, fld).shape != (m,):
                raise MarketError(f"transmission grid {self.name!r}: field {fld!r} must have {m} entries")
        if m and (self.branch_from.min() < 0 or max(self.branch_from.max(), self.branch_to.max()) >= n):
            raise MarketError(f"transmission grid {self.name!r}: a branch ends at an unknown node")
        if (self.branch_rating_mw < 0).any():
            i = int(np.flatnonzero(self.branch_rating_mw < 0)[0])
            raise MarketError(
                f"transmission grid {self.name!r}: branch {self.branch_ids[i]!r}: negative rating"
            )
        if self.base_injection_mw.shape[0] != n:
            raise MarketError(
                f"transmission grid {self.name!r}: field 'base_injection_mw' must have {n} rows"
            )
        if not 0 <= self.ref_node < n:
            raise MarketError(f"transmission grid {self.name!r}: field 'ref_node' is not a node")

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_branches(self) -> int:
        return len(self.branch_ids)

    def node_index(self) -> dict[str, int]:
        """Node id (and alias, e.g. a pandapower bus merged by a closed bus-bus switch) -> row."""
        idx = {nid: i for i, nid in enumerate(self.node_ids)}
        idx.update(self.aliases)
        return idx

    def base_injection(self, n_steps: int) -> np.ndarray:
        """``(n_nodes, n_steps)`` scheduled injections (a 1-D field is repeated in every step)."""
        b = self.base_injection_mw
        if b.ndim == 1:
            return np.repeat(b[:, None], n_steps, axis=1)
        if b.shape[1] < n_steps:
            raise MarketError(
                f"transmission grid {self.name!r}: field 'base_injection_mw' has {b.shape[1]} steps, "
                f"the horizon {n_steps}"
            )
        return b[:, :n_steps]

    @property
    def shift_flow_mw(self) -> np.ndarray:
        """``(n_branches,)`` flow offsets of the phase shifters (zeros when there is none)."""
        assert self.branch_shift_flow_mw is not None  # set in __post_init__
        return self.branch_shift_flow_mw

    def shift_injection_mw(self) -> np.ndarray:
        """``(n_nodes,)`` injection the phase shifters take at each node (pandapower's ``Pbusinj``).

        With ``F = S diag(b) A theta + F_shift`` the nodal balance is ``P = B theta + A^T F_shift``, so the
        angles see ``P - A^T F_shift``: a shifter of angle ``phi`` on branch ``k`` moves ``-S b_k phi`` out
        of its from node into its to node.
        """
        inj = np.zeros(self.n_nodes)
        np.add.at(inj, self.branch_from, self.shift_flow_mw)
        np.add.at(inj, self.branch_to, -self.shift_flow_mw)
        return inj

    def flows_mw(self, injection_mw: np.ndarray) -> np.ndarray:
        """Branch flows (MW, from -> to) of the DC model for net nodal injections ``(n_nodes[, T])``
        summing to zero: ``B theta = P - A^T F_shift`` with ``theta_ref = 0``, then
        ``F = S b (theta_f - theta_t) + F_shift`` (pandapower's ``dcpf`` and ``Bf theta + Pfinj``)."""
        import scipy.sparse.linalg as spla

        P = np.asarray(injection_mw, dtype=float)
        one = P.ndim == 1
        P2 = P[:, None] if one else P
        n, nb = self.n_nodes, self.n_branches
        rows = np.r_[np.arange(nb), np.arange(nb)]
        A = sp.csr_matrix(
            (np.r_[np.ones(nb), -np.ones(nb)], (rows, np.r_[self.branch_from, self.branch_to])), (nb, n)
        )
        coef = self.base_mva * self.branch_b_pu
        B = (A.T @ sp.diags(coef) @ A).tocsc()
        keep = np.flatnonzero(np.arange(n) != self.ref_node)
        rhs = P2 - self.shift_injection_mw()[:, None]
        theta = np.zeros_like(rhs)
        if len(keep):
            sol = spla.spsolve(B[keep][:, keep].tocsc(), rhs[keep])
            theta[keep] = np.asarray(sol).reshape(len(keep), -1)
        F = coef[:, None] * (A @ theta) + self.shift_flow_mw[:, None]
        return F[:, 0] if one else F

    def base_flows_mw(self) -> np.ndarray:
        """``(n_branches,)`` flows of the scheduled injections (first step when they vary)."""
        b = self.base_injection_mw
        return self.flows_mw(b if b.ndim == 1 else b[:, 0])

    @staticmethod
    def single_node(node_id: str = "system", name: str = "transmission") -> TransmissionGrid:
        """One copper-plate node (a market without grid constraints)."""
        return TransmissionGrid(
            [node_id],
            [],
            np.zeros(0, int),
            np.zeros(0, int),
            np.zeros(0),
            np.zeros(0),
            np.zeros(1),
            name=name,
        )

    @staticmethod
    def from_lines(
        node_ids: list[str],
        lines: list[tuple[str, str, float, float]],
        base_injection_mw: np.ndarray | None = None,
        base_mva: float = 100.0,
        name: str = "transmission",
    ) -> TransmissionGrid:
        """Hand-built grid: ``lines`` are ``(from_node, to_node, x_pu, rating_mw)`` (``inf`` = none)."""
        idx = {nid: i for i, nid in enumerate(node_ids)}
        for f, t, _, _ in lines:
            for nd in (f, t):
                if nd not in idx:
                    raise MarketError(f"transmission grid {name!r}: line end {nd!r} is not a node")
        if any(x == 0 for _, _, x, _ in lines):
            raise MarketError(f"transmission grid {name!r}: a line has zero reactance")
        return TransmissionGrid(
            node_ids=list(node_ids),
            branch_ids=[f"{f}-{t}" for f, t, _, _ in lines],
            branch_from=np.array([idx[f] for f, _, _, _ in lines], dtype=int),
            branch_to=np.array([idx[t] for _, t, _, _ in lines], dtype=int),
            branch_b_pu=np.array([1.0 / x for _, _, x, _ in lines], dtype=float),
            branch_rating_mw=np.array([r for _, _, _, r in lines], dtype=float),
            base_injection_mw=np.zeros(len(node_ids)) if base_injection_mw is None else base_injection_mw,
            base_mva=base_mva,
            name=name,
        )

    @staticmethod
    def from_pandapower(
        net: Any, name: str = "transmission", node_prefix: str = "t", rating_factor: float = 1.0
    ) -> TransmissionGrid:
        """DC model of a pandapower net (in-service buses and branches).

        Node ids are ``f"{node_prefix}{bus}"`` with the pandapower bus index; buses merged by closed
        bus-bus switches share a node (the others become aliases). Branch ratings are pandapower's
        (``max_i_ka`` of lines, ``sn_mva`` of transformers), times ``rating_factor``. The scheduled
        injections are those of a pandapower DC power flow of the net (external grid as slack).
        """
        import pandapower as pp
        from pandapower.pypower.makeBdc import makeBdc

        ppc = _to_ppc(net, calculate_voltage_angles=True)
        lookup, node_ids, aliases = _ppc_node_ids(net, ppc, node_prefix)
        n = len(node_ids)
        rate_a = _pandapower_rate_a(net, ppc)
        br = ppc["branch"]
        status = br[:, 10].real > 0
        br = br[status]
        rate_a = rate_a[status]
        # phase shifters: pandapower's own B-theta matrices give the flow each branch carries at equal end
        # angles (Pfinj = -b * shift, per unit); the DC power flow adds it to B_f theta
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a zero-impedance branch: b = inf, no shift there (below)
            _, _, _, pfinj, _ = makeBdc(ppc["bus"].real.copy(), br.real.copy())
        shift_flow = np.asarray(pfinj, dtype=float).ravel() * float(ppc["baseMVA"])
        shift_flow[br[:, 9].real == 0] = 0.0
        x = br[:, 3].real
        tap = br[:, 8].real
        tap = np.where(tap == 0, 1.0, tap)
        x = np.where(np.abs(x) < 1e-9, 1e-9, x)
        ref = np.flatnonzero(ppc["bus"][:, 1].real == 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pp.rundcpp(net)
            except Exception as exc:  # pandapower raises its own types
                raise MarketError(
                    f"transmission grid {name!r}: DC power flow of the base case failed: {exc}"
                ) from exc
        inj = np.zeros(n)
        res_p = -net.res_bus.p_mw.to_numpy(float)
        buses = net.res_bus.index.to_numpy()
        rows = lookup[buses]
        ok = np.isfinite(res_p) & (rows >= 0) & (rows < n)  # isolated buses map past the ppc bus table
        np.add.at(inj, rows[ok], res_p[ok])
        inj -= inj.mean() if abs(inj.sum()) > 1e-6 else 0.0
        return TransmissionGrid(
            node_ids=node_ids,
            branch_ids=[f"br{i}" for i in range(br.shape[0])],
            branch_from=br[:, 0].real.astype(int),
            branch_to=br[:, 1].real.astype(int),
            branch_b_pu=1.0 / (x * tap),
            branch_rating_mw=_ratings(rate_a) * rating_factor,
            base_injection_mw=inj,
            branch_shift_flow_mw=shift_flow,
            base_mva=float(ppc["baseMVA"]),
            ref_node=int(ref[0]) if len(ref) else 0,
            name=name,
            aliases=aliases,
        )


@dataclass
class DistributionGrid:
    """A radial distribution grid modelled with the SOCP relaxation of DistFlow (module docstring).

    Per unit on ``base_mva`` and the nominal voltages: ``r_pu``/``x_pu`` per branch, squared voltages
    ``v`` within ``[vmin_pu^2, vmax_pu^2]``, squared currents ``l <= imax_pu^2``. Branch ``k`` joins
    ``branch_from[k]`` (parent, nearer the root) to ``branch_to[k]`` (child).
    """

    grid_id: str
    interface_node: str
    node_ids: list[str]
    branch_ids: list[str]
    branch_from: np.ndarray
    branch_to: np.ndarray
    r_pu: np.ndarray
    x_pu: np.ndarray
    imax_pu: np.ndarray
    vmin_pu: np.ndarray
    vmax_pu: np.ndarray
    base_p_mw: np.ndarray
    base_q_mvar: np.ndarray
    root: int = 0
    v_root_pu: float = 1.0
    base_mva: float = 1.0
    dso_id: str = ""
    interface_schedule_mw: np.ndarray | None = None
    aliases: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for fld in ("branch_from", "branch_to"):
            setattr(self, fld, np.asarray(getattr(self, fld), dtype=int))
        for fld in ("r_pu", "x_pu", "imax_pu", "vmin_pu", "vmax_pu", "base_p_mw", "base_q_mvar"):
            setattr(self, fld, np.asarray(getattr(self, fld), dtype=float))
        if self.interface_schedule_mw is not None:
            self.interface_schedule_mw = np.atleast_1d(np.asarray(self.interface_schedule_mw, dtype=float))
        if not self.dso_id:
            self.dso_id = self.grid_id
        n, m = len(self.node_ids), len(self.branch_ids)
        if len(set(self.node_ids)) != n:
            raise MarketError(f"distribution grid {self.grid_id!r}: node ids are not unique")
        for fld in ("branch_from", "branch_to", "r_pu", "x_pu", "imax_pu"):
            if getattr(self, fld).shape != (m,):
                raise MarketError(f"distribution grid {self.grid_id!r}: field {fld!r} must have {m} entries")
        for fld in ("vmin_pu", "vmax_pu"):
            if getattr(self, fld).shape != (n,):
                raise MarketError(f"distribution grid {self.grid_id!r}: field {fld!r} must have {n} entries")
        for fld in ("base_p_mw", "base_q_mvar"):
            if getattr(self, fld).shape[0] != n:
                raise MarketError(f"distribution grid {self.grid_id!r}: field {fld!r} must have {n} rows")
        if (self.r_pu < 0).any() or (self.imax_pu < 0).any():
            raise MarketError(f"distribution grid {self.grid_id!r}: negative resistance or current limit")
        self._check_radial_and_orient()

    # ------------------------------------------------------------------ topology
    def _check_radial_and_orient(self) -> None:
        """Raise naming a loop if the grid is not radial; orient every branch away from the root."""
        g = nx.MultiGraph()
        g.add_nodes_from(range(len(self.node_ids)))
        for k, (a, b) in enumerate(zip(self.branch_from, self.branch_to, strict=True)):
            g.add_edge(int(a), int(b), key=k)
        try:
            cycle = nx.find_cycle(g)
        except nx.NetworkXNoCycle:
            cycle = None
        if cycle:
            buses = (
                " -> ".join(self.node_ids[int(e[0])] for e in cycle)
                + f" -> {self.node_ids[int(cycle[0][0])]}"
            )
            raise MarketError(f"distribution grid {self.grid_id!r} is not radial: loop {buses}")
        if not nx.is_connected(g):
            comp = [c for c in nx.connected_components(g) if self.root not in c][0]
            raise MarketError(
                f"distribution grid {self.grid_id!r}: node {self.node_ids[min(comp)]!r} is not connected "
                "to the root"
            )
        parent = {self.root: -1}
        order = list(nx.bfs_edges(nx.Graph(g), self.root))
        for a, b in order:
            parent[b] = a
        frm, to = self.branch_from.copy(), self.branch_to.copy()
        for k in range(len(frm)):
            if parent.get(int(frm[k])) == int(to[k]):
                frm[k], to[k] = to[k], frm[k]
        self.branch_from, self.branch_to = frm, to
        depth = {self.root: 0}
        for a, b in order:
            depth[b] = depth[a] + 1
        self._depth = np.array([depth[i] for i in range(len(self.node_ids))])
        self._path: Any = None

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_branches(self) -> int:
        return len(self.branch_ids)

    def node_index(self) -> dict[str, int]:
        idx = {nid: i for i, nid in enumerate(self.node_ids)}
        idx.update(self.aliases)
        return idx

    def base(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """``(n_nodes, n_steps)`` scheduled net active and reactive loads."""
        out = []
        for fld in ("base_p_mw", "base_q_mvar"):
            b = getattr(self, fld)
            if b.ndim == 1:
                out.append(np.repeat(b[:, None], n_steps, axis=1))
            elif b.shape[1] < n_steps:
                raise MarketError(
                    f"distribution grid {self.grid_id!r}: field {fld!r} has fewer steps than the horizon"
                )
            else:
                out.append(b[:, :n_steps])
        return out[0], out[1]

    def with_base(
        self, p_mw: np.ndarray, q_mvar: np.ndarray, schedule_mw: np.ndarray | None = None
    ) -> DistributionGrid:
        """A copy with other scheduled loads (``(n_nodes,)`` or ``(n_nodes, n_steps)``)."""
        return replace(
            self,
            base_p_mw=np.asarray(p_mw, float),
            base_q_mvar=np.asarray(q_mvar, float),
            interface_schedule_mw=schedule_mw,
        )

    def branch_flow(
        self, p_mw: np.ndarray, q_mvar: np.ndarray, iterations: int = 30
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Exact branch-flow (DistFlow) power flow by backward/forward sweep for net loads
        ``(n_nodes, T)`` in MW/Mvar. Returns squared voltages ``v (n_nodes, T)``, sending-end ``P, Q``
        (per unit) and squared currents ``l`` per branch, ``(n_branches, T)``."""
        S = self.base_mva
        p = np.asarray(p_mw, float) / S
        q = np.asarray(q_mvar, float) / S
        T = p.shape[1]
        v = np.full((self.n_nodes, T), self.v_root_pu**2)
        L = np.zeros((self.n_branches, T))
        with np.errstate(all="ignore"):  # a collapsing voltage shows as NaN/inf, which callers check
            return self._sweep(p, q, v, L, iterations)

    def _path_matrix(self) -> Any:
        """``A[j, k] = 1`` when branch ``k`` lies on the way from the root to node ``j`` (CSR, cached)."""
        if getattr(self, "_path", None) is None:
            parent_branch = np.full(self.n_nodes, -1, dtype=int)
            parent_branch[self.branch_to] = np.arange(self.n_branches)
            rows, cols = [], []
            for j in range(self.n_nodes):
                i = j
                while parent_branch[i] >= 0:
                    k = int(parent_branch[i])
                    rows.append(j)
                    cols.append(k)
                    i = int(self.branch_from[k])
            self._path = sp.csr_matrix(
                (np.ones(len(rows)), (rows, cols)), shape=(self.n_nodes, self.n_branches)
            )
        return self._path

    def _sweep(
        self, p: np.ndarray, q: np.ndarray, v: np.ndarray, L: np.ndarray, iterations: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Backward/forward sweep with the path matrix ``A`` (``A[j, k] = 1`` when branch ``k`` is on
        the way to node ``j``): ``P = A^T p + A[to]^T (r l)`` (everything downstream of a branch,
        losses included), ``v = v_root - A (2 (r P + x Q) - (r^2 + x^2) l)``, ``l = (P^2 + Q^2) /
        v_from``, repeated until ``v`` and ``l`` move by less than 1e-12."""
        A = self._path_matrix()
        At = A.T.tocsr()
        Bt = A[self.branch_to].T.tocsr()
        r, x = self.r_pu[:, None], self.x_pu[:, None]
        z = r**2 + x**2
        v_root = v[self.root].copy()
        P = Q = np.zeros_like(L)
        for _ in range(iterations):
            P = At @ p + Bt @ (r * L)
            Q = At @ q + Bt @ (x * L)
            v_new = v_root[None, :] - A @ (2 * (r * P + x * Q) - z * L)
            v_new = np.maximum(v_new, 1e-3)
            L_new = (P**2 + Q**2) / v_new[self.branch_from]
            done = np.abs(L_new - L).max(initial=0.0) < 1e-12 and np.abs(v_new - v).max() < 1e-12
            v, L = v_new, L_new
            if done:
                break
        return v, P, Q, L

    def scheduled_import(self, n_steps: int) -> np.ndarray:
        """``(n_steps,)`` import at the root, MW: ``interface_schedule_mw`` when given, else the import
        of the scheduled loads by an exact branch-flow power flow (losses included)."""
        if self.interface_schedule_mw is not None:
            s = self.interface_schedule_mw
            if s.size == 1:
                return np.full(n_steps, float(s[0]))
            if s.size < n_steps:
                raise MarketError(
                    f"distribution grid {self.grid_id!r}: field 'interface_schedule_mw' has fewer steps "
                    "than the horizon"
                )
            return s[:n_steps].copy()
        p, q = self.base(n_steps)
        return self.import_of(p, q)

    def import_of(self, p_mw: np.ndarray, q_mvar: np.ndarray) -> np.ndarray:
        """Import at the root (MW) of the net loads ``(n_nodes, T)`` by an exact power flow."""
        _, P, _, _ = self.branch_flow(p_mw, q_mvar)
        root_br = self.branch_from == self.root
        return (P[root_br].sum(axis=0) * self.base_mva + p_mw[self.root]).astype(float)

    @staticmethod
    def from_pandapower(
        net: Any,
        grid_id: str,
        interface_node: str,
        dso_id: str = "",
        vmin_pu: float | None = None,
        vmax_pu: float | None = None,
        branch_limit_mva: float | None = None,
    ) -> DistributionGrid:
        """SOCP DistFlow model of a radial pandapower net whose external grid is the interface.

        Node ids are ``f"{grid_id}:{bus}"``. Branch data (r, x per unit on ``net.sn_mva``) come from
        pandapower's converter; voltage limits from ``min_vm_pu``/``max_vm_pu`` of the buses (0.9/1.1 when
        absent, or the arguments), current limits from the branch ratings as pandapower defines them
        (:func:`_pandapower_rate_a`: a line's ``sqrt(3) * vn_kv * max_i_ka * df * parallel``, a
        transformer's ``sn_mva * parallel * df``, where the net gives no ``max_loading_percent``; a
        ``max_i_ka`` at pandapower's 99999 kA placeholder is no limit), or ``branch_limit_mva`` for all
        branches. Scheduled net loads are the in-service loads minus static generators.
        Transformer taps and line charging are not modelled (DistFlow on nominal ratios).
        """
        ppc = _to_ppc(net)
        lookup, node_ids, aliases = _ppc_node_ids(net, ppc, f"{grid_id}:")
        n = len(node_ids)
        # each line's and transformer's own rating (sqrt(3) * vn_kv * max_i_ka * df * parallel; sn_mva *
        # parallel * df), not the converter's flat 100 MVA where the net has no max_loading_percent (the
        # CIGRE MV grid: 5-7 MVA lines were 100 MVA in the market while physics tripped them at 150 %)
        rate_a = _pandapower_rate_a(net, ppc)
        br = ppc["branch"]
        status = br[:, 10].real > 0
        br = br[status]
        rate_a = rate_a[status]
        base_mva = float(ppc["baseMVA"])
        rate = _ratings(rate_a)
        if branch_limit_mva is not None:
            rate = np.full(br.shape[0], float(branch_limit_mva))
        bus = net.bus
        vmin = np.full(n, 0.9 if vmin_pu is None else vmin_pu)
        vmax = np.full(n, 1.1 if vmax_pu is None else vmax_pu)
        if vmin_pu is None and "min_vm_pu" in bus:
            vals = bus.min_vm_pu.to_numpy(float)
            ok = np.isfinite(vals) & bus.in_service.to_numpy(bool)
            vmin[lookup[bus.index.to_numpy()[ok]]] = vals[ok]
        if vmax_pu is None and "max_vm_pu" in bus:
            vals = bus.max_vm_pu.to_numpy(float)
            ok = np.isfinite(vals) & bus.in_service.to_numpy(bool)
            vmax[lookup[bus.index.to_numpy()[ok]]] = vals[ok]
        p = np.zeros(n)
        q = np.zeros(n)
        for tbl, sign in (("load", 1.0), ("sgen", -1.0)):
            df = getattr(net, tbl)
            if len(df):
                on = df.in_service.to_numpy(bool)
                scale = df.scaling.to_numpy(float) if "scaling" in df else np.ones(len(df))
                np.add.at(p, lookup[df.bus.to_numpy()[on]], sign * (df.p_mw.to_numpy(float) * scale)[on])
                np.add.at(q, lookup[df.bus.to_numpy()[on]], sign * (df.q_mvar.to_numpy(float) * scale)[on])
        eg = net.ext_grid[net.ext_grid.in_service.to_numpy(bool)]
        if len(eg) != 1:
            raise MarketError(
                f"distribution grid {grid_id!r}: needs exactly one in-service ext_grid (the interface), "
                f"has {len(eg)}"
            )
        root = int(lookup[int(eg.bus.iloc[0])])
        return DistributionGrid(
            grid_id=grid_id,
            interface_node=interface_node,
            node_ids=node_ids,
            branch_ids=[f"{grid_id}:br{i}" for i in range(br.shape[0])],
            branch_from=br[:, 0].real.astype(int),
            branch_to=br[:, 1].real.astype(int),
            r_pu=br[:, 2].real.copy(),
            x_pu=br[:, 3].real.copy(),
            imax_pu=rate / base_mva,
            vmin_pu=vmin,
            vmax_pu=vmax,
            base_p_mw=p,
            base_q_mvar=q,
            root=root,
            v_root_pu=float(eg.vm_pu.iloc[0]),
            base_mva=base_mva,
            dso_id=dso_id or grid_id,
            aliases=aliases,
        )


@dataclass(frozen=True)
class CopperPlateNode:
    """A distribution grid not modelled in detail: one node at a transmission interface node."""

    node_id: str
    interface_node: str
    dso_id: str = ""
