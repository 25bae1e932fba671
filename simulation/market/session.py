"""A market case re-cleared as the horizon rolls: :class:`MarketSession`.

The simulated day clears the same case structure every market step with new needs, bids and grid
states; a session keeps the built models and the solver with its basis and cuts between the clearings
instead of building them afresh (:func:`~simulation.market.clearing.clear`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from coordstudio.simulation.errors import MarketError
from coordstudio.simulation.market.assembly import ResultBuilder, take_central
from coordstudio.simulation.market.bids import EnergyConstraint
from coordstudio.simulation.market.case import SCHEMES, ClearingOptions, MarketCase
from coordstudio.simulation.market.clearing import ModelCache, clear_reusing
from coordstudio.simulation.market.direct_model import build_clearing_model
from coordstudio.simulation.market.model import set_parameters
from coordstudio.simulation.market.prepare import central_problem, participating, prepare_case, prequalify
from coordstudio.simulation.market.problem import Problem
from coordstudio.simulation.market.results import ClearingResult
from coordstudio.simulation.market.solve import solve_problem
from coordstudio.simulation.market.solvers import make_solver
from coordstudio.simulation.progress import Progress


# -------------------------------------------------------------------------------------------- rolling horizon
class MarketSession:
    """A built model with its persistent solver, re-cleared as the horizon rolls.

    The case's structure (grids, bid ids and nodes and products) stays; :meth:`update` changes the
    mutable parameters: needs, bid quantities and prices, initial activations (for ramp limits), the
    scheduled transmission injections and distribution loads. Every (bid, step) pair has a variable,
    so a bid may offer in a step where it offered nothing before. Centralised schemes (CMS, CM, IFM)
    reuse their one model; the decentralised ones (LMS, SBR, CM-D) keep the model of every
    sub-clearing (each grid's local market, curve and disaggregation model, the TSO market with the
    DSOs' curves padded to ``options.curve_points`` segments per direction) and write the next data
    into their parameters; every model keeps its HiGHS instance, basis and cuts.
    """

    def __init__(self, case: MarketCase, scheme: str = "CM", options: ClearingOptions | None = None) -> None:
        if scheme not in SCHEMES:
            raise MarketError(f"{case.name}: unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")
        self.case = case
        self.scheme = scheme
        self.options = options or ClearingOptions()
        self.handle = make_solver(self.options.solver, f"{case.name} [{scheme}]")
        self.reuses = scheme in ("CMS", "CM", "IFM")
        self._cache: ModelCache = {}
        self._model: Any = None
        self._prob: Problem | None = None
        self._mask: np.ndarray | None = None
        self.build_time_s = 0.0
        self.clearings = 0

    def update(
        self,
        needs_mw: Mapping[str, Any] | None = None,
        quantity_mw: np.ndarray | None = None,
        price_eur_per_mwh: np.ndarray | None = None,
        initial_activation_mw: np.ndarray | None = None,
        base_injection_mw: np.ndarray | None = None,
        distribution_load_mw: Mapping[str, np.ndarray] | None = None,
        initial_on_steps: np.ndarray | None = None,
        distribution_qload_mvar: Mapping[str, np.ndarray] | None = None,
        energy_limits_mwh: Mapping[str, tuple[float, float]] | None = None,
        root_voltage_pu: Mapping[str, float] | None = None,
    ) -> None:
        """Change the data of the next clearing (arrays over the case's bids, ``(n_bids, n_steps)``;
        ``initial_activation_mw`` and ``initial_on_steps`` ``(n_bids,)``: where the last firm step left
        each bid, for its ramp limit and its minimum duration; per distribution grid id its scheduled
        active and reactive loads and the voltage of its root (a tap move); per energy group of the
        case its ``(min, max)`` MWh)."""
        case = self.case
        bids = case.bids
        if energy_limits_mwh:
            unknown = sorted(set(energy_limits_mwh) - set(bids.energy_constraints) - set(bids.energy_group))
            if unknown:
                raise MarketError(f"{case.name}: update: unknown energy group {unknown[0]!r}")
            ecs = dict(bids.energy_constraints)
            for g, (lo, hi) in energy_limits_mwh.items():
                ecs[g] = EnergyConstraint(g, float(lo), float(hi))
            bids = case.bids = replace(bids, energy_constraints=ecs)
        if initial_on_steps is not None:
            on = np.asarray(initial_on_steps, dtype=int)
            if on.shape != (bids.n_bids,):
                raise MarketError(f"{case.name}: update: 'initial_on_steps' must have {bids.n_bids} entries")
            bids = case.bids = replace(bids, initial_on_steps=on)
        if quantity_mw is not None or price_eur_per_mwh is not None or initial_activation_mw is not None:
            q = bids.quantity_mw if quantity_mw is None else np.asarray(quantity_mw, float)
            pz = bids.price_eur_per_mwh if price_eur_per_mwh is None else np.asarray(price_eur_per_mwh, float)
            a0 = (
                bids.initial_activation_mw
                if initial_activation_mw is None
                else np.asarray(initial_activation_mw, float)
            )
            if (
                q.shape != bids.quantity_mw.shape
                or pz.shape != bids.quantity_mw.shape
                or a0.shape != (bids.n_bids,)
            ):
                raise MarketError(
                    f"{case.name}: update: bid arrays must keep the shape {bids.quantity_mw.shape}"
                )
            new = replace(bids, quantity_mw=q, price_eur_per_mwh=pz, initial_activation_mw=a0)
            new.check_values()
            case.bids = new
        if needs_mw is not None:
            case.needs_mw = dict(needs_mw)
        if base_injection_mw is not None:
            case.transmission = replace(
                case.transmission, base_injection_mw=np.asarray(base_injection_mw, float)
            )
        changes: dict[str, dict[str, Any]] = {}
        for field_name, data in (
            ("base_p_mw", distribution_load_mw),
            ("base_q_mvar", distribution_qload_mvar),
            ("v_root_pu", root_voltage_pu),
        ):
            if data is None:
                continue
            unknown = sorted(set(data) - {dg.grid_id for dg in case.distribution})
            if unknown:
                raise MarketError(f"{case.name}: update: unknown distribution grid {unknown[0]!r}")
            for gid, val in data.items():
                new_val = float(val) if field_name == "v_root_pu" else np.asarray(val, float)
                changes.setdefault(gid, {})[field_name] = new_val
        if changes:  # one replace per grid: each re-runs the grid's radial check
            case.distribution = [
                replace(dg, **changes[dg.grid_id]) if dg.grid_id in changes else dg
                for dg in case.distribution
            ]

    def clear(self, progress: Progress | None = None) -> ClearingResult:
        """Clear the case as it now stands, reusing the model when the scheme allows."""
        self.clearings += 1
        if not self.reuses:
            # decentralised schemes: every sub-clearing keeps its model in the session's cache
            return clear_reusing(self.case, self.scheme, self.options, progress, self._cache, self.handle)
        prep = prepare_case(self.case)
        acc = ResultBuilder(prep, self.scheme, self.options)
        t0 = time.perf_counter()
        if self._model is None:
            mask = participating(prep, self.scheme)
            if self.scheme == "CMS" and self.options.prequalification and self.case.distribution:
                mask = mask & prequalify(prep, mask)
            self._mask = mask
            self._prob = central_problem(prep, self.scheme, mask, f"{self.case.name} [{self.scheme}]")
            self._model = build_clearing_model(self._prob, reusable=True, direct=self.handle.persistent)
            # re-cleared with new parameters only: its solver arrays follow them without a Pyomo
            # compile, on a structure that never changes (simulation.market.param_map)
            self._model._stable_structure = True
            # a converged relaxation that is integral (or rounds within the MIP gap) settles the
            # clearing without HiGHS's MIP solver, which starts from scratch each time (no warm start):
            # the MIP solves were 60 % of CM's HiGHS time (simulation.market.highs_direct)
            self._model._skip_integral_milp = True
        else:
            assert self._prob is not None and self._mask is not None
            prob = central_problem(prep, self.scheme, self._mask, self._prob.name)
            self._set_params(prob)
            self._prob = prob
        build = time.perf_counter() - t0
        self.build_time_s += build
        sol = solve_problem(self._model, self._prob, self.options, self.handle)
        acc.add_stats(sol, build, f"{self.scheme} market (clearing {self.clearings})")
        take_central(acc, self._prob, sol, self._mask, self.scheme)
        return acc.result(time.perf_counter())

    def _set_params(self, prob: Problem) -> None:
        set_parameters(self._model, prob)
