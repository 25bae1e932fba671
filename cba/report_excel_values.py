"""Cached values for the report's formula cells, so readers that do not recalculate see the figures.

openpyxl writes a formula cell as ``<c><f>formula</f><v></v></c>``: the formula without its value.
Excel and LibreOffice recalculate on opening (``fullCalcOnLoad``), but ``pandas.read_excel``, openpyxl
with ``data_only=True``, viewers and indexers read the empty ``<v>`` and show NaN. This module

1. evaluates every formula of the built workbook (:func:`evaluate_workbook`), with a small Excel formula
   interpreter (a regular-expression tokenizer and a precedence-climbing parser), and
2. writes each value into the saved file's ``<v>`` element, with its type (``t="str"``, ``"b"``,
   ``"e"``) (:func:`with_cached_values`).

The formulas stay: a spreadsheet program still recalculates them on opening, and the tests check that
LibreOffice's recalculation equals these cached values (1e-6 relative).

Why an interpreter here rather than a library: the report uses 17 functions (``SUM MIN MAX COUNT SUMIF
SUMPRODUCT INDEX MATCH IF IFERROR AND ISNUMBER ABS INT NPV IRR RANK``) and the ``:`` reference operator
between two ``INDEX`` calls. The general-purpose evaluator ``formulas`` (schedula-based) compiles a
dependency graph of the whole workbook, which takes seconds for the ~4,000 formula cells of a report,
brings half a dozen dependencies, and would still need this module's step 2 (it writes its own
workbook, without the report's styles, charts and validations). Evaluating the cells directly takes
a fraction of a second for the default study's report. A formula using a function not listed is left
without a cached value when the report is written (the run goes on; the tests, which require a value in
every formula cell, tell a writer who adds one), and raises :class:`UnsupportedFormula` with
``strict=True``. The interpreter follows
Excel's rules for the parts it implements (empty cell = 0 or "", text compares greater than numbers,
case-insensitive text equality, ``-2^2 = 4``, and IRR's 20 Newton steps to 1e-7 as LibreOffice and
Excel take them).

LibreOffice opening an ``.xlsx`` keeps the cached values by default (Tools > Options > Calc > Formula,
"Recalculation on file load": never) and recalculates a cell when an input it depends on is edited;
Excel honours ``fullCalcOnLoad``. So the cached values must be right: the tests compare them with
LibreOffice's recalculation of the same formulas stripped of their values.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl.utils import column_index_from_string
from openpyxl.workbook import Workbook

__all__ = ["UnsupportedFormula", "evaluate_workbook", "with_cached_values"]


class UnsupportedFormula(ValueError):
    """A formula the interpreter does not implement (names the sheet, cell and formula)."""


class XlError(Exception):
    """An Excel error value (``#DIV/0!``, ``#N/A``, ``#VALUE!``, ``#NUM!``, ``#REF!``) being propagated."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Ref:
    """A rectangular reference: sheet, first and last row and column (1-based, inclusive)."""

    sheet: str
    r0: int
    c0: int
    r1: int
    c1: int

    def cells(self) -> Iterator[tuple[int, int]]:
        for r in range(self.r0, self.r1 + 1):
            for c in range(self.c0, self.c1 + 1):
                yield r, c


Node = tuple[Any, ...]
_CELL = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)$")
_BINARY_POWER = {":": 80, "^": 50, "*": 40, "/": 40, "+": 30, "-": 30, "&": 20,
                 "=": 10, "<>": 10, "<": 10, ">": 10, "<=": 10, ">=": 10}
_PREFIX_POWER = 60  # Excel: negation binds tighter than ^ (-2^2 = 4)
_POSTFIX_POWER = 55


# -------------------------------------------------------------------------------------------- parser


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"]|"")*")
     |(?P<func>[A-Za-z_][A-Za-z0-9_.]*)\(
     |(?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?\$?[A-Za-z]{1,3}\$?[0-9]+(?::\$?[A-Za-z]{1,3}\$?[0-9]+)?)
     |(?P<bool>TRUE|FALSE)\b
     |(?P<num>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
     |(?P<err>\#(?:NULL!|DIV/0!|VALUE!|REF!|NAME\?|NUM!|N/A))
     |(?P<op><=|>=|<>|[-+*/^&=<>:%])
     |(?P<lp>\()|(?P<rp>\))|(?P<sep>,)
    )""",
    re.X,
)


def _tokens(formula: str) -> list[tuple[str, str]]:
    """``(kind, text)`` tokens of a formula (without its ``=``): kinds ``str func ref bool num err op lp
    rp sep``. A regular expression rather than openpyxl's general tokenizer, which took half the time of
    evaluating a report; the grammar is the report's (no names, arrays or whole-column references)."""
    text = formula[1:] if formula.startswith("=") else formula
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot read {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Pratt parser from tokens to nested tuples: ``("num", x)``, ``("str", s)``, ``("bool", b)``,
    ``("ref", sheet or None, text)``, ``("fn", NAME, [args])``, ``("neg"|"pos"|"pct", x)``,
    ``("bin", op, a, b)``, ``("err", code)``, ``("missing",)``."""

    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        t = self.peek()
        self.i += 1
        return t

    def parse(self) -> Node:
        node = self.expr(0)
        if self.peek()[0] != "end":
            raise ValueError(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self, power: int) -> Node:
        left = self.prefix()
        while True:
            kind, text = self.peek()
            if kind != "op":
                return left
            if text == "%":
                if _POSTFIX_POWER <= power:
                    return left
                self.take()
                left = ("pct", left)
                continue
            p = _BINARY_POWER[text]
            if p <= power:
                return left
            self.take()
            left = ("bin", text, left, self.expr(p))  # left-associative, as Excel
            continue

    def prefix(self) -> Node:
        kind, text = self.take()
        if kind == "op" and text in "+-":
            operand = self.expr(_PREFIX_POWER)
            return ("neg", operand) if text == "-" else ("pos", operand)
        if kind == "lp":
            inner = self.expr(0)
            if self.take()[0] != "rp":
                raise ValueError("missing )")
            return inner
        if kind == "func":
            args: list[Node] = []
            if self.peek()[0] == "rp":
                self.take()
                return ("fn", text.upper(), args)
            while True:
                args.append(("missing",) if self.peek()[0] in ("sep", "rp") else self.expr(0))
                sep = self.take()[0]
                if sep == "rp":
                    return ("fn", text.upper(), args)
                if sep != "sep":
                    raise ValueError("missing )")
        if kind == "num":
            return ("num", float(text))
        if kind == "str":
            return ("str", text[1:-1].replace('""', '"'))
        if kind == "bool":
            return ("bool", text == "TRUE")
        if kind == "err":
            return ("err", text)
        if kind == "ref":
            if "!" in text:
                sheet, _, cells = text.rpartition("!")
                if sheet.startswith("'"):
                    sheet = sheet[1:-1].replace("''", "'")
                return ("ref", sheet, cells)
            return ("ref", None, text)
        raise ValueError(f"unexpected {text!r}")


def _parse_ref(sheet: str, text: str) -> Ref:
    parts = text.split(":")
    if len(parts) > 2:
        raise ValueError(f"reference {text!r}")
    coords = []
    for part in parts:
        m = _CELL.match(part)
        if m is None:  # whole rows/columns and names are not used by the report
            raise ValueError(f"reference {text!r}")
        coords.append((int(m.group(2)), column_index_from_string(m.group(1).upper())))
    (ra, ca), (rb, cb) = coords[0], coords[-1]
    return Ref(sheet, min(ra, rb), min(ca, cb), max(ra, rb), max(ca, cb))


# ------------------------------------------------------------------------------------------ semantics


def _num(v: Any) -> float:
    """A scalar as a number in arithmetic (empty 0, TRUE 1, numeric text parsed, else #VALUE!)."""
    if isinstance(v, XlError):
        raise v
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise XlError("#VALUE!") from None
    raise XlError("#VALUE!")


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    return str(v)


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        if v.upper() in ("TRUE", "FALSE"):
            return v.upper() == "TRUE"
        raise XlError("#VALUE!")
    return _num(v) != 0.0


def _rank_of_type(v: Any) -> int:
    """Excel's order of types in comparisons: numbers < text < logicals."""
    return 2 if isinstance(v, bool) else 1 if isinstance(v, str) else 0


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None:
        a = "" if isinstance(b, str) else False if isinstance(b, bool) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else False if isinstance(a, bool) else 0.0
    ta, tb = _rank_of_type(a), _rank_of_type(b)
    x: Any
    y: Any
    if ta != tb:
        x, y = ta, tb
    elif ta == 1:
        x, y = a.lower(), b.lower()
    else:
        x, y = float(a), float(b)
    return {"=": x == y, "<>": x != y, "<": x < y, ">": x > y, "<=": x <= y, ">=": x >= y}[op]


def _criterion(criteria: Any) -> Callable[[Any], bool]:
    """SUMIF's test of a cell: ``"CMS"`` (equal, case-insensitive), ``">0"``, ``"<>x"``, or a number."""
    if isinstance(criteria, str):
        m = re.match(r"^(<=|>=|<>|<|>|=)?(.*)$", criteria, re.S)
        op, operand = (m.group(1) or "="), m.group(2)  # type: ignore[union-attr]
        value: Any = operand
        try:
            value = float(operand)
        except ValueError:
            pass
        if isinstance(value, str):
            if op == "=":
                return lambda v: (isinstance(v, str) and v.lower() == value.lower()) or (
                    v is None and value == "")
            return lambda v: _compare(op, v if v is not None else "", value)
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and _compare(op, v, value)
    target = _num(criteria)
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and float(v) == target


# -------------------------------------------------------------------------------------------- evaluator


class _Evaluator:
    """Evaluates the workbook's formula cells on demand, each once (memoised), in any order."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, int, int], Any] = {}
        self.busy: set[tuple[str, int, int]] = set()
        self.sheets = {ws.title: ws for ws in wb.worksheets}
        self.refs: dict[tuple[str, str], Ref] = {}  # parsed references, per evaluation (no global cache)
        self.grids: dict[Ref, list[list[Any]]] = {}

    # ---- cells
    def cell(self, sheet: str, row: int, col: int) -> Any:
        key = (sheet, row, col)
        if key in self.cache:
            return self.cache[key]
        ws = self.sheets.get(sheet)
        if ws is None:
            raise XlError("#REF!")
        c = ws._cells.get((row, col))
        if c is None or c.value is None:
            return None
        if c.data_type != "f":
            v = c.value
            return float(v) if isinstance(v, int) and not isinstance(v, bool) else v
        if key in self.busy:
            raise UnsupportedFormula(f"{sheet}!{c.coordinate}: circular reference")
        self.busy.add(key)
        try:
            try:
                value = self.formula(sheet, str(c.value))
            except XlError as exc:
                value = exc
        finally:
            self.busy.discard(key)
        self.cache[key] = value
        return value

    def formula(self, sheet: str, text: str) -> Any:
        node = _Parser(_tokens(text)).parse()
        value = self.scalar(self.eval(node, sheet))
        return 0.0 if value is None else value  # a formula showing an empty cell shows 0

    def values(self, ref: Ref) -> list[list[Any]]:
        """The reference's values, row by row; kept per reference (the workbook does not change while
        it is evaluated), since the report's SUMIFs read the same ICT-cost columns hundreds of times."""
        grid = self.grids.get(ref)
        if grid is None:
            grid = self.grids[ref] = [[self.cell(ref.sheet, r, c) for c in range(ref.c0, ref.c1 + 1)]
                                      for r in range(ref.r0, ref.r1 + 1)]
        return grid

    def scalar(self, v: Any) -> Any:
        """A reference's single value (a multi-cell reference in a scalar place is #VALUE!)."""
        if isinstance(v, Ref):
            if v.r0 != v.r1 or v.c0 != v.c1:
                raise XlError("#VALUE!")
            v = self.cell(v.sheet, v.r0, v.c0)
        if isinstance(v, XlError):
            raise v
        return v

    def flat(self, args: Sequence[Any]) -> Iterator[tuple[Any, bool]]:
        """Each value of the arguments, with whether it came from a reference."""
        for a in args:
            if isinstance(a, Ref):
                for row in self.values(a):
                    for v in row:
                        yield v, True
            elif isinstance(a, list):
                for row in a:
                    for v in row:
                        yield v, True
            else:
                yield a, False

    def numbers(self, args: Sequence[Any]) -> list[float]:
        """The numbers among the arguments: numbers in references (text, logicals, empty skipped), and
        every direct argument converted; errors propagate."""
        out: list[float] = []
        for v, from_ref in self.flat(args):
            if isinstance(v, XlError):
                raise v
            if from_ref:
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out.append(float(v))
            elif v is not None:
                out.append(_num(v))
        return out

    # ---- expressions
    def eval(self, node: Node, sheet: str) -> Any:
        kind = node[0]
        if kind in ("num", "str", "bool"):
            return node[1]
        if kind == "missing":
            return None
        if kind == "err":
            raise XlError(node[1])
        if kind == "ref":
            key = (node[1] or sheet, node[2])
            ref = self.refs.get(key)
            if ref is None:
                ref = self.refs[key] = _parse_ref(*key)
            return ref
        if kind == "neg":
            return -_num(self.scalar(self.eval(node[1], sheet)))
        if kind == "pos":
            return self.eval(node[1], sheet)
        if kind == "pct":
            return _num(self.scalar(self.eval(node[1], sheet))) / 100.0
        if kind == "bin":
            return self.binary(node[1], node[2], node[3], sheet)
        if kind == "fn":
            return self.function(node[1], node[2], sheet)
        raise ValueError(f"node {kind}")

    def binary(self, op: str, a: Node, b: Node, sheet: str) -> Any:
        if op == ":":
            ra, rb = self.eval(a, sheet), self.eval(b, sheet)
            if not (isinstance(ra, Ref) and isinstance(rb, Ref)) or ra.sheet != rb.sheet:
                raise XlError("#VALUE!")
            return Ref(ra.sheet, min(ra.r0, rb.r0), min(ra.c0, rb.c0), max(ra.r1, rb.r1), max(ra.c1, rb.c1))
        x, y = self.scalar(self.eval(a, sheet)), self.scalar(self.eval(b, sheet))
        if op == "&":
            return _text(x) + _text(y)
        if op in ("=", "<>", "<", ">", "<=", ">="):
            return _compare(op, x, y)
        u, v = _num(x), _num(y)
        if op == "+":
            return u + v
        if op == "-":
            return u - v
        if op == "*":
            return u * v
        if op == "/":
            if v == 0.0:
                raise XlError("#DIV/0!")
            return u / v
        if op == "^":
            try:
                result = u ** v
            except (OverflowError, ZeroDivisionError):
                raise XlError("#NUM!") from None
            if isinstance(result, complex):
                raise XlError("#NUM!")
            return result
        raise ValueError(f"operator {op}")

    def function(self, name: str, args: list[Node], sheet: str) -> Any:  # noqa: C901 - one case per function
        def ev(i: int) -> Any:
            return self.eval(args[i], sheet)

        def sc(i: int) -> Any:
            return self.scalar(ev(i))

        if name == "IF":
            chosen = 1 if _bool(sc(0)) else 2
            if chosen >= len(args):
                return False
            value = ev(chosen)
            return None if value is None and args[chosen][0] == "missing" else value
        if name == "IFERROR":
            try:
                return self.scalar(ev(0))
            except XlError:
                return sc(1)
        if name == "ISNUMBER":
            try:
                v = sc(0)
            except XlError:
                return False
            return isinstance(v, int | float) and not isinstance(v, bool)
        values = [ev(i) for i in range(len(args))]
        if name == "SUM":
            return math.fsum(self.numbers(values))
        if name in ("MIN", "MAX"):
            nums = self.numbers(values)
            return (min(nums) if name == "MIN" else max(nums)) if nums else 0.0
        if name == "COUNT":
            return float(sum(1 for v, _ in self.flat(values)
                             if isinstance(v, int | float) and not isinstance(v, bool)))
        if name == "AND":
            flags = [_bool(v) for v, ref in self.flat(values)
                     if not (ref and (v is None or isinstance(v, str)))]
            if not flags:
                raise XlError("#VALUE!")
            return all(flags)
        if name == "ABS":
            return abs(_num(self.scalar(values[0])))
        if name == "INT":
            return float(math.floor(_num(self.scalar(values[0]))))
        if name == "SUMIF":
            return self.sumif(values)
        if name == "SUMPRODUCT":
            return self.sumproduct(values)
        if name == "INDEX":
            return self.index(values)
        if name == "MATCH":
            return self.match(values)
        if name == "NPV":
            rate = _num(self.scalar(values[0]))
            flows = self.numbers(values[1:])
            return math.fsum(v / (1.0 + rate) ** (i + 1) for i, v in enumerate(flows))
        if name == "IRR":
            guess = _num(self.scalar(values[1])) if len(values) > 1 and values[1] is not None else 0.1
            return _irr(self.numbers(values[:1]), guess)
        if name == "RANK":
            x = _num(self.scalar(values[0]))
            nums = self.numbers(values[1:2])
            ascending = len(values) > 2 and values[2] is not None and _num(self.scalar(values[2])) != 0
            if x not in nums:
                raise XlError("#N/A")
            return float(1 + sum(1 for v in nums if (v < x if ascending else v > x)))
        raise UnsupportedFormula(f"function {name}")

    def sumif(self, values: list[Any]) -> float:
        rng, crit = values[0], self.scalar(values[1])
        total = values[2] if len(values) > 2 else rng
        if not isinstance(rng, Ref) or not isinstance(total, Ref):
            raise XlError("#VALUE!")
        test = _criterion(crit)
        out = []
        keys = self.values(rng)
        sums = self.values(Ref(total.sheet, total.r0, total.c0, total.r0 + rng.r1 - rng.r0,
                               total.c0 + rng.c1 - rng.c0))  # SUMIF sizes the sum range as the range
        for i, key_row in enumerate(keys):
            for j, key in enumerate(key_row):
                if not test(key):
                    continue
                v = sums[i][j]
                if isinstance(v, XlError):
                    raise v
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out.append(float(v))
        return math.fsum(out)

    def sumproduct(self, values: list[Any]) -> float:
        arrays = []
        for v in values:
            grid = self.values(v) if isinstance(v, Ref) else v if isinstance(v, list) else [[v]]
            arrays.append(grid)
        shape = (len(arrays[0]), len(arrays[0][0]))
        if any((len(a), len(a[0])) != shape for a in arrays):
            raise XlError("#VALUE!")
        total = []
        for i in range(shape[0]):
            for j in range(shape[1]):
                p = 1.0
                for a in arrays:
                    v = a[i][j]
                    if isinstance(v, XlError):
                        raise v
                    p *= float(v) if isinstance(v, int | float) and not isinstance(v, bool) else 0.0
                total.append(p)
        return math.fsum(total)

    def index(self, values: list[Any]) -> Ref:
        ref = values[0]
        if not isinstance(ref, Ref):
            raise XlError("#VALUE!")
        row = int(_num(self.scalar(values[1]))) if len(values) > 1 and values[1] is not None else 0
        col = int(_num(self.scalar(values[2]))) if len(values) > 2 and values[2] is not None else 0
        rows, cols = ref.r1 - ref.r0 + 1, ref.c1 - ref.c0 + 1
        if len(values) < 3 and rows == 1 and cols > 1:  # INDEX(row vector, n): the n-th column
            row, col = 1, row
        if col == 0 and cols == 1:
            col = 1
        if row == 0 and rows == 1:
            row = 1
        if not (1 <= row <= rows and 1 <= col <= cols):
            raise XlError("#REF!")
        r, c = ref.r0 + row - 1, ref.c0 + col - 1
        return Ref(ref.sheet, r, c, r, c)

    def match(self, values: list[Any]) -> float:
        x = self.scalar(values[0])
        ref = values[1]
        kind = int(_num(self.scalar(values[2]))) if len(values) > 2 and values[2] is not None else 1
        items = [v for v, _ in self.flat([ref])]
        if kind == 0:
            for i, v in enumerate(items, start=1):
                if v is not None and _rank_of_type(v) == _rank_of_type(x) and _compare("=", v, x):
                    return float(i)
            raise XlError("#N/A")
        best = None
        for i, v in enumerate(items, start=1):  # sorted lookup: the last item <= x (>= x for -1)
            if v is None or _rank_of_type(v) != _rank_of_type(x):
                continue
            if _compare("<=" if kind > 0 else ">=", v, x):
                best = i
            else:
                break
        if best is None:
            raise XlError("#N/A")
        return float(best)


def _irr(flows: list[float], guess: float) -> float:
    """IRR as spreadsheets compute it: Newton's method on ``f(r) = sum_t v_t (1+r)^-t`` from ``guess``,
    at most 20 steps, converged when a step is below 1e-7, else #NUM! (LibreOffice's ``ScIRR`` and
    Excel's documented 20 iterations). The report evaluates it from several guesses and keeps the root
    nearest zero, so the same stopping rule matters: another rule finds roots a spreadsheet does not."""
    r, step = guess, 1.0
    for _ in range(20):
        if step <= 1e-7:
            break
        d = 1.0 + r
        try:
            f = math.fsum(v / d ** t for t, v in enumerate(flows))
            df = math.fsum(-t * v / d ** (t + 1) for t, v in enumerate(flows))
            new = r - f / df
        except (ZeroDivisionError, OverflowError):
            raise XlError("#NUM!") from None
        if not math.isfinite(new):
            raise XlError("#NUM!")
        step, r = abs(new - r), new
    if step > 1e-7 or not flows:
        raise XlError("#NUM!")
    return 0.0 if guess == 0.0 and abs(r) < 1e-7 else r


# ---------------------------------------------------------------------------------------------- API


def evaluate_workbook(wb: Workbook, strict: bool = True) -> dict[tuple[str, str], Any]:
    """The value of every formula cell, by ``(sheet, coordinate)``: a float, a str, a bool, or an
    :class:`XlError` (its ``code``, e.g. ``#DIV/0!``, is what the cell shows).

    ``strict=False`` leaves out a cell the interpreter cannot evaluate (and the cells that depend on
    it) instead of raising: the report is still written, those cells without a cached value.

    Raises
    ------
    UnsupportedFormula
        With ``strict``: a formula the interpreter cannot evaluate (names sheet, cell and formula).
    """
    ev = _Evaluator(wb)
    out: dict[tuple[str, str], Any] = {}
    for ws in wb.worksheets:
        for (row, col), c in sorted(ws._cells.items()):
            if c.data_type != "f" or not isinstance(c.value, str):
                continue
            try:
                out[(ws.title, c.coordinate)] = ev.cell(ws.title, row, col)
            except (UnsupportedFormula, ValueError, IndexError, KeyError, RecursionError) as exc:
                if strict:
                    raise UnsupportedFormula(f"{ws.title}!{c.coordinate}: {c.value}: {exc}") from exc
    return out


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the package (``xl/worksheets/sheetN.xml``)."""
    from lxml import etree

    book = etree.fromstring(z.read("xl/workbook.xml"))
    rels = etree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    out = {}
    for s in book.findall("m:sheets/m:sheet", _NS):
        target = targets[s.get(f"{{{_NS['r']}}}id")]
        out[s.get("name")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


def _set_value(c: Any, value: Any, v_tag: str) -> None:
    from lxml import etree

    v = c.find(v_tag)
    if v is None:
        v = etree.SubElement(c, v_tag)
    if isinstance(value, XlError):
        c.set("t", "e")
        v.text = value.code
    elif isinstance(value, bool):
        c.set("t", "b")
        v.text = "1" if value else "0"
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            c.set("t", "e")
            v.text = "#NUM!"
        else:
            c.attrib.pop("t", None)
            v.text = repr(float(value))
    elif value is None:
        c.attrib.pop("t", None)
        v.text = "0"  # a formula pointing at an empty cell shows 0
    else:
        c.set("t", "str")
        v.text = str(value)


def with_cached_values(xlsx: bytes, values: dict[tuple[str, str], Any]) -> bytes:
    """The saved workbook ``xlsx`` with each formula cell's ``<v>`` set to ``values[(sheet, cell)]``."""
    from lxml import etree

    src = zipfile.ZipFile(io.BytesIO(xlsx))
    parts = _sheet_parts(src)
    by_part: dict[str, dict[str, Any]] = {}
    for (sheet, coord), value in values.items():
        by_part.setdefault(parts[sheet], {})[coord] = value
    out = io.BytesIO()
    f_tag, v_tag = f"{{{_NS['m']}}}f", f"{{{_NS['m']}}}v"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            cells = by_part.get(info.filename)
            if cells:
                root = etree.fromstring(data)
                for c in root.iter(f"{{{_NS['m']}}}c"):
                    coord = c.get("r")
                    if coord in cells and c.find(f_tag) is not None:
                        _set_value(c, cells[coord], v_tag)
                data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
            dst.writestr(info, data)
    return out.getvalue()
