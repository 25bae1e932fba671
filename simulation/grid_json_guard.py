"""Refuse a pandapower JSON file that names code outside pandapower's own data types.

Why: pandapower's JSON loader rebuilds each object from the ``_module`` and ``_class`` it names, importing
that module (``importlib.import_module``) and calling the class. A grid file is user input (a study's
``grid_file``, a market case's ``pandapower_file``), so a hostile file could make the loader import and
call anything installed (issue 18, section 5). pandapower's own check only blocks ``os`` and ``exec``.
Before ``pandapower.from_json`` sees a file, :func:`unsafe_object` walks it (including the JSON text
nested in ``_object`` strings) and accepts only the types pandapower itself writes:

* anything under the ``pandapower`` package (the net, controllers, characteristics);
* ``pandas`` DataFrame and Series, ``geopandas`` GeoDataFrame and GeoSeries, ``networkx`` MultiGraph,
  ``shapely`` geometries;
* ``numpy`` arrays and scalar types.

Standard library only, so the market layer can use it too (``simulation.market.casefile``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["ALLOWED_CLASSES", "unsafe_object"]

#: Module -> classes accepted outside ``pandapower`` itself (``"*"``: any class of that module).
ALLOWED_CLASSES: dict[str, frozenset[str]] = {
    "pandas": frozenset({"DataFrame", "Series"}),
    "pandas.core.frame": frozenset({"DataFrame"}),
    "pandas.core.series": frozenset({"Series"}),
    "geopandas": frozenset({"GeoDataFrame", "GeoSeries"}),
    "geopandas.geodataframe": frozenset({"GeoDataFrame"}),
    "geopandas.geoseries": frozenset({"GeoSeries"}),
    "networkx": frozenset({"MultiGraph"}),
    "shapely": frozenset({"*"}),
}
_NUMPY_CLASS = re.compile(
    r"(array|ndarray|bool_?|str_|bytes_|u?int(8|16|32|64)?|float(16|32|64)?|complex(64|128)?)"
)
_SHAPELY_MODULE = re.compile(r"shapely(\.[A-Za-z_][A-Za-z0-9_]*)*")
_CLASS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _allowed(module: object, cls: object) -> bool:
    if not isinstance(module, str) or not isinstance(cls, str) or not _CLASS_NAME.fullmatch(cls):
        return False
    if module == "pandapower" or module.startswith("pandapower."):
        return cls not in ("exec", "eval")
    if module == "numpy":
        return bool(_NUMPY_CLASS.fullmatch(cls))
    if _SHAPELY_MODULE.fullmatch(module):
        return cls != "function"
    allowed = ALLOWED_CLASSES.get(module)
    return allowed is not None and ("*" in allowed or cls in allowed)


def unsafe_object(path: str | Path) -> str | None:
    """``None`` if every object of the pandapower JSON file ``path`` is of an accepted type, else the
    reason (which object, which module and class), for the caller's error naming the file.

    A file that is not JSON at all is left to pandapower's own error (``None``).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            root = json.load(fh)
    except (OSError, ValueError, RecursionError):
        return None
    stack: list[tuple[str, Any]] = [("", root)]
    while stack:
        where, obj = stack.pop()
        if isinstance(obj, dict):
            if "_module" in obj or "_class" in obj:
                module, cls = obj.get("_module"), obj.get("_class")
                if not _allowed(module, cls):
                    at = where or "the top level"
                    return (
                        f"object at {at} names module {str(module)[:80]!r}, class {str(cls)[:80]!r}; only "
                        "pandapower's own data types are accepted (pandapower, pandas, numpy, networkx, "
                        "geopandas, shapely)"
                    )
            stack.extend((f"{where}.{k}" if where else str(k), v) for k, v in obj.items())
        elif isinstance(obj, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(obj))
        elif isinstance(obj, str) and "_module" in obj and obj.lstrip()[:1] in ("{", "["):
            try:
                stack.append((where, json.loads(obj)))  # pandapower nests JSON text in ``_object``
            except (ValueError, RecursionError):
                continue
    return None
