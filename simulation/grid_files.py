"""Grid files and bundled grids: the one place that turns a file path, a pandapower case name or a SimBench
code into a pandapower net.

* :func:`load_grid_file` reads a pandapower JSON (``.json``) or MATPOWER (``.m``, ``.mat``) file;
  :func:`save_grid_file` writes a net as pandapower JSON atomically.
* :func:`load_net` gives a fresh copy of a grid by source (``"file"``, ``"pandapower"``, ``"simbench"``),
  cached per process (:func:`cached_net`), so a scenario built several times reads its grids once.

Both the scenario builder (:mod:`simulation.scenario.build`) and the importers (:mod:`simulation.imports`)
read grids through here; neither imports the other for it.
"""

from __future__ import annotations

import copy
import functools
import warnings
from pathlib import Path
from typing import Any

from coordstudio.simulation.errors import ScenarioError

GRID_SUFFIXES: tuple[str, ...] = (".json", ".m", ".mat")
"""File types :func:`load_grid_file` reads."""

PANDAPOWER_CASES: tuple[str, ...] = (
    "case4gs", "case5", "case6ww", "case9", "case11_iwamoto", "case14", "case24_ieee_rts", "case30",
    "case_ieee30", "case33bw", "case39", "case57", "case89pegase", "case118", "case145",
    "case_illinois200", "case300", "case1354pegase", "case1888rte", "case2848rte", "case2869pegase",
    "case3120sp", "case6470rte", "case6495rte", "case6515rte", "case9241pegase", "GBnetwork",
    "GBreducednetwork", "iceland", "create_cigre_network_hv", "create_cigre_network_mv",
    "create_cigre_network_lv", "mv_oberrhein", "example_simple", "example_multivoltage",
    "simple_four_bus_system", "simple_mv_open_ring_net", "panda_four_load_branch",
    "four_loads_with_branches_out",
)
"""Grids of ``pandapower.networks`` a spec may name in ``case_name``: an explicit table, because looking a
user's text up as an attribute of the module would reach any function there (``create_bus``, ``runpp``)
or a class (``Point``, ``__class__``)."""


def load_grid_file(path: str | Path) -> Any:
    """Read a pandapower JSON or MATPOWER case into a pandapower net.

    Raises
    ------
    ScenarioError
        The file does not exist, has another suffix, or cannot be parsed; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"grid file {path}: not found (field grid_file)")
    suffix = path.suffix.lower()
    if suffix not in GRID_SUFFIXES:
        raise ScenarioError(
            f"grid file {path}: unknown type {suffix!r} (field grid_file); expected one of {GRID_SUFFIXES}"
        )
    if suffix == ".m":
        from pandapower.converter.matpower import matpowercaseframes_imported

        if not matpowercaseframes_imported:
            raise ScenarioError(
                f"grid file {path}: MATPOWER .m files need the 'matpowercaseframes' package "
                "(pip install matpowercaseframes); .mat files and pandapower JSON work without it"
            )
    if suffix == ".json":
        from coordstudio.simulation.grid_json_guard import unsafe_object

        refused = unsafe_object(path)  # before pandapower imports what the file names
        if refused is not None:
            raise ScenarioError(f"grid file {path} (field grid_file): {refused}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if suffix == ".json":
                import pandapower as pp

                net = pp.from_json(str(path))
            else:
                from pandapower.converter.matpower import from_mpc

                net = from_mpc(str(path), f_hz=50)
    except Exception as exc:  # pandapower raises plain errors for malformed files
        raise ScenarioError(f"grid file {path}: cannot be read ({type(exc).__name__}: {exc})") from exc
    if len(net.bus) == 0:
        raise ScenarioError(f"grid file {path}: the grid has no bus")
    return net


def save_grid_file(net: Any, path: str | Path) -> Path:
    """Write a net as pandapower JSON atomically (temporary file in the same folder, then rename)."""
    import pandapower as pp

    from coordstudio.simulation.fileio import atomic_write_text

    return atomic_write_text(path, pp.to_json(net))


@functools.lru_cache(maxsize=16)
def cached_net(source: str, case_name: str) -> Any:
    if source == "file":  # a pandapower JSON or MATPOWER file (TransmissionGridSpec/FeederSpec.grid_file)
        return load_grid_file(case_name)
    if source == "simbench":
        import simbench

        try:
            return simbench.get_simbench_net(case_name)
        except Exception as exc:  # simbench raises plain errors for unknown codes
            raise ScenarioError(f"SimBench grid {case_name!r}: cannot be loaded ({exc})") from exc
    import pandapower.networks as pn

    if case_name not in PANDAPOWER_CASES:
        raise ScenarioError(
            f"pandapower grid {case_name[:60]!r}: not a bundled grid (field case_name); known: "
            f"{', '.join(PANDAPOWER_CASES)}"
        )
    func = getattr(pn, case_name, None)
    if func is None or not callable(func):
        raise ScenarioError(f"pandapower grid {case_name!r}: no such function in pandapower.networks")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func()


def load_net(source: str, case_name: str) -> Any:
    """A fresh copy of a pandapower bundled case or a SimBench grid (cached per process)."""
    return copy.deepcopy(cached_net(source, case_name))
