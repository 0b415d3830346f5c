"""``minigen.viz.backward_page(loss, "backprop.html")``: one self-contained HTML file (the graph as inline
SVG, a little plain JavaScript, nothing fetched) that steps through the backward pass of ``loss``.

"next" / "previous" (or the arrow keys) walk the engine's steps in execution order.  Each step highlights
the op, and shows

* the gradient that reached its output, dL/dy: where several paths meet at y, each path's part and their
  sum (the multivariate chain rule, dL/dy = sum over the consumers c of y of the gradient c sent);
* its derivative rule, the row of its ops file's table (:mod:`minigen.viz.rules`);
* the gradient it sends to each input (marked where it is summed over broadcast axes), and where that
  input is reached by several paths, the other paths and the sum.

A tensor of at most :data:`SMALL` values is shown value by value, a larger one by its norm, mean, range
and a small histogram.  The numbers come from the engine's own pass (:mod:`minigen.viz.steps`); ``.grad``
is left as it was.
"""
from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np

from minigen.autograd.tensor import Tensor
from minigen.viz import style, svg
from minigen.viz.draw import lay_out
from minigen.viz.nodes import MAX_NODES, collect
from minigen.viz.rules import rule_for
from minigen.viz.steps import record

SMALL = 16                       # a tensor with this many values or fewer is shown value by value
BINS = 12


def fmt(v: float) -> str:
    """How every number on the page is written (6 significant digits)."""
    return f"{v:.6g}"


def tensor_html(a: np.ndarray) -> str:
    """The values of a small array as a grid (rows along the last axis), or a summary of a large one."""
    shape = "scalar" if a.ndim == 0 else "(" + ", ".join(map(str, a.shape)) + (",)" if a.ndim == 1 else ")")
    if a.size <= SMALL:
        rows = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
        body = "".join("<tr>" + "".join(f'<td class="v">{fmt(float(v))}</td>' for v in r) + "</tr>" for r in rows)
        return f'<div class="shape">{shape}</div><table class="values">{body}</table>'
    flat = a.reshape(-1)
    counts, edges = np.histogram(flat, bins=BINS)
    top = max(int(counts.max()), 1)
    bars = "".join(f'<rect x="{i * 10}" y="{30 - 28 * c / top:.1f}" width="9" height="{28 * c / top:.1f}"/>'
                   for i, c in enumerate(counts))
    return (f'<div class="shape">{shape}, {a.size} values</div>'
            f'<div class="summary">norm <span class="norm">{fmt(float(np.linalg.norm(flat)))}</span>, '
            f'mean {fmt(float(flat.mean()))}, range [{fmt(float(flat.min()))}, {fmt(float(flat.max()))}]</div>'
            f'<svg class="hist" width="{BINS * 10}" height="31" viewBox="0 0 {BINS * 10} 31">{bars}'
            f'<title>histogram, {BINS} bins from {fmt(float(edges[0]))} to {fmt(float(edges[-1]))}</title></svg>')


def _label(n) -> str:
    """A tensor as the page names it: its name, else its op and value (or shape), so two Muls differ."""
    if n.name:
        return n.name
    if n.kind != "op":
        return n.title
    return f"{n.title}'s output " + (f"= {n.value:.4g}" if n.value is not None else str(n.shape))


def _steps(paths) -> str:
    """"steps 12, 21 (twice)": which steps sent the gradients that meet at one tensor."""
    seen: dict = {}
    for p in paths:
        seen[p[0]] = seen.get(p[0], 0) + 1
    return ", ".join(f"{j + 1}" + ("" if c == 1 else " (twice)" if c == 2 else f" ({c} times)")
                     for j, c in seen.items())


def build(loss: Tensor, max_nodes: int | None = MAX_NODES) -> dict:
    """Everything the page shows: the graph's SVG and, per step, its op, highlights and panel HTML."""
    graph = collect(loss, max_nodes)
    lay = lay_out(graph)
    steps = record(loss)
    key_of_fn = {id(n.fn): n.key for n in graph.nodes if n.kind == "op"}
    key_of_tensor = {id(n.tensor): n.key for n in graph.nodes if n.tensor is not None}
    nodes = {n.key: n for n in graph.nodes}
    # every gradient that reaches a tensor: [(step, op key, array)], in execution order
    reach: dict[str, list] = {}
    for s in steps:
        for a, g in zip(s.fn.inputs, s.grad_inputs):
            if g is not None and isinstance(a, Tensor):
                reach.setdefault(key_of_tensor[id(a)], []).append((s.index, key_of_fn[id(s.fn)], g))
    out = []
    for s in steps:
        key = key_of_fn[id(s.fn)]
        node = nodes[key]
        rule = rule_for(s.fn)
        parts = [f'<h2>step {s.index + 1} of {len(steps)}: <span class="op">{escape(s.fn.name)}</span></h2>',
                 f'<div class="made">made {escape(_label(node))}</div>',
                 f'<h3>gradient arriving at {escape(_label(node))}</h3>']
        came = reach.get(key, [])
        if not came:
            parts.append('<div class="note">the start of the backward pass: dL/dL = 1</div>')
        elif len(came) > 1:
            parts.append(f'<div class="meet">{len(came)} paths meet here; their gradients add up:</div>')
            for j, k, g in came:
                parts.append(f'<div class="part" data-step="{j}">from step {j + 1} ({escape(nodes[k].title)}):'
                             f"{tensor_html(g)}</div>")
            parts.append('<div class="meet">sum:</div>')
        parts.append(f'<div class="tensor" data-role="incoming" data-node="{key}">{tensor_html(s.grad_output)}</div>')
        parts.append("<h3>local derivative rule</h3>")
        if rule is None:
            parts.append(f'<div class="note">{escape(s.fn.name)} is defined outside minigen/ops: no table row</div>')
        else:
            parts.append(f'<pre class="rule">{escape(rule.text)}</pre><div class="source">from the table in '
                         f'{escape(rule.source)}: {escape(rule.legend)}</div>')
        parts.append("<h3>gradients sent to the inputs</h3>")
        sent_edges = []
        for i, (a, g) in enumerate(zip(s.fn.inputs, s.grad_inputs)):
            if not isinstance(a, Tensor):
                parts.append(f'<div class="input none">input {i}: a constant ({escape(repr(a)[:30])}), no gradient</div>')
                continue
            tk = key_of_tensor[id(a)]
            target = nodes[tk]
            if g is None:
                parts.append(f'<div class="input none">input {i}: {escape(_label(target))}, needs no gradient</div>')
                continue
            edge = next(e for e in graph.edges if e.src == tk and e.dst == key and e.arg == i)
            sent_edges.append(graph.edges.index(edge))
            mark = (f' <span class="summed">{escape(style.summed_label(edge.summed))}: summed over the broadcast '
                    f'axes back to {a.shape}</span>' if edge.summed else "")
            parts.append(f'<div class="input"><div>input {i}: dL/d({escape(_label(target))}){mark}</div>'
                         f'<div class="tensor" data-role="sent" data-node="{tk}" data-arg="{i}">{tensor_html(g)}</div>')
            paths = reach[tk]
            if len(paths) > 1:
                n_done = sum(1 for p in paths if p[0] <= s.index)
                total = sum(p[2] for p in paths)
                so_far = sum(p[2] for p in paths[:n_done])
                word = "complete" if n_done == len(paths) else f"{n_done} of {len(paths)} so far"
                parts.append(f'<div class="meet">{len(paths)} paths meet at {escape(_label(target))} (steps '
                             f'{_steps(paths)}); their sum, {word}:{tensor_html(so_far)}'
                             + ("" if n_done == len(paths) else f"<div>when all have arrived:</div>{tensor_html(total)}")
                             + "</div>")
            parts.append("</div>")
        consumers = [i for i, e in enumerate(graph.edges) if e.src == key and e.grad]
        out.append({"node": key, "op": s.fn.name, "html": "".join(parts), "incoming": consumers,
                    "sent": sent_edges})
    return {"svg": svg.render(graph, lay), "steps": out, "n_nodes": len(graph.nodes)}


def backward_page(loss: Tensor, path, title: str | None = None, max_nodes: int | None = MAX_NODES) -> Path:
    """Write the page that steps through ``loss``'s backward pass to ``path``.

    Call it before ``loss.backward()`` or after ``backward(retain_graph=True)``; ``.grad`` is not changed.
    Returns the path written.
    """
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"backward_page: the file name must end in .html, got {path.name!r}")
    data = build(loss, max_nodes)
    title = title or "minigen: the backward pass, step by step"
    steps_json = json.dumps(data["steps"]).replace("</", "<\\/")
    html = (_TEMPLATE.replace("{{TITLE}}", escape(title)).replace("{{SVG}}", data["svg"])
            .replace("{{STEPS}}", steps_json)
            .replace("{{HL}}", style.HIGHLIGHT))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>
body { margin: 0; font: 14px "DejaVu Sans", Helvetica, Arial, sans-serif; display: flex; height: 100vh; }
#graph { flex: 1; overflow: auto; border-right: 1px solid #ccc; }
#side { width: 500px; display: flex; flex-direction: column; }
#controls { padding: 8px 10px; border-bottom: 1px solid #ccc; background: #f6f6f6; }
#controls button { font-size: 14px; padding: 3px 12px; }
#panel { padding: 4px 12px 20px; overflow: auto; flex: 1; }
h1 { font-size: 15px; margin: 0 0 6px; }
h2 { font-size: 15px; margin: 10px 0 4px; } h3 { font-size: 13px; margin: 12px 0 3px; color: #444; }
.op { color: {{HL}}; } .shape, .source, .made { color: #666; font-size: 12px; }
table.values { border-collapse: collapse; font-family: monospace; }
table.values td { border: 1px solid #ddd; padding: 1px 6px; text-align: right; }
pre.rule { background: #f3f6fa; padding: 6px; margin: 0; font-size: 11px; white-space: pre-wrap; }
.input { margin: 6px 0; padding: 4px 6px; border-left: 3px solid {{HL}}; }
.input.none { border-left-color: #bbb; color: #777; }
.meet { color: #7048e8; margin-top: 4px; } .part { margin-left: 10px; }
.summed { color: #b5006b; } .hist rect { fill: #4c6ef5; } .note { color: #555; font-style: italic; }
svg.minigen-graph .node.current rect { stroke: {{HL}}; stroke-width: 4; }
svg.minigen-graph .node.done rect { opacity: 0.55; }
svg.minigen-graph .edge.incoming { stroke: #7048e8; stroke-width: 3; }
svg.minigen-graph .edge.sent { stroke: {{HL}}; stroke-width: 3; }
</style></head>
<body>
<div id="graph">{{SVG}}</div>
<div id="side">
 <div id="controls"><h1>{{TITLE}}</h1>
  <button id="prev">&larr; previous</button> <button id="next">next &rarr;</button>
  <span id="counter"></span>
  <div class="shape">purple: the gradient arriving at the op &middot; orange: what it sends to its inputs
  &middot; keys: &larr; &rarr;</div></div>
 <div id="panel"></div>
</div>
<script type="application/json" id="steps">{{STEPS}}</script>
<script>
(function () {
  var steps = JSON.parse(document.getElementById("steps").textContent);
  var at = 0;
  function each(sel, f) { Array.prototype.forEach.call(document.querySelectorAll(sel), f); }
  function show(i) {
    at = Math.max(0, Math.min(steps.length - 1, i));
    var s = steps[at];
    each(".node", function (n) { n.classList.remove("current", "done"); });
    each(".edge", function (e) {
      e.classList.remove("incoming", "sent");
      e.setAttribute("marker-end", e.classList.contains("summed") ? "url(#arrow-summed)" : "url(#arrow)");
    });
    for (var j = 0; j < at; j++) document.getElementById("node-" + steps[j].node).classList.add("done");
    var node = document.getElementById("node-" + s.node);
    node.classList.add("current");
    s.incoming.forEach(function (k) { document.getElementById("edge-" + k).classList.add("incoming"); });
    s.sent.forEach(function (k) {
      var e = document.getElementById("edge-" + k);
      e.classList.add("sent"); e.setAttribute("marker-end", "url(#arrow-hl)");
    });
    document.getElementById("panel").innerHTML = s.html;
    document.getElementById("counter").textContent = "step " + (at + 1) + " / " + steps.length;
    document.getElementById("prev").disabled = at === 0;
    document.getElementById("next").disabled = at === steps.length - 1;
    node.scrollIntoView({block: "center", inline: "center"});
  }
  document.getElementById("next").onclick = function () { show(at + 1); };
  document.getElementById("prev").onclick = function () { show(at - 1); };
  document.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight" || e.key === "ArrowDown") { show(at + 1); e.preventDefault(); }
    if (e.key === "ArrowLeft" || e.key === "ArrowUp") { show(at - 1); e.preventDefault(); }
  });
  show(0);
})();
</script>
</body></html>
"""
