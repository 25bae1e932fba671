"""One use case exchanged in the layout of the IEC 62559-2:2015 use-case template (an Excel workbook).

ICT architects and EU projects write use cases in the standard's template: eight sections, each with the
standard's numbered headings and tables. :func:`export_use_case` writes one use case of the SGAM model as
such a workbook, one sheet per section, headings and columns in the template's order:

====  ==============================  ======================================================================
sheet section                         tables (model source)
====  ==============================  ======================================================================
1     Description of the use case     1.1 name (``UseCase``), 1.2 versions (``use_case_versions``), 1.3 scope
                                      and objectives, 1.4 narrative, 1.5 KPIs (``kpis``), 1.6 conditions
                                      (``use_case_conditions``), 1.7 classification, 1.8 general remarks
2     Diagrams of use case            ``use_case_diagrams`` (title, description, file or link)
3     Technical details               3.1 actors (``actors`` + ``use_case_actors``), 3.2 references
4     Step by step analysis           4.1 scenarios (``scenarios``), 4.2 one steps table per scenario
5     Information exchanged           ``information_objects`` the steps exchange, with their R-IDs
6     Requirements                    ``requirements`` grouped by category (category row, then R-IDs)
7     Common terms and definitions    ``terms``
8     Custom information              ``custom_information`` (key, value, refers to section)
====  ==============================  ======================================================================

A ninth sheet, ``SGAM mapping``, holds what the template has no column for but the SGAM/ICT model needs
(an actor's domain, zone, role and multiplicity, an information object's payload, a requirement's hard ICT
limits, a step's costed interaction events, ids that differ from the row's label). It is written after the
eight sections so that they stay exactly the standard's layout; :func:`import_use_case` reads it back when
present, so ``export`` then ``import`` gives back an equal model.

Importing a template written elsewhere (no mapping sheet) creates the actors and information objects the
model does not hold with stated placeholders (:data:`PLACEHOLDERS`) and returns one note per placeholder,
to be replaced before the objects carry costed events. Rows the template gives no id (versions, conditions,
diagrams, references, terms, custom information) get positional ids ``<use case>-V1``, ``-C1``, ``-D1``,
``-R1``, ``-T1``, ``-X1``; a purely numeric scenario number ``n`` becomes the id ``<use case>-n``; a step's
id is ``<scenario>-<step no, two digits>``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from pydantic import BaseModel, ValidationError

from coordstudio.sgam.errors import SgamImportError, SgamValidationError
from coordstudio.sgam.fileio import atomic_save
from coordstudio.sgam.model import (
    Actor,
    CustomInformation,
    EndpointCount,
    InformationObject,
    Requirement,
    RequirementCategory,
    SgamModel,
    Term,
    UseCase,
    UseCaseActorInfo,
    UseCaseCondition,
    UseCaseDiagram,
    UseCaseKpi,
    UseCaseReference,
    UseCaseScenario,
    UseCaseStep,
    UseCaseVersion,
)
from coordstudio.sgam.quoting import short

__all__ = [
    "MAPPING_SHEET",
    "PLACEHOLDERS",
    "SECTION_SHEETS",
    "export_use_case",
    "import_use_case",
    "read_sheets",
    "template_rows",
]

Rows = list[list[Any]]
"""The cells of one sheet, row by row (``None`` or ``""`` for an empty cell, ``[]`` for an empty row)."""

SECTION_SHEETS: tuple[str, ...] = (
    "1 Description",
    "2 Diagrams",
    "3 Technical details",
    "4 Step by step analysis",
    "5 Information exchanged",
    "6 Requirements",
    "7 Common terms",
    "8 Custom information",
)
"""The template's eight sections, one sheet each, in the standard's order."""

MAPPING_SHEET = "SGAM mapping"
"""Sheet after the eight sections with the model fields the template has no column for."""

PLACEHOLDERS: Mapping[str, Mapping[str, Any]] = {
    "actors": {
        "role": "commercial_party",
        "domain": "distribution",
        "zone": "operation",
        "multiplicity": "one",
    },
    "information_objects": {"payload_bytes": 0},
}
"""Values given to the SGAM fields of an actor or information object a foreign template creates.

The template says nothing of an actor's SGAM placement or economic role, nor of a message's size; every use
is reported as a note by :func:`import_use_case`. Multiplicity ``one`` is an endpoint count of 1 that the
import adds to the model when missing."""

_ONE = EndpointCount(
    id="one",
    count=1,
    description="One instance (placeholder of an IEC 62559-2 template import).",
    source="assumption (IEC 62559-2 template import: no count given)",
)

_CATEGORY_TEXT: Mapping[RequirementCategory, tuple[str, str]] = {
    RequirementCategory.PERFORMANCE: ("Performance", "Latency, data rate and timing of the exchanges."),
    RequirementCategory.AVAILABILITY: ("Availability", "Availability of the communication and systems."),
    RequirementCategory.SECURITY: ("Security", "Confidentiality, integrity and authentication."),
    RequirementCategory.DATA_MANAGEMENT: ("Data management", "Volume, storage and quality of the data."),
    RequirementCategory.OTHER: ("Other", "Requirements of no other category."),
}

# ---- headings and column headers, as in the standard's template
H1 = "1 Description of the use case"
H11, H12, H13, H14 = (
    "1.1 Name of use case",
    "1.2 Version management",
    "1.3 Scope and objectives of use case",
    "1.4 Narrative of use case",
)
H15, H16, H17, H18 = (
    "1.5 Key performance indicators (KPI)",
    "1.6 Use case conditions",
    "1.7 Further information to the use case for classification / mapping",
    "1.8 General remarks",
)
H2 = "2 Diagrams of use case"
H3, H31, H32 = "3 Technical details", "3.1 Actors", "3.2 References"
H4, H41, H42 = "4 Step by step analysis of use case", "4.1 Overview of scenarios", "4.2 Steps – scenarios"
H5 = "5 Information exchanged"
H6 = "6 Requirements"
H7 = "7 Common terms and definitions"
H8 = "8 Custom information"

COLS_11 = ("ID", "Area / Domain(s) / Zone(s)", "Name of use case")
COLS_12 = ("Version No.", "Date", "Name of author(s)", "Changes", "Approval status")
COLS_15 = ("ID", "Name", "Description", "Reference to mentioned use case objectives")
COLS_16 = ("Assumptions", "Prerequisites")
COLS_2 = ("Diagram", "Description", "File or link")
COLS_31 = ("Actor name", "Actor type", "Actor description", "Further information specific to this use case")
COLS_32 = (
    "No.",
    "References type",
    "Reference",
    "Status",
    "Impact on use case",
    "Originator / organisation",
    "Link",
)
COLS_41 = (
    "No.",
    "Scenario name",
    "Scenario description",
    "Primary actor",
    "Triggering event",
    "Pre-condition",
    "Post-condition",
)
COLS_42 = (
    "Step No.",
    "Event",
    "Name of process / activity",
    "Description of process / activity",
    "Service",
    "Information producer (actor)",
    "Information receiver (actor)",
    "Information exchanged (IDs)",
    "Requirement, R-IDs",
)
COLS_5 = (
    "Information exchanged, ID",
    "Name of information",
    "Description of information exchanged",
    "Requirement, R-IDs",
)
COLS_6_CAT = ("Categories ID", "Category name for requirements", "Category description")
COLS_6_REQ = ("Requirement R-ID", "Requirement name", "Requirement description")
COLS_7 = ("Term", "Definition")
COLS_8 = ("Key", "Value", "Refers to section")
COLS_MAP = ("Section", "Row", "Field", "Value")
SCENARIO_LABEL = "Scenario name:"
INFO_SECTION = "3.1 further information"
"""Mapping-sheet section of the use-case specific actor rows (``use_case_actors``)."""

LABELS_13 = {
    "Scope": "scope_and_objectives",
    "Objective(s)": "objectives",
    "Related business case(s)": "related_business_cases",
}
LABELS_14 = {"Short description": "narrative", "Complete description": "complete_description"}
LABELS_17 = {
    "Relation to other use cases": "relation_to_other_use_cases",
    "Level of depth": "level_of_depth",
    "Prioritisation": "prioritisation",
    "Generic, regional or national relation": "generic_regional_national",
    "Nature of the use case": "nature",
    "Further keywords for classification": "keywords",
}
LABELS_18 = {"General remarks": "general_remarks"}

#: per-use-case lists without an id column: (list name, id prefix)
_POSITIONAL: tuple[tuple[str, str], ...] = (
    ("use_case_versions", "V"),
    ("use_case_conditions", "C"),
    ("use_case_diagrams", "D"),
    ("use_case_references", "R"),
    ("terms", "T"),
    ("custom_information", "X"),
)


_POSITIONAL_CLASSES: Mapping[str, type[BaseModel]] = {
    "use_case_versions": UseCaseVersion,
    "use_case_conditions": UseCaseCondition,
    "use_case_diagrams": UseCaseDiagram,
    "use_case_references": UseCaseReference,
    "terms": Term,
    "custom_information": CustomInformation,
}


# ------------------------------------------------------------------------------------------------
# Small helpers
# ------------------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    """A cell value as text: empty for none, whole floats without '.0' (Excel stores numbers as floats)."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value).strip()


def _key(text: Any) -> str:
    """Header text normalised for comparison (case, spaces, punctuation and dashes ignored)."""
    return re.sub(r"[^a-z0-9]", "", _text(text).lower())


def _tk(cols: Sequence[str]) -> str:
    """Key of a table: its first two column headers, normalised (1.1 and 1.5 both start with 'ID')."""
    return "|".join(_key(c) for c in cols[:2])


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _scenario_no(scenario_id: str, use_case_id: str) -> str:
    """The number shown for a scenario: ``n`` for the id ``<use case>-n``, else the id itself."""
    rest = scenario_id.removeprefix(use_case_id + "-")
    return rest if rest != scenario_id and rest.isdigit() else scenario_id


def _scenario_id(no: str, use_case_id: str) -> str:
    return f"{use_case_id}-{no}" if no.isdigit() else no


def _step_id(scenario_id: str, step_no: int) -> str:
    return f"{scenario_id}-{step_no:02d}"


def _default(model_type: type[BaseModel], name: str) -> Any:
    info = model_type.model_fields[name]
    return info.get_default(call_default_factory=True) if not info.is_required() else _REQUIRED


_REQUIRED = object()


@dataclass
class _Mapped:
    """One exported object: where its row is, and the fields its row does not show."""

    section: str
    row: str
    obj: BaseModel
    shown: frozenset[str]
    implied: Mapping[str, Any] = field(default_factory=dict)


def _mapping_rows(items: Iterable[_Mapped]) -> Rows:
    """The mapping sheet's rows: every field neither shown nor implied that differs from its default."""
    rows: Rows = []
    for m in items:
        cls = type(m.obj)
        for name in cls.model_fields:
            if name in m.shown:
                continue
            value = getattr(m.obj, name)
            expected = m.implied.get(name, _default(cls, name))
            if expected is not _REQUIRED and value == expected:
                continue
            rows.append([m.section, m.row, name, _text(value)])
    return rows


# ------------------------------------------------------------------------------------------------
# Export
# ------------------------------------------------------------------------------------------------
def _ordered_unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)


def _actor_labels(model: SgamModel, actor_ids: Sequence[str]) -> dict[str, str]:
    """The name shown for each actor: its name when that names no other actor, else its id."""
    actors = model.index("actors")
    names = [actors[a].name or a for a in actor_ids]
    labels: dict[str, str] = {}
    for a, name in zip(actor_ids, names, strict=True):
        clash = names.count(name) > 1 or (name != a and name in actors)
        labels[a] = a if clash else name
    return labels


def template_rows(model: SgamModel, use_case_id: str) -> dict[str, Rows]:
    """The cells of every sheet of the template of use case ``use_case_id`` (sheet name -> rows).

    Raises :class:`SgamValidationError` if the model has no such use case.
    """
    try:
        uc: UseCase = model.get("use_cases", use_case_id)
    except KeyError:
        known = ", ".join(model.index("use_cases")) or "none"
        raise SgamValidationError(
            f"no use case '{use_case_id}' in the SGAM model (use cases: {known})"
        ) from None
    uid = uc.id

    def parts(kind: str) -> list[Any]:
        return [p for p in getattr(model, kind) if p.use_case_id == uid]

    scenarios: list[UseCaseScenario] = [s for s in model.scenarios if s.use_case_id == uid]
    scen_ids = {s.id for s in scenarios}
    steps: list[UseCaseStep] = sorted(
        (st for st in model.steps if st.scenario_id in scen_ids), key=lambda st: st.step_no
    )
    actor_info: list[UseCaseActorInfo] = parts("use_case_actors")
    actor_ids = _ordered_unique(
        [
            *uc.actor_ids,
            *(s.primary_actor_id for s in scenarios),
            *(a for st in steps for a in (st.producer_id, st.receiver_id)),
            *(i.actor_id for i in actor_info),
        ]
    )
    io_ids = _ordered_unique(i for st in steps for i in st.information_object_ids)
    ios = model.index("information_objects")
    req_ids = _ordered_unique(
        [
            *uc.requirement_ids,
            *(r for st in steps for r in st.requirement_ids),
            *(r for i in io_ids for r in ios[i].requirement_ids),
        ]
    )
    labels = _actor_labels(model, actor_ids)
    actors = model.index("actors")
    reqs = model.index("requirements")
    mapped: list[_Mapped] = []
    uc_shown = frozenset(
        {"id", "name", "domain", *LABELS_13.values(), *LABELS_14.values(), *LABELS_17.values()}
        | set(LABELS_18.values())
    )
    by_category = [r for cat in RequirementCategory for r in req_ids if reqs[r].category == cat]
    mapped.append(_Mapped("1.1", uid, uc, uc_shown, {"actor_ids": actor_ids, "requirement_ids": by_category}))

    def positional(kind: str, section: str, shown: Iterable[str]) -> list[Any]:
        items = parts(kind)
        prefix = dict(_POSITIONAL)[kind]
        for n, item in enumerate(items, start=1):
            implied = {"id": f"{uid}-{prefix}{n}", "use_case_id": uid}
            mapped.append(_Mapped(section, str(n), item, frozenset(shown), implied))
        return items

    # ---- 1 Description
    s1: Rows = [[H1], [H11], list(COLS_11), [uid, uc.domain, uc.name], [], [H12], list(COLS_12)]
    for v in positional(
        "use_case_versions", "1.2", ("version_no", "date", "authors", "changes", "approval_status")
    ):
        s1.append([v.version_no, v.date, v.authors, v.changes, v.approval_status])
    s1 += [[], [H13], *([label, getattr(uc, f)] for label, f in LABELS_13.items())]
    s1 += [[], [H14], *([label, getattr(uc, f)] for label, f in LABELS_14.items())]
    s1 += [[], [H15], list(COLS_15)]
    for k in parts("kpis"):
        mapped.append(
            _Mapped(
                "1.5",
                k.id,
                k,
                frozenset({"id", "name", "description", "objectives_reference"}),
                {"use_case_id": uid},
            )
        )
        s1.append([k.id, k.name, k.description, k.objectives_reference])
    s1 += [[], [H16], list(COLS_16)]
    for c in positional("use_case_conditions", "1.6", ("assumption", "prerequisite")):
        s1.append([c.assumption, c.prerequisite])
    s1 += [[], [H17], *([label, getattr(uc, f)] for label, f in LABELS_17.items())]
    s1 += [[], [H18], *([label, getattr(uc, f)] for label, f in LABELS_18.items())]

    # ---- 2 Diagrams
    s2: Rows = [[H2], list(COLS_2)]
    for d in positional("use_case_diagrams", "2", ("title", "description", "file")):
        s2.append([d.title, d.description, d.file])

    # ---- 3 Technical details
    s3: Rows = [[H3], [H31], list(COLS_31)]
    further = {i.actor_id: i for i in actor_info}
    for a in actor_ids:
        actor: Actor = actors[a]
        mapped.append(
            _Mapped(
                "3.1", labels[a], actor, frozenset({"name", "actor_type", "description"}), {"id": labels[a]}
            )
        )
        info = further.get(a)
        if info is not None:
            mapped.append(
                _Mapped(
                    INFO_SECTION,
                    labels[a],
                    info,
                    frozenset({"actor_id", "further_information"}),
                    {"id": f"{uid}-A-{a}", "use_case_id": uid},
                )
            )
        s3.append([labels[a], actor.actor_type, actor.description, info.further_information if info else ""])
    s3 += [[], [H32], list(COLS_32)]
    ref_fields = ("reference_no", "reference_type", "reference", "status", "impact", "originator", "link")
    for r in positional("use_case_references", "3.2", ref_fields):
        s3.append([getattr(r, f) for f in ref_fields])

    # ---- 4 Step by step analysis
    s4: Rows = [[H4], [H41], list(COLS_41)]
    for s in scenarios:
        no = _scenario_no(s.id, uid)
        shown = frozenset(
            {"name", "description", "primary_actor_id", "triggering_event", "pre_condition", "post_condition"}
        )
        mapped.append(_Mapped("4.1", no, s, shown, {"id": _scenario_id(no, uid), "use_case_id": uid}))
        s4.append(
            [
                no,
                s.name,
                s.description,
                labels[s.primary_actor_id],
                s.triggering_event,
                s.pre_condition,
                s.post_condition,
            ]
        )
    s4 += [[], [H42]]
    step_shown = frozenset(
        {
            "step_no",
            "event",
            "name",
            "description",
            "service",
            "producer_id",
            "receiver_id",
            "information_object_ids",
            "requirement_ids",
        }
    )
    for s in scenarios:
        no = _scenario_no(s.id, uid)
        s4 += [[SCENARIO_LABEL, f"No. {no} - {s.name}"], list(COLS_42)]
        for st in (st for st in steps if st.scenario_id == s.id):
            implied = {"id": _step_id(s.id, st.step_no), "scenario_id": s.id}
            mapped.append(_Mapped("4.2", f"{no}/{st.step_no}", st, step_shown, implied))
            s4.append(
                [
                    st.step_no,
                    st.event,
                    st.name,
                    st.description,
                    st.service,
                    labels[st.producer_id],
                    labels[st.receiver_id],
                    st.information_object_ids,
                    st.requirement_ids,
                ]
            )
        s4.append([])

    # ---- 5 Information exchanged
    s5: Rows = [[H5], list(COLS_5)]
    for i in io_ids:
        io: InformationObject = ios[i]
        mapped.append(_Mapped("5", i, io, frozenset({"id", "name", "description", "requirement_ids"})))
        s5.append([io.id, io.name, io.description, io.requirement_ids])

    # ---- 6 Requirements, grouped by category in the enumeration's order
    s6: Rows = [[H6]]
    for cat in RequirementCategory:
        group = [reqs[r] for r in req_ids if reqs[r].category == cat]
        if not group:
            continue
        name, text = _CATEGORY_TEXT[cat]
        s6 += [list(COLS_6_CAT), [cat, name, text], list(COLS_6_REQ)]
        for r in group:
            mapped.append(_Mapped("6", r.id, r, frozenset({"id", "name", "description", "category"})))
            s6.append([r.id, r.name, r.description])
        s6.append([])

    # ---- 7, 8
    s7: Rows = [[H7], list(COLS_7)]
    for t in positional("terms", "7", ("term", "definition")):
        s7.append([t.term, t.definition])
    s8: Rows = [[H8], list(COLS_8)]
    for x in positional("custom_information", "8", ("key", "value", "refers_to_section")):
        s8.append([x.key, x.value, x.refers_to_section])

    smap: Rows = [
        ["SGAM/ICT model fields the IEC 62559-2 template has no column for (read back by the import)"],
        list(COLS_MAP),
        *_mapping_rows(mapped),
    ]
    sheets = dict(zip(SECTION_SHEETS, (s1, s2, s3, s4, s5, s6, s7, s8), strict=True))
    sheets[MAPPING_SHEET] = smap
    return {name: [[_text(c) for c in row] for row in rows] for name, rows in sheets.items()}


_HEADING = re.compile(r"^\d+(\.\d+)*\.?\s+\S")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_FILL = PatternFill("solid", fgColor="DDEBF7")


def export_use_case(model: SgamModel, use_case_id: str, path: str | Path) -> Path:
    """Write use case ``use_case_id`` of ``model`` as an IEC 62559-2 template workbook (atomic); return it."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise SgamValidationError(f"{path}: the workbook must have the extension .xlsx")
    sheets = template_rows(model, use_case_id)
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=value or None)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula stays text
            head = row[0] if row else ""
            if len(row) == 1 and _HEADING.match(head):
                ws.cell(row=r, column=1).font = _TITLE if "." not in head.split()[0] else _BOLD
            elif len(row) > 1 and _is_header(row):
                for c in range(1, len(row) + 1):
                    ws.cell(row=r, column=c).font = _BOLD
                    ws.cell(row=r, column=c).fill = _FILL
            elif row and (
                head in LABELS_13
                or head in LABELS_14
                or head in LABELS_17
                or head in LABELS_18
                or head == SCENARIO_LABEL
            ):
                ws.cell(row=r, column=1).font = _BOLD
        for col, width in zip("ABCDEFGHI", (26, 30, 40, 30, 24, 24, 24, 24, 20), strict=True):
            ws.column_dimensions[col].width = width
    return atomic_save(path, wb.save)


def _is_header(row: Sequence[str]) -> bool:
    keys = [_key(c) for c in row if c]
    return any(keys == [_key(h) for h in cols[: len(keys)]] and len(keys) == len(cols) for cols in _ALL_COLS)


_ALL_COLS = (
    COLS_11,
    COLS_12,
    COLS_15,
    COLS_16,
    COLS_2,
    COLS_31,
    COLS_32,
    COLS_41,
    COLS_42,
    COLS_5,
    COLS_6_CAT,
    COLS_6_REQ,
    COLS_7,
    COLS_8,
    COLS_MAP,
)


# ------------------------------------------------------------------------------------------------
# Import
# ------------------------------------------------------------------------------------------------
def read_sheets(path: str | Path) -> dict[str, Rows]:
    """Every sheet of a workbook as rows of cell text (trailing empty cells dropped), for import and tests."""
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise SgamImportError(f"{path}: cannot read the workbook: {short(exc)}") from exc
    out: dict[str, Rows] = {}
    for ws in wb.worksheets:
        rows: Rows = []
        for values in ws.iter_rows(values_only=True):
            row = [_text(v) for v in values]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        out[ws.title] = rows
    wb.close()
    return out


@dataclass
class _Row:
    """A data row of a table: its cells by column header key, and where it is."""

    cells: dict[str, str]
    sheet: str
    line: int
    scenario: str = ""
    category: str = ""


def _tables(sheet: str, rows: Rows) -> tuple[dict[str, list[_Row]], dict[str, tuple[str, int]]]:
    """Split a section sheet into its tables (first header key -> data rows) and its label rows.

    A heading row ('1.5 Key performance ...') or an empty row ends a table; a row whose cells are one of
    the template's header rows starts one; the label rows of 1.3, 1.4, 1.7 and 1.8 are 'label | value'.
    """
    tables: dict[str, list[_Row]] = {}
    labels: dict[str, tuple[str, int]] = {}
    header: list[str] | None = None
    scenario = category = ""
    label_keys = {_key(k) for k in (*LABELS_13, *LABELS_14, *LABELS_17, *LABELS_18)}
    for line, row in enumerate(rows, start=1):
        first = row[0] if row else ""
        if not any(row) or (len(row) == 1 and _HEADING.match(first)):
            header = None
            continue
        if _key(first) == _key(SCENARIO_LABEL):
            m = re.match(r"^No\.?\s*(\S+)\s*-", row[1] if len(row) > 1 else "")
            scenario = m.group(1) if m else (row[1] if len(row) > 1 else "")
            header = None
            continue
        if _is_header(row):
            header = [_key(c) for c in row]
            continue
        if header is None and _key(first) in label_keys:
            labels[_key(first)] = (row[1] if len(row) > 1 else "", line)
            continue
        if header is None:
            raise SgamImportError(
                f"sheet '{sheet}', row {line}: '{short(first)}' is neither a heading, a table header of "
                "the IEC 62559-2 template nor a row of a table"
            )
        cells = {h: (row[i] if i < len(row) else "") for i, h in enumerate(header)}
        if header[0] == _key(COLS_6_CAT[0]):
            category = cells[header[0]]
        tables.setdefault("|".join(header[:2]), []).append(_Row(cells, sheet, line, scenario, category))
    return tables, labels


def _placeholder_note(what: str, item_id: str, used: Mapping[str, Any], row: _Row) -> str:
    values = ", ".join(f"{k} = {v}" for k, v in used.items())
    return (
        f"{what} '{item_id}' (sheet '{row.sheet}', row {row.line}) is new: the template does not give its "
        f"{', '.join(used)}; placeholders {values} set, review them"
    )


def _replace(
    items: list[dict[str, Any]], new: list[dict[str, Any]], old: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """``items`` with the ``old`` ones replaced by ``new``: an old item whose id a new one has is replaced in
    place, other old ones are dropped, other new ones come at the end, so that re-importing an exported use
    case leaves the model's lists in their order (the library interleaves scenarios of several files)."""
    fresh = {item["id"]: item for item in new}
    out: list[dict[str, Any]] = []
    for item in items:
        if not old(item):
            out.append(item)
        elif item["id"] in fresh:
            out.append(fresh.pop(item["id"]))
    return out + list(fresh.values())


def _col(row: _Row, header: str) -> str:
    return row.cells.get(_key(header), "")


def import_use_case(path: str | Path, into: SgamModel | None = None) -> tuple[SgamModel, list[str]]:
    """Read a use case written in the IEC 62559-2 template (by :func:`export_use_case` or by hand).

    The use case, its scenarios, steps and per-use-case rows replace those of the same id in ``into``
    (default: an empty model); actors, information objects and requirements of the template update the
    template's fields of existing objects of the same id and are added otherwise. Returns the validated
    model and the notes on placeholders used (:data:`PLACEHOLDERS`).

    Raises :class:`SgamImportError` naming the sheet and row of every problem.
    """
    path = Path(path)
    sheets = read_sheets(path)
    missing = [s for s in SECTION_SHEETS if s not in sheets]
    if missing:
        raise SgamImportError(
            f"{path.name}: sheet '{missing[0]}' is missing (an IEC 62559-2 template has the sheets "
            f"{', '.join(SECTION_SHEETS)})"
        )
    try:
        return _import(path, sheets, into or SgamModel())
    except SgamImportError as exc:
        if str(exc).startswith(path.name):
            raise
        raise SgamImportError(f"{path.name}: {exc}") from None


def _import(path: Path, sheets: Mapping[str, Rows], base: SgamModel) -> tuple[SgamModel, list[str]]:
    parsed = {name: _tables(name, sheets[name]) for name in SECTION_SHEETS}
    t1, labels1 = parsed[SECTION_SHEETS[0]]
    names = t1.get(_tk(COLS_11), [])
    if len(names) != 1:
        raise SgamImportError(
            f"sheet '{SECTION_SHEETS[0]}': table {H11} needs exactly one row, found {len(names)}"
        )
    row11 = names[0]
    uid = _col(row11, COLS_11[0])
    if not uid:
        raise SgamImportError(f"sheet '{SECTION_SHEETS[0]}', row {row11.line}: the use case has no ID")
    where: dict[tuple[str, str], tuple[str, int]] = {("use_cases", uid): (row11.sheet, row11.line)}
    mapping: dict[tuple[str, str], dict[str, str]] = {}
    for cells in sheets.get(MAPPING_SHEET, [])[2:]:
        if len(cells) >= 3 and cells[2]:
            mapping.setdefault((cells[0], cells[1]), {})[cells[2]] = cells[3] if len(cells) > 3 else ""

    def overlay(section: str, key: str, raw: dict[str, Any], cls: type[BaseModel]) -> dict[str, Any]:
        for name, value in mapping.get((section, key), {}).items():
            if name not in cls.model_fields:
                raise SgamImportError(
                    f"sheet '{MAPPING_SHEET}': section {section} row '{key}': unknown field '{name}'"
                )
            ann = cls.model_fields[name].annotation
            is_list = getattr(ann, "__origin__", None) is list
            if is_list:
                raw[name] = _ids(value)
            elif value == "" and not cls.model_fields[name].is_required():
                raw[name] = _default(cls, name)
            else:
                raw[name] = value
        return raw

    # ---- 1 Description
    uc_raw: dict[str, Any] = {"id": uid, "domain": _col(row11, COLS_11[1]), "name": _col(row11, COLS_11[2])}
    for table in (LABELS_13, LABELS_14, LABELS_17, LABELS_18):
        for label, fname in table.items():
            uc_raw[fname] = labels1.get(_key(label), ("", 0))[0]
    parts: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in _POSITIONAL}
    parts["kpis"] = []
    parts["use_case_actors"] = []

    def add_positional(kind: str, section: str, rows: list[_Row], values: Mapping[str, str]) -> None:
        prefix = dict(_POSITIONAL)[kind]
        cls = _POSITIONAL_CLASSES[kind]
        for n, row in enumerate(rows, start=1):
            raw: dict[str, Any] = {"id": f"{uid}-{prefix}{n}", "use_case_id": uid}
            raw.update({f: _col(row, h) for h, f in values.items()})
            raw = overlay(section, str(n), raw, cls)
            where[(kind, raw["id"])] = (row.sheet, row.line)
            parts[kind].append(raw)

    add_positional(
        "use_case_versions",
        "1.2",
        t1.get(_tk(COLS_12), []),
        dict(zip(COLS_12, ("version_no", "date", "authors", "changes", "approval_status"), strict=True)),
    )
    for row in t1.get(_tk(COLS_15), []):
        kid = _col(row, COLS_15[0])
        raw: dict[str, Any] = {
            "id": kid,
            "use_case_id": uid,
            "name": _col(row, COLS_15[1]),
            "description": _col(row, COLS_15[2]),
            "objectives_reference": _col(row, COLS_15[3]),
        }
        where[("kpis", kid)] = (row.sheet, row.line)
        parts["kpis"].append(overlay("1.5", kid, raw, UseCaseKpi))
    add_positional(
        "use_case_conditions",
        "1.6",
        t1.get(_tk(COLS_16), []),
        dict(zip(COLS_16, ("assumption", "prerequisite"), strict=True)),
    )
    t2, _ = parsed[SECTION_SHEETS[1]]
    add_positional(
        "use_case_diagrams",
        "2",
        t2.get(_tk(COLS_2), []),
        dict(zip(COLS_2, ("title", "description", "file"), strict=True)),
    )

    # ---- 3 Technical details: actors resolved by label, then model id, then model name
    t3, _ = parsed[SECTION_SHEETS[2]]
    base_actors = base.index("actors")
    by_name = {a.name: a.id for a in base.actors if a.name}
    actor_of: dict[str, str] = {}
    actor_raw: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for row in t3.get(_tk(COLS_31), []):
        label = _col(row, COLS_31[0])
        mapped_id = mapping.get(("3.1", label), {}).get("id")
        aid = mapped_id or (label if label in base_actors else by_name.get(label, label))
        actor_of[label] = aid
        raw = base_actors[aid].model_dump() if aid in base_actors else {"id": aid}
        raw.update(
            {
                "name": label if label != aid else raw.get("name", ""),
                "actor_type": _col(row, COLS_31[1]) or "system",
                "description": _col(row, COLS_31[2]),
            }
        )
        if aid in base_actors and not raw["name"]:
            raw["name"] = base_actors[aid].name
        raw = overlay("3.1", label, raw, Actor)
        if aid not in base_actors:
            used = {f: v for f, v in PLACEHOLDERS["actors"].items() if f not in raw}
            raw.update(used)
            if used:
                notes.append(_placeholder_note("actor", aid, used, row))
        where[("actors", aid)] = (row.sheet, row.line)
        actor_raw[aid] = raw
        further = _col(row, COLS_31[3])
        if further or (INFO_SECTION, label) in mapping:
            info = {
                "id": f"{uid}-A-{aid}",
                "use_case_id": uid,
                "actor_id": aid,
                "further_information": further,
            }
            info = overlay(INFO_SECTION, label, info, UseCaseActorInfo)
            where[("use_case_actors", info["id"])] = (row.sheet, row.line)
            parts["use_case_actors"].append(info)
    add_positional(
        "use_case_references",
        "3.2",
        t3.get(_tk(COLS_32), []),
        dict(
            zip(
                COLS_32,
                ("reference_no", "reference_type", "reference", "status", "impact", "originator", "link"),
                strict=True,
            )
        ),
    )

    def actor_id(label: str, row: _Row, column: str) -> str:
        if label in actor_of:
            return actor_of[label]
        if label in base_actors:
            return label
        if label in by_name:
            return by_name[label]
        raise SgamImportError(
            f"sheet '{row.sheet}', row {row.line} ({column}): actor '{label}' is not in table {H31}"
        )

    # ---- 4 Step by step analysis
    t4, _ = parsed[SECTION_SHEETS[3]]
    scen_raw: list[dict[str, Any]] = []
    scen_of: dict[str, str] = {}
    for row in t4.get(_tk(COLS_41), []):
        no = _col(row, COLS_41[0])
        raw = {
            "id": _scenario_id(no, uid),
            "use_case_id": uid,
            "name": _col(row, COLS_41[1]),
            "description": _col(row, COLS_41[2]),
            "primary_actor_id": actor_id(_col(row, COLS_41[3]), row, COLS_41[3]),
            "triggering_event": _col(row, COLS_41[4]),
            "pre_condition": _col(row, COLS_41[5]),
            "post_condition": _col(row, COLS_41[6]),
        }
        raw = overlay("4.1", no, raw, UseCaseScenario)
        scen_of[no] = raw["id"]
        where[("scenarios", raw["id"])] = (row.sheet, row.line)
        scen_raw.append(raw)
    step_raw: list[dict[str, Any]] = []
    for row in t4.get(_tk(COLS_42), []):
        if row.scenario not in scen_of:
            raise SgamImportError(
                f"sheet '{row.sheet}', row {row.line}: steps of scenario '{row.scenario}', "
                f"which is not in {H41}"
            )
        sid = scen_of[row.scenario]
        no_text = _col(row, COLS_42[0])
        if not no_text.isdigit():
            raise SgamImportError(
                f"sheet '{row.sheet}', row {row.line} (Step No.): '{no_text}' is not a whole number"
            )
        raw = {
            "id": _step_id(sid, int(no_text)),
            "scenario_id": sid,
            "step_no": int(no_text),
            "event": _col(row, COLS_42[1]),
            "name": _col(row, COLS_42[2]),
            "description": _col(row, COLS_42[3]),
            "service": _col(row, COLS_42[4]).upper(),
            "producer_id": actor_id(_col(row, COLS_42[5]), row, COLS_42[5]),
            "receiver_id": actor_id(_col(row, COLS_42[6]), row, COLS_42[6]),
            "information_object_ids": _ids(_col(row, COLS_42[7])),
            "requirement_ids": _ids(_col(row, COLS_42[8])),
        }
        raw = overlay("4.2", f"{row.scenario}/{no_text}", raw, UseCaseStep)
        where[("steps", raw["id"])] = (row.sheet, row.line)
        step_raw.append(raw)

    # ---- 5 Information exchanged
    t5, _ = parsed[SECTION_SHEETS[4]]
    base_ios = base.index("information_objects")
    io_raw: dict[str, dict[str, Any]] = {}
    for row in t5.get(_tk(COLS_5), []):
        iid = _col(row, COLS_5[0])
        raw = base_ios[iid].model_dump() if iid in base_ios else {"id": iid}
        raw.update(
            {
                "name": _col(row, COLS_5[1]),
                "description": _col(row, COLS_5[2]),
                "requirement_ids": _ids(_col(row, COLS_5[3])),
            }
        )
        raw = overlay("5", iid, raw, InformationObject)
        if iid not in base_ios:
            used = {f: v for f, v in PLACEHOLDERS["information_objects"].items() if f not in raw}
            raw.update(used)
            if used:
                notes.append(_placeholder_note("information object", iid, used, row))
        where[("information_objects", iid)] = (row.sheet, row.line)
        io_raw[iid] = raw

    # ---- 6 Requirements
    t6, _ = parsed[SECTION_SHEETS[5]]
    base_reqs = base.index("requirements")
    req_raw: dict[str, dict[str, Any]] = {}
    by_cat_name = {_key(n): c for c, (n, _) in _CATEGORY_TEXT.items()}
    for row in t6.get(_tk(COLS_6_REQ), []):
        rid = _col(row, COLS_6_REQ[0])
        cat = row.category
        category = by_cat_name.get(_key(cat), cat or RequirementCategory.OTHER.value)
        raw = base_reqs[rid].model_dump() if rid in base_reqs else {"id": rid}
        raw.update(
            {"name": _col(row, COLS_6_REQ[1]), "description": _col(row, COLS_6_REQ[2]), "category": category}
        )
        raw = overlay("6", rid, raw, Requirement)
        where[("requirements", rid)] = (row.sheet, row.line)
        req_raw[rid] = raw

    # ---- 7, 8
    t7, _ = parsed[SECTION_SHEETS[6]]
    add_positional(
        "terms", "7", t7.get(_tk(COLS_7), []), dict(zip(COLS_7, ("term", "definition"), strict=True))
    )
    t8, _ = parsed[SECTION_SHEETS[7]]
    add_positional(
        "custom_information",
        "8",
        t8.get(_tk(COLS_8), []),
        dict(zip(COLS_8, ("key", "value", "refers_to_section"), strict=True)),
    )

    uc_raw["actor_ids"] = list(actor_raw)
    uc_raw["requirement_ids"] = list(req_raw)
    uc_raw = overlay("1.1", uid, uc_raw, UseCase)

    # ---- merge into the base model
    data = base.model_dump()
    old_scen = {s.id for s in base.scenarios if s.use_case_id == uid}
    data["use_cases"] = _replace(data["use_cases"], [uc_raw], lambda u: u["id"] == uid)
    data["scenarios"] = _replace(data["scenarios"], scen_raw, lambda s: s["use_case_id"] == uid)
    data["steps"] = _replace(data["steps"], step_raw, lambda s: s["scenario_id"] in old_scen)
    for kind, rows in parts.items():
        data[kind] = _replace(data[kind], rows, lambda p: p["use_case_id"] == uid)
    for kind, objs in (("actors", actor_raw), ("information_objects", io_raw), ("requirements", req_raw)):
        data[kind] = [objs.pop(o["id"], o) for o in data[kind]] + list(objs.values())
    if any(a.get("multiplicity") == _ONE.id for a in data["actors"]) and _ONE.id not in base.index(
        "endpoint_counts"
    ):
        data["endpoint_counts"].append(_ONE.model_dump())
    try:
        return SgamModel.model_validate(data), notes
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [str(x) for x in err["loc"]]
            at = where.get((loc[0], loc[1])) if len(loc) >= 2 else None
            place = f"sheet '{at[0]}', row {at[1]}" if at else "template"
            what = f"{loc[0]} '{loc[1]}'" if len(loc) >= 2 else ".".join(loc)
            fld = f" {'.'.join(loc[2:])}" if len(loc) > 2 else ""
            problems.append(f"{place}: {what}{fld}: {err['msg']}")
        raise SgamImportError(f"{path.name}: " + "; ".join(problems)) from None
