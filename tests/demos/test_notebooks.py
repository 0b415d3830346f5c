"""The demos open as notebooks: each is in jupytext's percent format (code cells, markdown cells with the
course's explanation), and one converted with jupytext runs top to bottom in a Jupyter kernel."""
import os

import pytest

from helpers import DEMOS


@pytest.mark.parametrize("path", sorted(DEMOS.glob("*.py")), ids=lambda p: p.stem)
def test_demo_is_in_percent_format(path):
    s = path.read_text()
    assert s.count("\n# %% [markdown]\n") >= 2, "explain the demo in markdown cells"
    assert s.count("\n# %%\n") >= 3, "split the code into cells"
    assert "$" in s.split("# %% [markdown]")[1], "the first markdown cell carries the course's formulas"
    # a notebook kernel has no __file__ and argv of its own: the last cell runs main with the defaults
    assert 'main(None if "__file__" in globals() else [])' in s


def test_walkthrough_runs_as_a_notebook(tmp_path, monkeypatch):
    why = "the notebooks extra is not installed (pip install -e '.[notebooks]')"
    jupytext = pytest.importorskip("jupytext", reason=why)
    nbclient = pytest.importorskip("nbclient", reason=why)
    pytest.importorskip("ipykernel", reason=why)
    nb = jupytext.read(DEMOS / "reparam_walkthrough.py")
    assert [c.cell_type for c in nb.cells].count("markdown") >= 5
    # the kernel imports this checkout's minigen, and writes its runs/ under tmp_path
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(DEMOS.parent), os.environ.get("PYTHONPATH")) if p))
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "== 4. each gradient by hand, by autograd, by finite differences ==" in text
    out = tmp_path / "runs" / "demos" / "reparam_walkthrough"
    assert (out / "backprop.html").exists() and (out / "graph.png").exists()
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)          # the graph, inline
