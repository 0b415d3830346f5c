"""A layered drawing of a DAG in pure Python (the Sugiyama method), top to bottom, for graphs of tens of
nodes:

1. layers by longest path: ``layer(v) = 1 + max layer(u)`` over the edges u -> v, sources at 0; then each
   source moves down to just above its first consumer (a weight sits beside the op that uses it);
2. an edge spanning k > 1 layers gets k - 1 dummy nodes, so it is routed and ordered like a chain;
3. order within layers by barycentre sweeps, ``b(v) = mean position of v's neighbours`` in the layer
   above (sweeping down) or below (sweeping up), keeping the order with the fewest crossings;
4. x by repeatedly pulling each node towards its neighbours' mean x, never closer than ``gap_x`` to the
   next node; y from the layers' heights.

Sizes are in pixels; ``(x, y)`` is a node's centre.  Edges leave a node's bottom and enter the next one's
top, spread over its width in the order of their sources.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise


@dataclass
class Layout:
    pos: dict                    # key -> (x, y), the centre
    size: dict                   # key -> (w, h)
    routes: list                 # one list of (x, y) points per edge, source to target
    layer: dict                  # key -> layer index (0 at the top)
    width: float = 0.0
    height: float = 0.0
    crossings: int = 0
    order: list = field(default_factory=list)   # the layers' keys, dummies included, left to right


def _topological(keys, preds) -> list:
    indeg = {k: len(set(preds[k])) for k in keys}
    succs = {k: [] for k in keys}
    for k in keys:
        for p in set(preds[k]):
            succs[p].append(k)
    ready = [k for k in keys if indeg[k] == 0]
    order = []
    while ready:
        k = ready.pop()
        order.append(k)
        for s in succs[k]:
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if len(order) != len(keys):
        raise ValueError("layout: the graph has a cycle; only a DAG (a computation graph) can be layered")
    return order


def assign_layers(keys, edges) -> dict:
    """Longest-path layers (sources at 0), then sources moved down next to their first consumer."""
    preds = {k: [] for k in keys}
    succs = {k: [] for k in keys}
    for u, v in edges:
        preds[v].append(u)
        succs[u].append(v)
    layer = {}
    for k in _topological(keys, preds):
        layer[k] = 1 + max((layer[p] for p in preds[k]), default=-1)
    for k in keys:
        if not preds[k] and succs[k]:
            layer[k] = min(layer[s] for s in succs[k]) - 1
    return layer


def crossings(order: list, down: dict) -> int:
    """Edge crossings between consecutive layers; ``down[v]``: v's neighbours in the next layer."""
    total = 0
    for upper, lower in pairwise(order):
        pos = {k: i for i, k in enumerate(lower)}
        ends = [(i, pos[w]) for i, v in enumerate(upper) for w in down.get(v, ()) if w in pos]
        total += sum(1 for a in range(len(ends)) for b in range(a + 1, len(ends))
                     if (ends[a][0] - ends[b][0]) * (ends[a][1] - ends[b][1]) < 0)
    return total


def _sweep(order, up, down, downward: bool):
    rng = range(1, len(order)) if downward else range(len(order) - 2, -1, -1)
    for i in rng:
        ref = order[i - 1] if downward else order[i + 1]
        pos = {k: j for j, k in enumerate(ref)}
        nbrs = up if downward else down
        scale = len(ref) / max(1, len(order[i]))       # a node without neighbours there keeps its place
        keyed = []
        for j, k in enumerate(order[i]):
            ps = [pos[n] for n in nbrs.get(k, ()) if n in pos]
            keyed.append((sum(ps) / len(ps) if ps else j * scale, j, k))
        order[i] = [k for _, _, k in sorted(keyed)]


def layout(sizes: dict, edges: list, gap_x: float = 22.0, gap_y: float = 40.0, margin: float = 12.0,
           sweeps: int = 12, dummy_width: float = 8.0) -> Layout:
    """Place the nodes ``sizes`` ({key: (w, h)}, in the order found) joined by ``edges`` [(src, dst)]."""
    keys = list(sizes)
    unknown = [e for e in edges if e[0] not in sizes or e[1] not in sizes]
    if unknown:
        raise ValueError(f"layout: edges {unknown[:3]} name nodes that are not in the graph")
    layer = assign_layers(keys, edges)
    size = dict(sizes)
    # chains of dummies through the layers a long edge crosses
    chains, up, down = [], {}, {}
    for u, v in edges:
        chain = [u]
        for i in range(layer[u] + 1, layer[v]):
            d = ("dummy", u, v, i)
            if d not in layer:
                layer[d] = i
                size[d] = (dummy_width, 0.0)
            chain.append(d)
        chain.append(v)
        chains.append(chain)
        for a, b in pairwise(chain):
            if b not in down.setdefault(a, []):
                down[a].append(b)
                up.setdefault(b, []).append(a)
    n_layers = max(layer.values(), default=-1) + 1
    order = [[] for _ in range(n_layers)]
    for k in layer:                                  # first seen first: the output's depth-first order
        order[layer[k]].append(k)
    best, best_c = [list(r) for r in order], crossings(order, down)
    for it in range(sweeps):
        _sweep(order, up, down, downward=it % 2 == 0)
        c = crossings(order, down)
        if c < best_c:
            best, best_c = [list(r) for r in order], c
    order = best

    # x: start packed, then pull towards neighbours, keeping the gaps and the order
    x = {}
    for row in order:
        cur = 0.0
        for k in row:
            w = size[k][0]
            x[k] = cur + w / 2
            cur += w + gap_x
    for it in range(24):
        rows = range(n_layers) if it % 2 == 0 else range(n_layers - 1, -1, -1)
        for i in rows:
            row = order[i]
            want = []
            for k in row:
                nb = up.get(k, []) + down.get(k, [])
                want.append(sum(x[n] for n in nb) / len(nb) if nb else x[k])
            x.update(zip(row, _separate(row, want, size, gap_x)))
    left = min((x[k] - size[k][0] / 2 for k in x), default=0.0)
    for k in x:
        x[k] += margin - left
    # y: each layer as tall as its tallest node
    y, top = {}, margin
    for row in order:
        h = max((size[k][1] for k in row), default=0.0)
        for k in row:
            y[k] = top + h / 2
        top += h + gap_y
    pos = {k: (x[k], y[k]) for k in layer}
    routes = [_route(chain, pos, size, edges, i) for i, chain in enumerate(chains)]
    width = max((x[k] + size[k][0] / 2 for k in x), default=0.0) + margin
    return Layout({k: pos[k] for k in keys}, {k: sizes[k] for k in keys}, routes,
                  {k: layer[k] for k in keys}, width, top - gap_y + margin, best_c, order)


def _separate(row, want, size, gap) -> list:
    """Positions as close to ``want`` as the order and gaps allow: pushed right, pushed left, averaged."""
    n = len(row)
    need = [(size[row[i]][0] + size[row[i + 1]][0]) / 2 + gap for i in range(n - 1)]
    right = list(want)
    for i in range(1, n):
        right[i] = max(right[i], right[i - 1] + need[i - 1])
    left = list(want)
    for i in range(n - 2, -1, -1):
        left[i] = min(left[i], left[i + 1] - need[i])
    out = [(a + b) / 2 for a, b in zip(left, right)]
    for i in range(1, n):                            # the average of two valid placements may still touch
        out[i] = max(out[i], out[i - 1] + need[i - 1])
    return out


def _route(chain, pos, size, edges, index) -> list:
    """Points of one edge: the source's bottom, the dummies, a port on the target's top."""
    u, v = chain[0], chain[-1]
    ins = [i for i, e in enumerate(edges) if e[1] == v]
    ins.sort(key=lambda i: (pos[edges[i][0]][0], i))
    w = size[v][0]
    spread = min(0.6 * w, 14.0 * (len(ins) - 1))
    port = ins.index(index)
    dx = 0.0 if len(ins) == 1 else -spread / 2 + spread * port / (len(ins) - 1)
    pts = [(pos[u][0], pos[u][1] + size[u][1] / 2)]
    pts += [pos[d] for d in chain[1:-1]]
    pts.append((pos[v][0] + dx, pos[v][1] - size[v][1] / 2))
    return pts
