"""Read what the GUI shows about a field from the pydantic schema, never from a hand-written table.

The domain packages put the unit in the field name (``capex_eur``, ``latency_ms``) and a sentence in
every field's ``description``. This module turns those into column headers ("CAPEX [EUR]"), tooltips,
editor kinds (text, integer, float, bool, choice) and the list of choices of an enumeration
(``Literal[...]`` or :class:`enum.Enum`). Qt-free on purpose, so it is tested without a display.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

#: Unit suffixes of field names, longest first, and how the header shows them.
_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_eur_per_endpoint_year", "EUR/endpoint/a"),
    ("_eur_per_gateway_year", "EUR/gateway/a"),
    ("_eur_per_unit_year", "EUR/unit/a"),
    ("_eur_per_unit", "EUR/unit"),
    ("_eur_per_gb", "EUR/GB"),
    ("_km_per_endpoint", "km/endpoint"),
    ("_eur_per_endpoint", "EUR/endpoint"),
    ("_eur_per_gateway", "EUR/gateway"),
    ("_eur_per_bus_hour", "EUR/bus-h"),
    ("_eur_per_mwh", "EUR/MWh"),
    ("_eur_per_year", "EUR/a"),
    ("_eur_per_km", "EUR/km"),
    ("_eur_per_t", "EUR/t"),
    ("_t_per_mwh", "t/MWh"),
    ("_days_per_year", "d/a"),
    ("_per_day", "1/d"),
    ("_per_hour", "1/h"),
    ("_frac_per_min", "1/min"),
    ("_bytes", "B"),
    ("_kbps", "kbit/s"),
    ("_mbps", "Mbit/s"),
    ("_bps", "bit/s"),
    ("_years", "years"),
    ("_year", "year"),
    ("_eur", "EUR"),
    ("_mw", "MW"),
    ("_kw", "kW"),
    ("_mwh", "MWh"),
    ("_kwh", "kWh"),
    ("_mvar", "Mvar"),
    ("_mva", "MVA"),
    ("_kv", "kV"),
    ("_pu", "p.u."),
    ("_ms", "ms"),
    ("_min", "min"),
    ("_h", "h"),
    ("_s", "s"),
    ("_km", "km"),
    ("_c", "°C"),
    ("_pct", "%"),
    ("_percent", "%"),
    ("_frac", "fraction"),
)

_ACRONYMS = {
    "capex": "CAPEX",
    "opex": "OPEX",
    "ict": "ICT",
    "id": "id",
    "npv": "NPV",
    "bcr": "BCR",
    "irr": "IRR",
    "res": "RES",
    "co2": "CO2",
    "der": "DER",
    "dso": "DSO",
    "tso": "TSO",
    "afrr": "aFRR",
    "sgam": "SGAM",
    "mc": "MC",
    "monte": "Monte",
    "carlo": "Carlo",
    "soc": "SoC",
    "ev": "EV",
    "chp": "CHP",
    "tcl": "TCL",
    "cop": "COP",
    "as": "AS",
}


def split_unit(name: str) -> tuple[str, str]:
    """Split a unit-bearing field name into (base name, unit); unit is '' when the name carries none.

    >>> split_unit("capex_eur_per_endpoint")
    ('capex', 'EUR/endpoint')
    >>> split_unit("discount_rate")
    ('discount_rate', '')
    """
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], unit
    return name, ""


def pretty_name(name: str) -> str:
    """``"opex_eur_per_year"`` -> ``"OPEX [EUR/a]"``; ``"latency_ms"`` -> ``"Latency [ms]"``."""
    base, unit = split_unit(name)
    words = [_ACRONYMS.get(w, w) for w in base.split("_") if w]
    if words and words[0] == words[0].lower():
        words[0] = words[0][:1].upper() + words[0][1:]
    text = " ".join(words) or name
    return f"{text} [{unit}]" if unit else text


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); anything else -> (annotation, False)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def _unwrap_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


@dataclass(frozen=True)
class FieldSpec:
    """How one pydantic field is shown and edited in a table column or a form row."""

    name: str
    header: str
    tooltip: str
    kind: str  # "str", "int", "float", "bool", "choice", "list_str", "list_choice", "other"
    choices: tuple[Any, ...] = ()
    optional: bool = False
    minimum: float | None = None
    maximum: float | None = None

    @property
    def editable_inline(self) -> bool:
        """Whether a table cell or a form row can edit this field directly."""
        return self.kind != "other"


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    lo: float | None = None
    hi: float | None = None
    for meta in info.metadata:
        for attr, is_low in (("ge", True), ("gt", True), ("le", False), ("lt", False)):
            value = getattr(meta, attr, None)
            if isinstance(value, (int, float)):
                if is_low:
                    lo = float(value)
                else:
                    hi = float(value)
    return lo, hi


def _choices_of(annotation: Any) -> tuple[Any, ...] | None:
    if get_origin(annotation) is Literal:
        return tuple(get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return tuple(annotation)
    return None


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    """Describe one field: header with unit, tooltip from the description, editor kind and choices."""
    annotation, optional = _strip_optional(_unwrap_annotated(info.annotation))
    annotation = _unwrap_annotated(annotation)
    description = (info.description or "").strip()
    base, unit = split_unit(name)
    tooltip = (
        f"<b>{name}</b>" + (f" ({unit})" if unit else "") + (f"<br>{description}" if description else "")
    )
    lo, hi = _bounds(info)
    choices = _choices_of(annotation)
    kind = "other"
    if choices is not None:
        kind = "choice"
    elif annotation is bool:
        kind = "bool"
    elif annotation is int:
        kind = "int"
    elif annotation is float:
        kind = "float"
    elif annotation is str:
        kind = "str"
    elif get_origin(annotation) in (list, tuple, set, frozenset):
        args = get_args(annotation)
        inner = _unwrap_annotated(args[0]) if args else Any
        inner_choices = _choices_of(inner)
        if inner_choices is not None:
            kind, choices = "list_choice", inner_choices
        elif inner is str:
            kind = "list_str"
    return FieldSpec(
        name=name,
        header=pretty_name(name),
        tooltip=tooltip,
        kind=kind,
        choices=tuple(choices or ()),
        optional=optional,
        minimum=lo,
        maximum=hi,
    )


def field_specs(model_type: type[BaseModel], *, include_other: bool = False) -> list[FieldSpec]:
    """The field specs of a model class, in declaration order (nested models and dicts left out)."""
    specs = [field_spec(name, info) for name, info in model_type.model_fields.items()]
    return [s for s in specs if include_other or s.editable_inline]


def choice_text(value: Any) -> str:
    """Display text of an enumeration value (an Enum member shows its value)."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


def format_value(spec: FieldSpec, value: Any) -> str:
    """Text a table cell shows for a value (lists comma-separated, floats without noise)."""
    if value is None:
        return ""
    if spec.kind in ("list_str", "list_choice"):
        return ", ".join(choice_text(v) for v in value)
    if spec.kind == "choice":
        return choice_text(value)
    if spec.kind == "bool":
        return "yes" if value else "no"
    if spec.kind == "float" and isinstance(value, float):
        return f"{value:,.6g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def parse_text(spec: FieldSpec, text: str) -> Any:
    """Turn what a user typed into the value pydantic will validate (pydantic does the real check)."""
    text = text.strip()
    if spec.optional and text == "":
        return None
    if spec.kind in ("list_str", "list_choice"):
        items = [t.strip() for t in text.split(",") if t.strip()]
        if spec.kind == "list_choice":
            by_text = {choice_text(c): c for c in spec.choices}
            return [by_text.get(t, t) for t in items]
        return items
    if spec.kind == "choice":
        by_text = {choice_text(c): c for c in spec.choices}
        return by_text.get(text, text)
    if spec.kind == "float":
        return text.replace(",", "") if text else text
    return text
