"""The SGAM plane figure: domains x zones of one layer, with the actors and flows of one scheme.

Each actor's label carries ``gid="actor:<id>"`` (components: ``"component:<id>"``) so a GUI can map a
click on a box to the object even though long names are wrapped over lines.

Library code: builds a :class:`matplotlib.figure.Figure` with the Agg canvas and never touches pyplot's global
state, so the GUI (which embeds the figure in a Qt canvas) and the report (which saves it as PNG) can both use
it from any thread.

What each layer shows:

* ``business``: the organisations behind the scheme's flows, with the information they exchange;
* ``function``: the systems and devices exchanging information, function-layer components, and the flows
  labelled with their use case;
* ``information``: the same actors, flows labelled with the information object (and its payload);
* ``communication``: the links, labelled with the technology the matching chose (``?`` if unserved);
* ``component``: the devices and systems with the scheme's component-layer items, and the links.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

from coordstudio.sgam.costs import SchemeIctCost
from coordstudio.sgam.errors import SgamValidationError
from coordstudio.sgam.model import (
    Actor,
    ActorRole,
    ActorType,
    Component,
    Domain,
    Layer,
    SgamModel,
    Trigger,
    Zone,
)

_ROLE_COLOUR = {
    ActorRole.TSO: "#c6dbef",
    ActorRole.DSO: "#c7e9c0",
    ActorRole.AGGREGATOR: "#fdd0a2",
    ActorRole.DER_OWNER: "#fee391",
    ActorRole.CONSUMER: "#f2f2f2",
    ActorRole.MARKET_OPERATOR: "#dadaeb",
    ActorRole.COMMERCIAL_PARTY: "#fcbba1",
}
_PER = {
    Trigger.MARKET_CLEARING: "per\u00a0clearing",
    Trigger.TIME_STEP: "per\u00a0step",
    Trigger.HOURLY: "hourly",
    Trigger.DAILY: "daily",
    Trigger.ON_EVENT: "on\u00a0event",
}
_DOMAINS = list(Domain)
_ZONES = list(Zone)
_DOMAIN_LABEL = {
    Domain.GENERATION: "Generation",
    Domain.TRANSMISSION: "Transmission",
    Domain.DISTRIBUTION: "Distribution",
    Domain.DER: "DER",
    Domain.CUSTOMER_PREMISES: "Customer premises",
}


class _Node:
    def __init__(
        self, key: str, label: str, domain: Domain, zone: Zone, colour: str, component: bool
    ) -> None:
        self.key, self.label, self.domain, self.zone = key, label, domain, zone
        self.colour, self.component = colour, component
        self.x = 0.0
        self.y = 0.0


def _layout(nodes: list[_Node]) -> None:
    """Spread the nodes of each domain x zone cell on a small grid inside the cell."""
    cells: dict[tuple[int, int], list[_Node]] = {}
    for n in nodes:
        cells.setdefault((_DOMAINS.index(n.domain), _ZONES.index(n.zone)), []).append(n)
    for (col, row), members in cells.items():
        k = len(members)
        ncols = 1 if k <= 3 else 2
        nrows = (k + ncols - 1) // ncols
        for i, n in enumerate(members):
            cx, cy = i % ncols, i // ncols
            n.x = col + (cx + 0.5) / ncols
            n.y = row + 1 - (cy + 0.5) / nrows


def _scheme_actors(model: SgamModel, scheme: str) -> tuple[set[str], set[str]]:
    """Ids of the actors in the scheme's events, and of the links the scheme uses."""
    actors: set[str] = set()
    links: set[str] = set()
    for e in model.events:
        if scheme in e.schemes:
            actors.update((e.producer_id, e.receiver_id))
            links.add(e.link_id)
    return actors, links


Edges = dict[tuple[str, str], list[str]]
"""Labelled connections of a plane: (from node key, to node key) -> labels, in drawing order."""


class _Graph:
    """What one plane shows: its nodes (actors, components) and labelled edges, in insertion order.

    The insertion order is the drawing order: it fixes where a node sits in its cell and the numbers of the
    connections, so it follows the model's event (or link id) order.
    """

    def __init__(self, model: SgamModel) -> None:
        self.actors: dict[str, Actor] = model.index("actors")
        self.nodes: dict[str, _Node] = {}
        self.edges: Edges = {}

    def add_actor(self, a: Actor) -> None:
        if a.id not in self.nodes:
            self.nodes[a.id] = _Node(a.id, a.name or a.id, a.domain, a.zone, _ROLE_COLOUR[a.role], False)

    def add_component(self, c: Component) -> None:
        colour = _ROLE_COLOUR[self.actors[c.actor_id].role]
        self.nodes["comp:" + c.id] = _Node("comp:" + c.id, c.name or c.id, c.domain, c.zone, colour, True)

    def add_label(self, a: str, b: str, label: str) -> None:
        labels = self.edges.setdefault((a, b), [])
        if label not in labels:
            labels.append(label)

    def org_of(self, actor_id: str) -> str:
        """The organisation behind a system or device (itself for organisations and persons)."""
        a = self.actors[actor_id]
        if a.owner_id and a.actor_type not in (ActorType.ORGANISATION, ActorType.PERSON):
            return a.owner_id
        return a.id


def _business_graph(model: SgamModel, scheme: str) -> _Graph:
    """Business layer: the organisations behind the scheme's flows and the information they exchange."""
    g = _Graph(model)
    io_names = {io.id: io.name or io.id for io in model.information_objects}
    for e in model.events:
        if scheme in e.schemes:
            a, b = g.org_of(e.producer_id), g.org_of(e.receiver_id)
            if a == b:
                continue
            g.add_actor(g.actors[a])
            g.add_actor(g.actors[b])
            g.add_label(a, b, io_names[e.information_object_id])
    return g


def _flow_graph(model: SgamModel, scheme: str, layer: Layer, comps: list[Component]) -> _Graph:
    """Function layer (flows by use case, function components) or information layer (by payload)."""
    g = _Graph(model)
    ios = model.index("information_objects")
    for e in model.events:
        if scheme not in e.schemes:
            continue
        g.add_actor(g.actors[e.producer_id])
        g.add_actor(g.actors[e.receiver_id])
        if layer == Layer.FUNCTION:
            label = e.use_case_id or e.name
        else:
            io = ios[e.information_object_id]
            label = f"{io.name or io.id} ({_size(io.payload_bytes)}\u00a0{_PER[e.trigger]})"
        g.add_label(e.producer_id, e.receiver_id, label)
    if layer == Layer.FUNCTION:
        for c in comps:
            if c.layer in (Layer.FUNCTION, Layer.INFORMATION):
                g.add_component(c)
    return g


def _link_graph(
    model: SgamModel,
    scheme: str,
    layer: Layer,
    comps: list[Component],
    costs: Mapping[str, SchemeIctCost] | None,
) -> _Graph:
    """Communication layer (links labelled with the chosen technology) or component layer (plus items)."""
    if costs is None or scheme not in costs:
        from coordstudio.sgam.matching import ict_costs

        costs = ict_costs(model, None, 20, 0.04)
    chosen = {line.link_id: line.technology_id for line in costs[scheme].lines if line.item_kind == "link"}
    g = _Graph(model)
    links = model.index("links")
    techs = model.index("technologies")
    _, used_links = _scheme_actors(model, scheme)
    for link_id in sorted(used_links):
        link = links[link_id]
        g.add_actor(g.actors[link.actor_a_id])
        g.add_actor(g.actors[link.actor_b_id])
        tech_id = chosen.get(link_id)
        tech = techs.get(tech_id) if tech_id else None
        g.edges.setdefault((link.actor_a_id, link.actor_b_id), []).append(
            (tech.name or tech.id) if tech is not None else "? unserved"
        )
    if layer == Layer.COMPONENT:
        for c in comps:
            if c.layer == Layer.COMPONENT:
                g.add_component(c)
    return g


def _figure_and_axes(ax: Axes | None) -> tuple[Figure, Axes]:
    """A new Agg figure with one axes, or the figure ``ax`` belongs to."""
    if ax is None:
        fig = Figure(figsize=(19, 9.5), dpi=110, layout="constrained")
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()
    parent = ax.get_figure()
    if not isinstance(parent, Figure):
        raise SgamValidationError("ax must belong to a matplotlib Figure")
    return parent, ax


def draw_sgam_plane(
    model: SgamModel,
    scheme: str,
    layer: Layer | str,
    ax: Axes | None = None,
    costs: Mapping[str, SchemeIctCost] | None = None,
) -> Figure:
    """Draw the SGAM plane of ``layer`` for ``scheme`` and return its figure.

    Parameters
    ----------
    model : SgamModel
        The model.
    scheme : str
        Scheme id (must be one of ``model.schemes``).
    layer : Layer or str
        SGAM layer to draw.
    ax : matplotlib Axes, optional
        Axes to draw into (e.g. in a GUI canvas); a new Agg figure is made when omitted.
    costs : mapping scheme -> SchemeIctCost, optional
        Matching result used to label links with their technology on the communication layer; computed with
        the model's default endpoint counts (20 years, 4 %) when omitted.
    """
    layer = Layer(layer)
    if scheme not in model.scheme_ids():
        raise SgamValidationError(f"scheme '{scheme}' is not in the model (schemes: {model.scheme_ids()})")
    fig, ax = _figure_and_axes(ax)
    scheme_obj = model.get("schemes", scheme)
    comps = [c for c in model.components if scheme in c.schemes]
    if layer == Layer.BUSINESS:
        graph = _business_graph(model, scheme)
    elif layer in (Layer.FUNCTION, Layer.INFORMATION):
        graph = _flow_graph(model, scheme, layer, comps)
    else:
        graph = _link_graph(model, scheme, layer, comps, costs)
    directed = layer in (Layer.BUSINESS, Layer.FUNCTION, Layer.INFORMATION)

    node_list = list(graph.nodes.values())
    _layout(node_list)
    _draw_frame(ax, f"SGAM {layer.value} layer - {scheme}: {scheme_obj.name or scheme}")
    entries = _draw_connections(ax, graph.nodes, graph.edges, directed)
    _draw_side_panel(ax, "Flows" if directed else "Links (chosen technology)", entries)
    _draw_boxes(ax, node_list)
    _draw_legend(ax, node_list)
    return fig


_NCOL, _NROW = len(_DOMAINS), len(_ZONES)
_PANEL_X = _NCOL + 0.12
"""Left edge of the side panel listing the numbered connections, in cell units."""


def _draw_frame(ax: Axes, title: str) -> None:
    """The domain x zone grid with its labels, the axes limits and the title."""
    for i in range(_NCOL):
        for j in range(_NROW):
            ax.add_patch(
                Rectangle(
                    (i, j),
                    1,
                    1,
                    facecolor="#fafafa" if (i + j) % 2 else "#f0f0f0",
                    edgecolor="#bbbbbb",
                    linewidth=0.8,
                    zorder=0,
                )
            )
    for i, d in enumerate(_DOMAINS):
        ax.text(i + 0.5, -0.06, _DOMAIN_LABEL[d], ha="center", va="top", fontsize=11, fontweight="bold")
    for j, z in enumerate(_ZONES):
        ax.text(-0.05, j + 0.5, z.value.capitalize(), ha="right", va="center", fontsize=11, fontweight="bold")
    ax.set_xlim(-0.7, _NCOL + 2.9)
    ax.set_ylim(-0.45, _NROW + 0.05)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.set_title(title, fontsize=14, fontweight="bold")


def _draw_connections(ax: Axes, nodes: Mapping[str, _Node], edges: Edges, directed: bool) -> list[str]:
    """One numbered curve per pair of nodes, routed around other boxes; return the side-panel entries."""
    node_list = list(nodes.values())
    pairs: dict[tuple[str, str], list[tuple[str, str, list[str]]]] = {}
    for (a, b), labels in edges.items():
        key = (a, b) if (b, a) not in pairs else (b, a)
        pairs.setdefault(key, []).append((a, b, labels))
    entries: list[str] = []
    for number, ((a, b), flows) in enumerate(pairs.items(), start=1):
        na, nb = nodes[a], nodes[b]
        forward = any(f[0] == a for f in flows)
        backward = any(f[0] == b for f in flows)
        style = "-"
        if directed:
            style = "<|-|>" if forward and backward else ("-|>" if forward else "<|-")
        ctrl = _clear_control_point(na, nb, node_list)
        p0, p2 = _box_exit(na, ctrl), _box_exit(nb, ctrl)
        ax.add_patch(
            FancyArrowPatch(
                path=MplPath([p0, ctrl, p2], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3]),
                arrowstyle=style,
                mutation_scale=13,
                color="#555555",
                lw=1.1,
                zorder=1,
            )
        )
        mx = 0.25 * na.x + 0.5 * ctrl[0] + 0.25 * nb.x
        my = 0.25 * na.y + 0.5 * ctrl[1] + 0.25 * nb.y
        ax.text(
            mx,
            my,
            str(number),
            ha="center",
            va="center",
            fontsize=8,
            fontweight="bold",
            color="white",
            bbox=dict(boxstyle="circle,pad=0.25", facecolor="#444444", edgecolor="none"),
            zorder=3,
        )
        for src, dst, labels in flows:
            arrow = "->" if directed else "--"
            head = f"{number}. {nodes[src].label} {arrow} {nodes[dst].label}: "
            entries.append(head + "; ".join(labels))
    return entries


def _draw_side_panel(ax: Axes, heading: str, entries: list[str]) -> None:
    """The numbered connections listed right of the plane, wrapped, in a font that fits the height."""
    ax.text(_PANEL_X, _NROW, heading, ha="left", va="top", fontsize=11, fontweight="bold")
    lines: list[str] = []
    for entry in entries:
        wrapped = textwrap.wrap(entry, 62, subsequent_indent="     ", break_on_hyphens=False)
        lines.extend(wrapped)
    step = min(0.2, (_NROW - 0.25) / max(len(lines), 1))
    size = 8 if step >= 0.15 else 6.5
    for k, line in enumerate(lines):
        ax.text(
            _PANEL_X, _NROW - 0.3 - k * step, line, ha="left", va="top", fontsize=size, family="DejaVu Sans"
        )


def _draw_boxes(ax: Axes, node_list: list[_Node]) -> None:
    """Actor boxes (solid) and component boxes (dashed) with their wrapped names and click ids."""
    for n in node_list:
        ax.add_patch(
            FancyBboxPatch(
                (n.x - _BOX_W / 2, n.y - _BOX_H / 2),
                _BOX_W,
                _BOX_H,
                boxstyle="round,pad=0.01,rounding_size=0.03",
                facecolor=n.colour,
                edgecolor="#333333",
                linewidth=1.0,
                linestyle="--" if n.component else "-",
                zorder=4,
            )
        )
        gid = f"component:{n.key[5:]}" if n.component else f"actor:{n.key}"
        ax.text(
            n.x,
            n.y,
            "\n".join(textwrap.wrap(n.label, 20)),
            ha="center",
            va="center",
            fontsize=8,
            zorder=5,
            gid=gid,
        )


def _draw_legend(ax: Axes, node_list: list[_Node]) -> None:
    """Legend of the roles present (by box colour) and of the dashed component boxes."""
    roles: list[ActorRole] = []
    for n in node_list:
        for role, colour in _ROLE_COLOUR.items():
            if colour == n.colour and role not in roles:
                roles.append(role)
    handles = [Rectangle((0, 0), 1, 1, facecolor=_ROLE_COLOUR[r], edgecolor="#333333") for r in roles]
    legend_labels = [r.value.replace("_", " ") for r in roles]
    if any(n.component for n in node_list):
        handles.append(Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#333333", linestyle="--"))
        legend_labels.append("costed component")
    if handles:
        ax.legend(
            handles,
            legend_labels,
            loc="lower left",
            bbox_to_anchor=(0.0, 0.0),
            ncol=len(handles),
            fontsize=8,
            frameon=False,
        )


_BOX_W = 0.5
_BOX_H = 0.2


def _inside(x: float, y: float, n: _Node, margin: float = 0.03) -> bool:
    return abs(x - n.x) <= _BOX_W / 2 + margin and abs(y - n.y) <= _BOX_H / 2 + margin


def _clear_control_point(na: _Node, nb: _Node, nodes: list[_Node]) -> tuple[float, float]:
    """Control point of a quadratic curve from ``na`` to ``nb`` that avoids the other boxes if it can."""
    mx, my = (na.x + nb.x) / 2, (na.y + nb.y) / 2
    dx, dy = nb.x - na.x, nb.y - na.y
    others = [n for n in nodes if n is not na and n is not nb]
    best = (mx, my)
    for rad in (0.0, 0.3, -0.3, 0.6, -0.6, 0.9, -0.9):
        cx, cy = mx - rad * dy, my + rad * dx
        blocked = False
        for k in range(1, 40):
            t = k / 40
            x = (1 - t) ** 2 * na.x + 2 * t * (1 - t) * cx + t**2 * nb.x
            y = (1 - t) ** 2 * na.y + 2 * t * (1 - t) * cy + t**2 * nb.y
            if any(_inside(x, y, n) for n in others):
                blocked = True
                break
        if not blocked:
            return cx, cy
    return best


def _box_exit(n: _Node, towards: tuple[float, float]) -> tuple[float, float]:
    """Point where the ray from the box centre towards ``towards`` leaves the box."""
    dx, dy = towards[0] - n.x, towards[1] - n.y
    if dx == 0 and dy == 0:
        return n.x, n.y
    t = min(
        (_BOX_W / 2 + 0.01) / abs(dx) if dx else float("inf"),
        (_BOX_H / 2 + 0.01) / abs(dy) if dy else float("inf"),
    )
    return n.x + t * dx, n.y + t * dy


def _size(n_bytes: int) -> str:
    if n_bytes >= 1_000_000:
        return f"{n_bytes / 1e6:.3g}\u00a0MB"
    if n_bytes >= 1000:
        return f"{n_bytes / 1e3:.3g}\u00a0kB"
    return f"{n_bytes}\u00a0B"


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically (temporary file in the same folder, then rename)."""
    from coordstudio.sgam.fileio import atomic_save

    return atomic_save(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))
