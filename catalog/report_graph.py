"""The catalog report's dependency picture: datasets by layer, left to right, then their readers;
lineage and declared reads as grey curves, bypasses orange, hidden reads red and dashed in a lane
of their own below everything, so nobody can miss them.

The layout is our own (no Graphviz, no JavaScript): columns are layers, grouped by domain (or
consumer type), each node placed near the mean height of what feeds it; a crowded staging,
intermediate or landed column collapses to one node per domain. Node labels are monospace, so
their width is known without a browser, and coordinates are rounded to one decimal, so the
same rows always give the same SVG.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from catalog.report_rows import (
    HIDDEN,
    READ,
    STALE,
    CatalogRows,
    Consumer,
    Dataset,
    Reader,
    ReaderMark,
    all_readers,
    layer_of,
    reader_of,
    sort_key,
)

# Columns of the picture, left to right (the layers, then the readers).
# `other` datasets (scratch tables, mostly unowned) sit under the marts: a column of their own would
# put them in the way of every read of a mart.
PICTURE_COLUMNS = ("raw", "staging", "intermediate", "public", "marts", "consumers")
LAYER_TITLES = {
    "raw": "Landed",
    "staging": "Staging",
    "intermediate": "Intermediate",
    "public": "Public",
    "marts": "Marts",
    "other": "Other",
    "consumers": "Consumers",
}
CONSUMERS = "consumers"
# Past this many nodes a staging/intermediate/landed column collapses to one node per domain.
COLLAPSE_ABOVE = 26
COLLAPSIBLE = ("staging", "intermediate", "raw")

# Domain colours (stroke, tint); red and orange are kept for hidden reads and bypasses.
PALETTE = (
    ("#2563eb", "#dbeafe"),
    ("#0d9488", "#ccfbf1"),
    ("#7c3aed", "#ede9fe"),
    ("#16a34a", "#dcfce7"),
    ("#c026d3", "#fae8ff"),
    ("#a16207", "#fef9c3"),
    ("#0369a1", "#e0f2fe"),
    ("#4d7c0f", "#ecfccb"),
    ("#6d28d9", "#f5f3ff"),
    ("#0f766e", "#f0fdfa"),
)
UNOWNED_COLOUR = ("#6b7280", "#f3f4f6")
EDGE_COLOUR = {"lineage": "#a3aebf", "declared": "#64748b", "stale": "#a3aebf", "hidden": "#dc2626"}
BYPASS_COLOUR = "#ea580c"


# ---------------------------------------------------------------------------------------------
# Nodes and edges


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    title: str
    column: str  # a PICTURE_COLUMNS entry
    group: str  # what the node is grouped under in its column: a domain band, or a consumer type
    group_label: str
    kind: str  # dataset | collapsed | consumer | principal
    colour: tuple[str, str]
    public: bool = False
    href: str = ""


@dataclass
class Edge:
    source: str
    target: str
    kind: str  # lineage | declared | stale | hidden
    bypass: bool = False
    hidden_reads: set[str] = field(default_factory=set)  # datasets behind a hidden edge (a node may be collapsed)


EDGE_RANK = {"stale": 0, "lineage": 1, "declared": 1, "hidden": 2}


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    collapsed: tuple[str, ...]  # layers shown one node per domain


def domain_colours(datasets: Iterable[Dataset]) -> dict[str, tuple[str, str]]:
    domains = sorted({d.domain for d in datasets if d.domain})
    return {domain: PALETTE[i % len(PALETTE)] for i, domain in enumerate(domains)}


def dependency_graph(rows: CatalogRows, marks: Sequence[ReaderMark]) -> Graph:
    """Datasets by layer, then readers; lineage and reads as edges; big columns collapsed per domain."""
    colours = domain_colours(rows.datasets)
    by_layer: dict[str, list[Dataset]] = defaultdict(list)
    for dataset in rows.datasets:
        by_layer[layer_of(dataset)].append(dataset)
    collapsed = tuple(layer for layer in COLLAPSIBLE if len(by_layer[layer]) > COLLAPSE_ABOVE)

    node_of: dict[str, str] = {}
    nodes: dict[str, Node] = {}
    members: dict[str, list[str]] = defaultdict(list)
    for dataset in rows.datasets:
        layer = layer_of(dataset)
        colour = colours.get(dataset.domain or "", UNOWNED_COLOUR)
        if layer in collapsed:
            node_id = f"{layer}:{dataset.domain or ''}"
            members[node_id].append(dataset.dataset)
            node_of[dataset.dataset] = node_id
            continue
        node_of[dataset.dataset] = dataset.dataset
        owner = dataset.owner_team or "no owner"
        band = "1" if layer == "other" else "0"
        nodes[dataset.dataset] = Node(
            id=dataset.dataset,
            label=_short_label(dataset),
            title=f"{dataset.dataset} — {LAYER_TITLES[layer].lower()}, {dataset.access}, {owner}",
            column="marts" if layer == "other" else layer,
            group=f"{band}:{dataset.domain or '~'}",  # domains alphabetically, unowned last
            group_label=(dataset.domain or "unowned") + (" · other" if layer == "other" else ""),
            kind="dataset",
            colour=colour,
            public=dataset.access == "public",
            href=f"#dataset-{dataset.dataset}",
        )
    for node_id, names in members.items():
        layer, domain = node_id.split(":", 1)
        noun = "models" if layer != "raw" else "datasets"
        nodes[node_id] = Node(
            id=node_id,
            label=f"{len(names)} {LAYER_TITLES[layer].lower()} {noun}",
            title=", ".join(sorted(names)),
            column=layer,
            group=f"0:{domain or '~'}",
            group_label=domain or "unowned",
            kind="collapsed",
            colour=colours.get(domain, UNOWNED_COLOUR),
            href=f"#domain-{domain}" if domain else "#unowned",
        )
    consumers = {c.consumer: c for c in rows.consumers}
    for reader in all_readers(rows, marks):
        consumer = consumers.get(reader.name) if reader.kind == "consumer" else None
        node_id = f"{reader.kind}:{reader.name}"
        if consumer:
            title = f"{reader.name} — {consumer.type or 'consumer'}, owner {consumer.owner_name}"
        elif reader.kind == "consumer":
            title = f"{reader.name} — not in catalog.consumers"
        else:
            title = f"{reader.name} — a principal that reads for no declared consumer"
        nodes[node_id] = Node(
            id=node_id,
            label=reader.name,
            title=title,
            column=CONSUMERS,
            group=_consumer_group(consumer, reader),
            group_label=_consumer_group(consumer, reader),
            kind=reader.kind,
            colour=("#1e293b", "#1e293b"),
            href=f"#{reader.anchor}",
        )

    edges: dict[tuple[str, str], Edge] = {}

    def add(dataset: str, target: str | None, kind: str, bypass: bool = False) -> None:
        source = node_of.get(dataset)
        if source is None or target is None or source == target:
            return
        edge = edges.setdefault((source, target), Edge(source, target, kind, bypass))
        if EDGE_RANK[kind] > EDGE_RANK[edge.kind]:
            edge.kind = kind
        edge.bypass = edge.bypass or bypass
        if kind == HIDDEN:
            edge.hidden_reads.add(dataset)

    for upstream, downstream in rows.lineage:
        if downstream in node_of:
            add(upstream, node_of[downstream], "lineage")
        elif downstream in consumers:  # an exposure: the consumer's declared read
            add(upstream, f"consumer:{downstream}", "declared")
    edge_kind = {READ: "declared", STALE: "stale", HIDDEN: "hidden"}
    for mark in marks:
        add(mark.dataset, f"{mark.reader.kind}:{mark.reader.name}", edge_kind[mark.mark])
    mark_of = {(m.reader, m.dataset): m.mark for m in marks}
    for finding in rows.findings:
        if finding.kind != "bypass":
            continue
        if finding.model:
            add(finding.dataset, node_of.get(finding.model), "lineage", bypass=True)
        elif finding.consumer or finding.principal:
            # a declared bypass stays a declared edge; an attempt nobody declared goes to the lane
            reader = reader_of(finding.consumer, finding.principal)
            kind = edge_kind[mark_of.get((reader, finding.dataset), HIDDEN)]
            add(finding.dataset, f"{reader.kind}:{reader.name}", kind, bypass=True)
    kept = tuple(e for _, e in sorted(edges.items()) if e.source in nodes and e.target in nodes)
    return Graph(tuple(nodes[key] for key in sorted(nodes)), kept, collapsed)


def _consumer_group(consumer: Consumer | None, reader: Reader) -> str:
    if consumer:
        return consumer.type or "other"
    return "no consumer" if reader.kind == "principal" else "other"


def _short_label(dataset: Dataset) -> str:
    """Staging names repeat their domain, which the group heading already says."""
    prefix = f"stg_{dataset.domain}__"
    if dataset.layer == "staging" and dataset.domain and dataset.dataset.startswith(prefix):
        return dataset.dataset[len(prefix) :]
    return dataset.dataset


# Geometry (px). Node labels are monospace so their width is known without a browser.
CHAR_W = 6.7
NODE_H = 22
NODE_GAP = 6
GROUP_HEAD = 16
GROUP_GAP = 12
COL_GAP = 84
MARGIN = 18
TOP = 44
LANE_TRACK = 15
LANE_HEAD = 22
LABEL_CHAR_W = 5.8  # 9.5 px monospace


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def mid(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    groups: tuple[tuple[str, str, float, float, tuple[str, str]], ...]  # column, label, x, y, colour
    columns: tuple[tuple[str, float, float, int], ...]  # column, x, width, nodes
    width: float
    height: float
    lane_top: float


def layout(graph: Graph) -> Layout:
    """Columns left to right, each grouped (domain or consumer type), ordered by the mean height of
    what feeds each node (fewer crossings), centred on the tallest column; hidden reads get a lane
    of their own below everything."""
    present = [c for c in PICTURE_COLUMNS if any(n.column == c for n in graph.nodes)]
    by_column: dict[str, list[Node]] = defaultdict(list)
    for node in graph.nodes:
        by_column[node.column].append(node)
    feeds: dict[str, list[str]] = defaultdict(list)
    for edge in graph.edges:
        feeds[edge.target].append(edge.source)

    def column_height(nodes: list[Node]) -> float:
        groups = len({n.group for n in nodes})
        return len(nodes) * (NODE_H + NODE_GAP) - NODE_GAP + groups * GROUP_HEAD + (groups - 1) * GROUP_GAP

    tallest = max((column_height(by_column[c]) for c in present), default=0.0)
    boxes: dict[str, Box] = {}
    groups: list[tuple[str, str, float, float, tuple[str, str]]] = []
    columns: list[tuple[str, float, float, int]] = []
    x = float(MARGIN)
    for column in present:
        nodes = by_column[column]
        width = max(120.0, max(len(n.label) for n in nodes) * CHAR_W + 24)

        def centre(node: Node) -> float | None:
            placed = [boxes[s].mid for s in feeds[node.id] if s in boxes]
            return sum(placed) / len(placed) if placed else None

        grouped: dict[str, list[Node]] = defaultdict(list)
        for node in nodes:
            grouped[node.group].append(node)
        ordered_groups = sorted(grouped, key=lambda g: _group_key(column, g, [centre(n) for n in grouped[g]]))
        y = TOP + (tallest - column_height(nodes)) / 2
        for index, group in enumerate(ordered_groups):
            if index:
                y += GROUP_GAP
            colour = grouped[group][0].colour if column != CONSUMERS else ("#475569", "#475569")
            groups.append((column, grouped[group][0].group_label, x, y + 11, colour))
            y += GROUP_HEAD
            for node in sorted(grouped[group], key=lambda n: sort_key(centre(n) is None, centre(n), n.label)):
                boxes[node.id] = Box(round(x, 1), round(y, 1), round(width, 1), NODE_H)
                y += NODE_H + NODE_GAP
        columns.append((column, round(x, 1), round(width, 1), len(nodes)))
        x += width + COL_GAP
    hidden = sum(1 for e in graph.edges if e.kind == HIDDEN)
    lane_top = TOP + tallest + 28
    height = lane_top + (lane_height(hidden) if hidden else 0) + MARGIN
    return Layout(boxes, tuple(groups), tuple(columns), round(x - COL_GAP + MARGIN, 1), round(height, 1), lane_top)


def lane_height(tracks: int) -> float:
    """Room for every track, and for the lane's title left of the first column's drops."""
    return max(LANE_HEAD + tracks * LANE_TRACK - 4, 52)


def _group_key(column: str, group: str, centres: list[float | None]) -> tuple:
    """Domains keep one order in every column; consumer types sit near what they read."""
    if column != CONSUMERS:
        return (False, 0.0, group)
    known = [c for c in centres if c is not None]
    return (group == "no consumer", sum(known) / len(known) if known else 1e9, group)


def render_svg(graph: Graph, geometry: Layout) -> str:
    """The picture: lineage and declared reads as grey curves, bypasses orange, hidden reads red and
    dashed, each routed down a gap into its own track of the lane below and up to its reader."""
    e = esc
    box = geometry.boxes
    hidden = _lane_order(graph, box)
    tracks = _lane_tracks(hidden, box, geometry.lane_top)
    width = max([geometry.width, *(t.label_x + len(t.label) * LABEL_CHAR_W + MARGIN for t in tracks)])
    out = [
        f'<svg class="graph" viewBox="0 0 {_n(width)} {_n(geometry.height)}" '
        f'width="{_n(width)}" height="{_n(geometry.height)}" role="img" '
        'aria-labelledby="graph-title" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace">',
        '<title id="graph-title">Dependency picture: datasets by layer, their readers, hidden reads apart</title>',
        "<defs>",
    ]
    for name, colour in (("grey", EDGE_COLOUR["declared"]), ("red", EDGE_COLOUR["hidden"]), ("orange", BYPASS_COLOUR)):
        out.append(
            f'<marker id="arrow-{name}" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    others = any(n.column == "marts" and n.group.startswith("1:") for n in graph.nodes)
    for column, x, column_width, count in geometry.columns:
        title = "Marts · other" if column == "marts" and others else LAYER_TITLES[column]
        out.append(
            f'<text class="layer" x="{_n(x + column_width / 2)}" y="20" text-anchor="middle" font-size="11" '
            f'font-family="DejaVu Sans, Arial, sans-serif" font-weight="700" letter-spacing="1.2" fill="#475569">'
            f"{e(title.upper())}</text>"
            f'<text x="{_n(x + column_width / 2)}" y="33" text-anchor="middle" font-size="10" '
            f'font-family="DejaVu Sans, Arial, sans-serif" fill="#94a3b8">{counted(count, "node")}</text>'
        )
    if hidden:
        lane_h = lane_height(len(hidden))
        out.append(
            f'<g class="hidden-lane"><rect x="{_n(MARGIN / 2)}" y="{_n(geometry.lane_top)}" width="{_n(width - MARGIN)}" '
            f'height="{_n(lane_h)}" rx="8" fill="#fef2f2" stroke="#fecaca"/>'
            f'<text x="{MARGIN}" y="{_n(geometry.lane_top + 17)}" font-family="DejaVu Sans, Arial, sans-serif" '
            f'fill="#b91c1c"><tspan font-size="11" font-weight="700">HIDDEN READS ({len(hidden)})</tspan>'
            f'<tspan x="{MARGIN}" dy="14" font-size="10">read in the query log,</tspan>'
            f'<tspan x="{MARGIN}" dy="12" font-size="10">declared nowhere</tspan></text></g>'
        )
    order = ("stale", "lineage", "declared")
    for kind in order:
        for edge in graph.edges:
            if edge.kind == kind and not edge.bypass:
                out.append(_curve(edge, box[edge.source], box[edge.target]))
    for edge in graph.edges:
        if edge.bypass and edge.kind != HIDDEN:
            out.append(_curve(edge, box[edge.source], box[edge.target]))
    for track in tracks:
        out.append(_lane_path(track, box[track.edge.source], box[track.edge.target]))
    for _column, label, x, y, group_colour in geometry.groups:
        out.append(
            f'<text class="group" x="{_n(x + 2)}" y="{_n(y)}" font-size="10" font-weight="700" letter-spacing="0.6" '
            f'font-family="DejaVu Sans, Arial, sans-serif" fill="{group_colour[0]}">{e(label.upper())}</text>'
        )
    for node in graph.nodes:
        out.append(_node(node, box[node.id]))
    out.append("</svg>")
    return "\n".join(out)


def _curve(edge: Edge, source: Box, target: Box) -> str:
    if abs(source.x - target.x) < 1:  # same column: bow out to the right
        x = source.right
        bow = x + 28 + min(60.0, abs(target.mid - source.mid) / 6)
        d = f"M{_n(x)},{_n(source.mid)} C{_n(bow)},{_n(source.mid)} {_n(bow)},{_n(target.mid)} {_n(x + 2)},{_n(target.mid)}"
    else:
        x1, x2 = source.right, target.x - 1
        dx = (x2 - x1) / 2
        d = (
            f"M{_n(x1)},{_n(source.mid)} C{_n(x1 + dx)},{_n(source.mid)} "
            f"{_n(x2 - dx)},{_n(target.mid)} {_n(x2)},{_n(target.mid)}"
        )
    if edge.bypass:
        stroke, width, arrow, extra = BYPASS_COLOUR, "1.8", "orange", ""
    elif edge.kind == "stale":
        stroke, width, arrow, extra = EDGE_COLOUR["stale"], "1.3", "grey", ' stroke-dasharray="2 3"'
    else:
        stroke = EDGE_COLOUR[edge.kind]
        width, arrow, extra = ("1.1", "grey", ' opacity="0.8"') if edge.kind == "lineage" else ("1.3", "grey", "")
    classes = f"edge {edge.kind}" + (" bypass" if edge.bypass else "")
    return (
        f'<path class="{classes}" data-from="{esc(edge.source)}" data-to="{esc(edge.target)}" d="{d}" fill="none" '
        f'stroke="{stroke}" stroke-width="{width}"{extra} marker-end="url(#arrow-{arrow})"/>'
    )


def _lane_order(graph: Graph, box: dict[str, Box]) -> list[Edge]:
    """Hidden reads from the leftmost columns take the deepest tracks: every drop then passes left
    of the labels it could cross (a label is written right of its own drop)."""
    hidden = [edge for edge in graph.edges if edge.kind == HIDDEN]
    return sorted(hidden, key=lambda e: (-box[e.source].x, box[e.target].mid, box[e.source].mid, e.source))


@dataclass(frozen=True)
class Track:
    """One hidden read's way through the lane: where it drops, runs, rises, and its label."""

    edge: Edge
    y: float
    x_out: float
    x_in: float
    label: str
    label_x: float


def _lane_tracks(hidden: list[Edge], box: dict[str, Box], lane_top: float) -> list[Track]:
    """A deeper track drops closer to its source and rises closer to its reader, so drops and
    rises do not cross the tracks above them. A label sits on its track right of the drop, or,
    where the track is too short for it, under the readers, right of every rise."""
    step = min(7.0, (COL_GAP - 28) / max(len(hidden), 1))
    deeper_from_same_column: dict[float, int] = defaultdict(int)
    tracks = []
    for index in reversed(range(len(hidden))):
        edge = hidden[index]
        source, target = box[edge.source], box[edge.target]
        x_out = source.right + 14 + deeper_from_same_column[source.x] * step
        deeper_from_same_column[source.x] += 1
        x_in = target.x - 14 - (len(hidden) - 1 - index) * step
        sources = ", ".join(sorted(edge.hidden_reads)) or edge.source
        label = f"{sources} → {_plain(edge.target)}" + ("  (bypass)" if edge.bypass else "")
        fits = x_in - x_out - 16 >= len(label) * LABEL_CHAR_W
        tracks.append(
            Track(
                edge,
                lane_top + LANE_HEAD + index * LANE_TRACK,
                x_out,
                x_in,
                label,
                x_out + 10 if fits else target.x + 4,
            )
        )
    return sorted(tracks, key=lambda t: t.y)


def _lane_path(track: Track, source: Box, target: Box) -> str:
    """Right out of the dataset, down its column's gap to a track of its own, along the lane, up the
    gap before the readers and into the reader: never mixed with the grey curves."""
    edge, lane_y, x_out, x_in = track.edge, track.y, track.x_out, track.x_in
    r = 6
    d = (
        f"M{_n(source.right)},{_n(source.mid)} H{_n(x_out - r)} Q{_n(x_out)},{_n(source.mid)} {_n(x_out)},{_n(source.mid + r)} "
        f"V{_n(lane_y - r)} Q{_n(x_out)},{_n(lane_y)} {_n(x_out + r)},{_n(lane_y)} H{_n(x_in - r)} "
        f"Q{_n(x_in)},{_n(lane_y)} {_n(x_in)},{_n(lane_y - r)} V{_n(target.mid + r)} "
        f"Q{_n(x_in)},{_n(target.mid)} {_n(x_in + r)},{_n(target.mid)} H{_n(target.x - 1)}"
    )
    colour = BYPASS_COLOUR if edge.bypass else EDGE_COLOUR["hidden"]
    arrow = "orange" if edge.bypass else "red"
    classes = "edge hidden" + (" bypass" if edge.bypass else "")
    return (
        f'<g class="{classes}"><path class="{classes}" data-from="{esc(edge.source)}" data-to="{esc(edge.target)}" '
        f'd="{d}" fill="none" stroke="{colour}" stroke-width="1.6" stroke-dasharray="5 3" '
        f'marker-end="url(#arrow-{arrow})"/>'
        f'<text x="{_n(track.label_x)}" y="{_n(lane_y - 3)}" font-size="9.5" fill="{colour}">{esc(track.label)}</text></g>'
    )


def _plain(node_id: str) -> str:
    return node_id.split(":", 1)[1] if node_id.startswith(("consumer:", "principal:")) else node_id


def _node(node: Node, box: Box) -> str:
    e = esc
    stroke, tint = node.colour
    if node.kind in ("consumer", "principal"):
        fill, text, border = (
            ("#1e293b", "#f8fafc", "#1e293b") if node.kind == "consumer" else ("#fff", "#1e293b", "#475569")
        )
        dash = ' stroke-dasharray="3 2"' if node.kind == "principal" else ""
        shape = (
            f'<rect class="box" x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{box.h}" rx="11" '
            f'fill="{fill}" stroke="{border}"{dash}/>'
            f'<text x="{_n(box.x + 12)}" y="{_n(box.y + 15)}" font-size="11" fill="{text}">{e(node.label)}</text>'
        )
    else:
        fill = tint if node.public or node.kind == "collapsed" else "#ffffff"
        weight = ' font-weight="700"' if node.public else ""
        style = ' font-style="italic"' if node.kind == "collapsed" else ""
        shape = (
            f'<rect class="box" x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{box.h}" rx="4" fill="{fill}" '
            f'stroke="{stroke}" stroke-opacity="0.55"/>'
            f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="4" height="{box.h}" rx="1.5" fill="{stroke}"/>'
            f'<text x="{_n(box.x + 11)}" y="{_n(box.y + 15)}" font-size="11" fill="#0f172a"{weight}{style}>'
            f"{e(node.label)}</text>"
        )
    return (
        f'<a class="node {node.kind}" href="{e(node.href)}" data-node="{e(node.id)}"><title>{e(node.title)}</title>'
        f"{shape}</a>"
    )


def _n(value: float) -> str:
    """Coordinates with at most one decimal, so output is stable across platforms."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------------------------------------
# The picture's panel on the page


def picture_section(graph: Graph, geometry: Layout) -> str:
    """The page's panel for the picture: what it shows, a legend, and the SVG."""
    hidden = sum(1 for e in graph.edges if e.kind == HIDDEN)
    collapsed = ""
    if graph.collapsed:
        names = ", ".join(LAYER_TITLES[layer].lower() for layer in graph.collapsed)
        collapsed = (
            f" Collapsed to one node per domain to stay readable: {esc(names)} (the sections below list every dataset)."
        )
    legend = (
        '<ul class="legend">'
        f"<li>{_legend_line(EDGE_COLOUR['declared'], '')} lineage, declared read</li>"
        f"<li>{_legend_line(EDGE_COLOUR['stale'], '2 3')} stale declaration</li>"
        f"<li>{_legend_line(EDGE_COLOUR['hidden'], '5 3')} hidden read (own lane)</li>"
        f"<li>{_legend_line(BYPASS_COLOUR, '')} bypass of a private dataset</li>"
        '<li><span class="swatch public"></span> public dataset</li>'
        '<li><span class="swatch private"></span> private dataset</li>'
        '<li><span class="swatch consumer"></span> consumer</li>'
        "</ul>"
    )
    return (
        '<section class="panel" id="picture"><div class="panel-head"><h2>Dependency picture</h2>'
        f'<p class="muted">Data flows left to right, from what was landed to who reads it. '
        f"{len(graph.nodes)} nodes, {len(graph.edges)} edges, {hidden} hidden. Hover a node for its owner; "
        f"click it to jump to its entry.{collapsed}</p></div>{legend}"
        f'<div class="graph-wrap">{render_svg(graph, geometry)}</div></section>'
    )


def _legend_line(colour: str, dash: str) -> str:
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<svg width="34" height="10" aria-hidden="true"><line x1="1" y1="5" x2="33" y2="5" stroke="{colour}" '
        f'stroke-width="2"{dash_attr}/></svg>'
    )


# ---------------------------------------------------------------------------------------------
# Text


def esc(text: object) -> str:
    """Text for HTML and SVG alike: None as nothing, quotes escaped (it goes in attributes too)."""
    return html.escape("" if text is None else str(text), quote=True)


def counted(number: int, noun: str) -> str:
    """'1 dataset', '1,204 datasets'."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")
