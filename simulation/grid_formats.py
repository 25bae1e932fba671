"""Grid files in the formats the field exchanges, read into a pandapower net and checked.

One reader per format, each a thin wrapper over the converter pandapower ships, so the conversion
itself is pandapower's (tested there against PowerFactory and MATPOWER), and what this module adds is
what a study needs around it:

* **detection** (:func:`detect_format`): from the suffix (``.json``; ``.m``/``.mat``; ``.uct``/``.ucte``;
  ``.zip``/``.xml`` or a folder of them), else from the first bytes of the file, unless the scenario
  states ``grid_format``;
* **one-line errors**: every failure is a :class:`~simulation.errors.ScenarioError` naming the file, the
  format, the object and the field (``grid_file``, ``grid_format`` or the format's own record), never a
  converter traceback;
* **validation** (:func:`validate_grid`): the imported grid has buses, at least one line or transformer,
  a slack (an in-service ``ext_grid`` or a generator with ``slack=True``), and an AC power flow of the
  grid as given converges. A converter that silently drops half a file shows up here, before a
  simulation is built on it.

Formats
-------
``pandapower-json``
    ``pandapower.from_json``, after :func:`simulation.grid_json_guard.unsafe_object` refused any object
    outside pandapower's own data types (a JSON grid names the classes pandapower rebuilds).
``matpower``
    ``pandapower.converter.from_mpc``: a MATPOWER case file (``.m``, parsed by ``matpowercaseframes``) or
    a ``.mat`` file. Bus type 3 becomes the ``ext_grid``.
``ucte``
    ``pandapower.converter.ucte.from_ucte`` (UCTE-DEF, the exchange format of ENTSO-E's former UCTE
    area), with the slack node (node type code 3) as an ``ext_grid`` rather than a generator, because the
    scenario builder expects the distribution grid's connection point as an ``ext_grid``.
``cgmes``
    ``pandapower.converter.cim.cim2pp.from_cim`` (CGMES 2.4.15 or 3.0, told apart by the CIM namespace
    in the files): a ``.zip`` holding the profiles (EQ, SSH, TP, SV, ...), a single ``.xml``, or a
    folder of ``.xml``/``.zip`` files (the model and its boundary set). CGMES leaves the choice of the
    angle reference to the power-flow tool; when the file has no ``EnergySource`` or
    ``ExternalNetworkInjection`` that pandapower turns into an ``ext_grid``, the synchronous machine
    with the highest reference priority (``SynchronousMachine.referencePriority``: 1 is the highest,
    0 means "do not use") becomes the slack, the attribute CGMES defines for this choice. A model without
    either is refused as having no slack (the CGMES MicroGrid BE on its own is such a model: its machines
    all have 0).
"""

from __future__ import annotations

import copy
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any, Literal

from coordstudio.simulation.errors import ScenarioError

GridFormat = Literal["auto", "pandapower-json", "matpower", "ucte", "cgmes"]
"""What ``grid_format`` may state; ``auto`` detects the format from the suffix or the content."""

GRID_FORMATS: tuple[str, ...] = ("pandapower-json", "matpower", "ucte", "cgmes")
"""The formats a reader exists for (``auto`` is not one: it picks one of these)."""

SUFFIX_FORMATS: dict[str, str] = {
    ".json": "pandapower-json",
    ".m": "matpower",
    ".mat": "matpower",
    ".uct": "ucte",
    ".ucte": "ucte",
    ".zip": "cgmes",
    ".xml": "cgmes",
}
"""Suffix -> format, the first rule of :func:`detect_format` (read-only after import)."""

_SNIFF_BYTES = 65536
"""How much of a file of unknown suffix :func:`detect_format` reads to recognise its format, bytes."""

_CGMES_MEMBER = re.compile(r"\.xml$", re.IGNORECASE)


def _where(path: Path, fmt: str, field: str) -> str:
    """The start of every message: which file, read as which format, from which scenario field."""
    return f"grid file {path} ({fmt}, field {field})"


def _one_line(exc: BaseException) -> str:
    """A converter's exception as one short line (type and first line of its message)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _sniff(text: str) -> str | None:
    """The format the start of a text file looks like, or ``None``."""
    head = text.lstrip("\ufeff \t\r\n")
    if head.startswith("{") and ('"_module"' in text or '"pandapowerNet"' in text):
        return "pandapower-json"
    if re.search(r"^\s*function\s+mpc\s*=", text, re.M) or re.search(r"\bmpc\s*\.\s*(bus|baseMVA)\b", text):
        return "matpower"
    if re.search(r"^##[NZ]", text, re.M) and re.search(r"^##(C|N)\b", text, re.M):
        return "ucte"
    if "<rdf:RDF" in text and re.search(r"CIM-schema|iec\.ch/TC57", text):
        return "cgmes"
    return None


def detect_format(path: str | Path, field: str = "grid_file") -> str:
    """The format of ``path``: a folder is CGMES; otherwise by suffix (:data:`SUFFIX_FORMATS`), and a file
    of any other suffix by its content (a pandapower JSON object, ``mpc.bus``, UCTE ``##N`` blocks, an
    RDF document in a CIM namespace).

    Raises
    ------
    ScenarioError
        The file does not exist, or neither its suffix nor its content tells a known format.
    """
    path = Path(path)
    if path.is_dir():
        return "cgmes"
    if not path.is_file():
        raise ScenarioError(f"grid file {path}: not found (field {field})")
    suffix = path.suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            if any(_CGMES_MEMBER.search(n) for n in zf.namelist()):
                return "cgmes"
    else:
        with open(path, "rb") as fh:
            found = _sniff(fh.read(_SNIFF_BYTES).decode("utf-8", errors="replace"))
        if found is not None:
            return found
    raise ScenarioError(
        f"grid file {path}: unknown type {suffix!r} (field {field}); expected one of "
        f"{tuple(SUFFIX_FORMATS)} or a folder of CGMES files, or state field grid_format "
        f"({', '.join(GRID_FORMATS)})"
    )


# ------------------------------------------------------------------------------------------ readers


def _read_pandapower_json(path: Path, field: str) -> Any:
    import pandapower as pp

    from coordstudio.simulation.grid_json_guard import unsafe_object

    refused = unsafe_object(path)  # before pandapower imports what the file names
    if refused is not None:
        raise ScenarioError(f"grid file {path} (field {field}): {refused}")
    return pp.from_json(str(path))


def _read_matpower(path: Path, field: str) -> Any:
    """``from_mpc`` picks its parser by suffix, so a file stated as MATPOWER under another suffix is read
    through a temporary copy named ``.mat`` (a MATLAB binary) or ``.m`` (a case script)."""
    with open(path, "rb") as fh:
        binary = fh.read(6) == b"MATLAB"
    suffix = path.suffix.lower()
    if suffix not in (".m", ".mat"):
        with tempfile.TemporaryDirectory() as tmp:
            copy_path = Path(tmp) / (path.stem + (".mat" if binary else ".m"))
            shutil.copyfile(path, copy_path)
            return _read_matpower(copy_path, field)
    if suffix == ".m":
        from pandapower.converter.matpower import matpowercaseframes_imported

        if not matpowercaseframes_imported:
            raise ScenarioError(
                f"{_where(path, 'matpower', field)}: MATPOWER .m files need the 'matpowercaseframes' "
                "package (pip install matpowercaseframes); .mat files and pandapower JSON work without it"
            )
    from pandapower.converter.matpower import from_mpc

    return from_mpc(str(path), f_hz=50)


def _read_ucte(path: Path, field: str) -> Any:
    from pandapower.converter.ucte import from_ucte

    return from_ucte(str(path), slack_as_gen=False)


def cgmes_files(path: Path, field: str = "grid_file") -> list[Path]:
    """The files of a CGMES model: the ``.zip``/``.xml`` itself, or every ``.xml``/``.zip`` of a folder
    (sorted, so the model and its boundary set are read in the same order on every machine)."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".xml", ".zip"))
    if not files:
        raise ScenarioError(f"{_where(path, 'cgmes', field)}: the folder holds no .xml or .zip file")
    return files


def cgmes_version(files: list[Path]) -> str:
    """``"3.0"`` when the first CIM document found uses the CIM100 namespace of CGMES 3.0, else
    ``"2.4.15"`` (cim16), the two versions pandapower's converter reads."""
    for f in files:
        if f.suffix.lower() == ".zip" and zipfile.is_zipfile(f):
            with zipfile.ZipFile(f) as zf:
                names = [n for n in zf.namelist() if _CGMES_MEMBER.search(n)]
                if not names:
                    continue
                with zf.open(names[0]) as fh:
                    head = fh.read(8192).decode("utf-8", errors="replace")
        else:
            with open(f, "rb") as fh:
                head = fh.read(8192).decode("utf-8", errors="replace")
        if "CIM100" in head or "CIM-schema-cim17" in head:
            return "3.0"
        if "cim16" in head:
            return "2.4.15"
    return "2.4.15"


def _read_cgmes(path: Path, field: str) -> Any:
    from pandapower.converter.cim.cim2pp.from_cim import from_cim

    files = cgmes_files(path, field)
    for f in files:
        if zipfile.is_zipfile(f):
            with zipfile.ZipFile(f) as zf:
                if not any(_CGMES_MEMBER.search(n) for n in zf.namelist()):
                    raise ScenarioError(f"{_where(f, 'cgmes', field)}: the archive holds no .xml file")
            continue
        with open(f, "rb") as fh:
            looks = _sniff(fh.read(_SNIFF_BYTES).decode("utf-8", errors="replace"))
        if looks != "cgmes":
            what = f"its content looks like {looks}" if looks else "no RDF document in a CIM namespace"
            raise ScenarioError(f"{_where(f, 'cgmes', field)}: not a CGMES file ({what}; field grid_format)")
    net = from_cim(file_list=[str(f) for f in files], cgmes_version=cgmes_version(files))
    choose_cgmes_slack(net)
    return net


def _has_slack(net: Any) -> bool:
    ext = "ext_grid" in net and len(net.ext_grid) and bool(net.ext_grid.in_service.astype(bool).any())
    gen = (
        "gen" in net
        and len(net.gen)
        and "slack" in net.gen
        and bool((net.gen.slack.fillna(False).astype(bool) & net.gen.in_service.astype(bool)).any())
    )
    return bool(ext or gen)


def choose_cgmes_slack(net: Any) -> None:
    """Without an ``ext_grid``, the in-service machine of highest reference priority (smallest positive
    ``referencePriority``, the CGMES attribute meant for this choice) becomes the slack; ties go to the
    largest machine by active power set-point."""
    if _has_slack(net) or "referencePriority" not in net.gen or not len(net.gen):
        return
    prio = net.gen.referencePriority.astype(float)
    candidates = net.gen[(prio > 0) & net.gen.in_service.astype(bool)]
    if not len(candidates):
        return
    order = candidates.assign(_p=prio[candidates.index], _s=-candidates.p_mw.abs()).sort_values(["_p", "_s"])
    net.gen["slack"] = False
    net.gen.at[order.index[0], "slack"] = True


READERS = {
    "pandapower-json": _read_pandapower_json,
    "matpower": _read_matpower,
    "ucte": _read_ucte,
    "cgmes": _read_cgmes,
}
"""Format -> reader (path, field) -> pandapower net; read-only after import."""

_SLACK_SOURCE = {
    "pandapower-json": "an in-service ext_grid or a gen with slack=True",
    "matpower": "a bus of type 3 (mpc.bus column BUS_TYPE)",
    "ucte": "a node of type code 3 (node block, column T)",
    "cgmes": "an EnergySource/ExternalNetworkInjection or a SynchronousMachine with referencePriority > 0",
}
"""Where each format states the slack, for the message that says it is missing."""


# ------------------------------------------------------------------------------------------ checks


def validate_grid(net: Any, path: Path, fmt: str, field: str = "grid_file") -> None:
    """Refuse an imported grid a study cannot use, naming the file and the missing object.

    Checks, in order: buses; at least one line, transformer or impedance (a grid of separate buses is a
    failed import); a slack (:data:`_SLACK_SOURCE` says where each format states it); and, for the
    converted formats (every format but ``pandapower-json``), that an AC power flow of the grid as given
    (its own loads and set-points, pandapower's Newton-Raphson, on a copy) converges, where a converter's
    silent loss shows. A pandapower JSON file is the tool's own exchange: ``scenario generate`` writes grids
    whose loads only the spec's ``load_scale_frac`` and the dispatch make solvable, so it gets the
    structural checks, and the scenario builder's power flows name a grid that does not solve.
    """
    where = _where(path, fmt, field)
    if len(net.bus) == 0:
        raise ScenarioError(f"{where}: the grid has no bus (object bus)")
    branches = sum(len(net[t]) for t in ("line", "trafo", "trafo3w", "impedance") if t in net)
    if branches == 0:
        raise ScenarioError(f"{where}: the grid has no line or transformer (objects line, trafo)")
    if not _has_slack(net):
        raise ScenarioError(f"{where}: the grid has no slack (object ext_grid); give it {_SLACK_SOURCE[fmt]}")
    if fmt == "pandapower-json":
        return
    import numpy as np
    import pandapower as pp
    from pandapower.auxiliary import ppException

    trial = copy.deepcopy(net)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runpp(trial, numba=False)
    except (
        ppException,
        np.linalg.LinAlgError,
        FloatingPointError,
        OverflowError,
        ZeroDivisionError,
        UserWarning,
        KeyError,
        ValueError,
        IndexError,
    ) as exc:
        raise ScenarioError(
            f"{where}: the AC power flow of the grid as given does not converge "
            f"(object net; {_one_line(exc)})"
        ) from None


def _content_hint(path: Path, fmt: str) -> str:
    """``"; its content looks like X"`` when a file that failed to read as ``fmt`` looks like another
    format (a stated ``grid_format`` that does not fit the file), else ``""``."""
    if path.is_dir() or not path.is_file():
        return ""
    try:
        with open(path, "rb") as fh:
            looks = _sniff(fh.read(_SNIFF_BYTES).decode("utf-8", errors="replace"))
    except OSError:
        return ""
    if looks is None or looks == fmt:
        return ""
    return f"; its content looks like {looks} (field grid_format)"


def read_grid(
    path: str | Path, grid_format: str = "auto", *, field: str = "grid_file", validate: bool = True
) -> Any:
    """Read ``path`` as ``grid_format`` (``auto``: :func:`detect_format`) into a pandapower net, then
    :func:`validate_grid` it unless ``validate`` is false.

    Raises
    ------
    ScenarioError
        Unknown format, missing or unparsable file, or a grid that fails validation; one line naming the
        file, the format, the object and the field.
    """
    path = Path(path)
    if grid_format not in ("auto", *GRID_FORMATS):
        raise ScenarioError(
            f"grid file {path}: unknown format {str(grid_format)[:40]!r} (field grid_format); expected auto "
            f"or one of {', '.join(GRID_FORMATS)}"
        )
    if not path.exists():
        raise ScenarioError(f"grid file {path}: not found (field {field})")
    fmt = detect_format(path, field) if grid_format == "auto" else grid_format
    if fmt != "cgmes" and path.is_dir():
        raise ScenarioError(f"{_where(path, fmt, field)}: is a folder; only CGMES models come as a folder")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = READERS[fmt](path, field)
    except ScenarioError:
        raise
    except Exception as exc:  # converters raise plain errors (ValueError, KeyError, XML errors) on bad files
        hint = _content_hint(path, fmt)
        raise ScenarioError(f"{_where(path, fmt, field)}: cannot be read ({_one_line(exc)}){hint}") from exc
    if validate:
        validate_grid(net, path, fmt, field)
    return net
