"""draw(): SVG and PNG with nothing but matplotlib, DOT text, Graphviz only when asked for or present."""
import os
import shutil
import stat
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen.viz.dot import to_dot
from minigen.viz.nodes import collect


@pytest.fixture
def no_graphviz(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "dot" else real(name, *a, **k))


def test_svg_png_dot_without_graphviz(tmp_path, small, no_graphviz):
    loss = small["loss"]
    n_nodes = len(collect(loss).nodes)
    s = mg.viz.draw(loss, tmp_path / "g.svg")
    root = ET.parse(s).getroot()
    assert sum("node" in e.get("class", "").split() for e in root.iter("{http://www.w3.org/2000/svg}g")) == n_nodes
    assert "Linear" in s.read_text() and "target" in s.read_text()
    p = mg.viz.draw(loss, tmp_path / "sub" / "g.png")
    import matplotlib.image
    img = matplotlib.image.imread(p)[..., :3]
    assert img.shape[0] > 200 and img.shape[1] > 200
    ink = (img.mean(axis=2) < 0.9).mean()                       # share of pixels that are not white
    assert 0.01 < ink < 0.5
    assert len(np.unique(img.reshape(-1, 3).round(2), axis=0)) > 8   # the kinds' colours, not one grey
    d = mg.viz.draw(loss, tmp_path / "g.dot")
    assert d.read_text() == to_dot(collect(loss))


def test_graphviz_is_used_when_present_with_the_same_content(tmp_path, small, monkeypatch):
    # a stand-in 'dot' that writes what it was given: draw must hand it the DOT of the same graph
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\ncat > "$3"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    out = mg.viz.draw(small["loss"], tmp_path / "g.svg")
    assert out.read_text() == to_dot(collect(small["loss"]))
    out = mg.viz.draw(small["loss"], tmp_path / "py.svg", engine="python")     # python: never dot
    assert out.read_text().startswith("<svg")


def test_refusals(tmp_path, small, no_graphviz):
    with pytest.raises(ValueError, match=r"must end in \.svg, \.png, \.dot, \.gv"):
        mg.viz.draw(small["loss"], tmp_path / "g.jpg")
    with pytest.raises(ValueError, match="engine must be one of"):
        mg.viz.draw(small["loss"], tmp_path / "g.svg", engine="tikz")
    with pytest.raises(RuntimeError, match="Graphviz's 'dot'.*engine='python'"):
        mg.viz.draw(small["loss"], tmp_path / "g.svg", engine="graphviz")


def test_a_large_graph_is_refused_with_advice(tmp_path, no_graphviz):
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(200):
        y = F.tanh(y)
    with pytest.raises(ValueError, match=r"more than 120 nodes.*smaller part"):
        mg.viz.draw(y, tmp_path / "g.svg")
    assert not (tmp_path / "g.svg").exists()
    mg.viz.draw(y, tmp_path / "g.svg", max_nodes=None)          # asked for: drawn anyway
    assert (tmp_path / "g.svg").stat().st_size > 0


def test_svg_text_for_notebooks(small):
    assert mg.viz.svg_text(small["loss"]).startswith("<svg")
