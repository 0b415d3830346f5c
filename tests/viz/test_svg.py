"""The SVG written directly: one group per node with its label, one path per edge, broadcast marks."""
import xml.etree.ElementTree as ET

from minigen.viz import svg
from minigen.viz.draw import lay_out
from minigen.viz.nodes import collect

NS = "{http://www.w3.org/2000/svg}"


def test_nodes_edges_labels_and_marks(small):
    small["loss"].backward(retain_graph=True)
    g = collect(small["loss"])
    root = ET.fromstring(svg.render(g, lay_out(g)))
    groups = [e for e in root.iter(f"{NS}g") if "node" in e.get("class", "").split()]
    assert len(groups) == len(g.nodes)
    for grp, n in zip(groups, g.nodes):
        assert grp.get("id") == f"node-{n.key}" and n.kind in grp.get("class")
        assert [t.text for t in grp.iter(f"{NS}text")] == n.lines
    paths = [p for p in root.iter(f"{NS}path") if p.get("id", "").startswith("edge-")]
    assert [(p.get("data-src"), p.get("data-dst")) for p in paths] == [(e.src, e.dst) for e in g.edges]
    marks = [t.text for t in root.iter(f"{NS}text") if t.get("class") == "edge-mark"]
    assert marks == ["Σ axis 0"]                                   # the bias, summed over the batch
    texts = " ".join(t.text for t in root.iter(f"{NS}text"))
    for word in ("Linear", "weight", "bias", "target", "|grad|", "Abs", "0.5", "parameter", "input"):
        assert word in texts, word


def test_curve_passes_through_its_points():
    d = svg.curve([(0, 0), (10, 20), (30, 40)])
    assert d.startswith("M0.0,0.0") and d.count("C") == 2 and d.endswith("30.0,40.0")
