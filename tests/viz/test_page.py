"""The backward page: self-contained, one step per op in the engine's order, each with its table rule, the
gradients in and out and the sums where paths meet; and, in a real headless browser, the walkthrough's
page stepped through op by op shows autograd's gradients."""
import re

import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen.viz.nodes import collect
from minigen.viz.page import SMALL, build
from minigen.viz.rules import rule_for

from helpers import load_demo


def test_page_is_one_self_contained_file(tmp_path, small):
    p = mg.viz.backward_page(small["loss"], tmp_path / "page.html")
    html = p.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<script>" in html
    assert re.findall(r"https?://[^\"' ]+", html) == ["http://www.w3.org/2000/svg"]   # a namespace, not fetched
    assert not re.search(r"<script[^>]+src=|<link|@import|<img", html)
    assert small["layer"].weight.grad is None and small["x"].grad is None            # .grad left alone
    with pytest.raises(ValueError, match=r"must end in \.html"):
        mg.viz.backward_page(small["loss"], tmp_path / "page.svg")


def test_each_step_shows_its_op_rule_sums_and_broadcasts(small):
    data = build(small["loss"])
    g = collect(small["loss"])
    ops = {n.key: n for n in g.nodes if n.kind == "op"}
    steps = data["steps"]
    assert len(steps) == len(ops) and {s["node"] for s in steps} == set(ops)
    for i, s in enumerate(steps):
        assert f"step {i + 1} of {len(steps)}" in s["html"]
        rule = rule_for(ops[s["node"]].fn)
        assert rule.text.splitlines()[0].replace("'", "&#x27;").replace(">", "&gt;") in s["html"]
        assert all(g.edges[k].dst == s["node"] for k in s["sent"])
        assert all(g.edges[k].src == s["node"] for k in s["incoming"])
    linear = next(s for s in steps if s["op"] == "Linear")
    assert "Σ axis 0: summed over the broadcast axes back to (2,)" in linear["html"]
    assert "2 paths meet at x" in linear["html"]                     # x feeds Linear and Abs
    assert "the start of the backward pass" in steps[0]["html"]


def test_large_tensors_are_summarised():
    w = mg.tensor(np.linspace(-1, 1, 3 * SMALL).reshape(3, SMALL), requires_grad=True)
    loss = F.sum(F.tanh(w))
    html = build(loss)["steps"][1]["html"]
    assert f"{3 * SMALL} values" in html and 'class="hist"' in html and 'class="norm"' in html
    assert 'class="v"' not in html.split("gradients sent")[1]


def _walkthrough_gradients():
    """Autograd's gradient of every tensor of the walkthrough's loss, by node key (a fresh graph built as the
    demo builds it)."""
    demo = load_demo("reparam_walkthrough")
    model = demo.build_model(0.5, None)
    x = mg.tensor(mg.to_device(np.asarray(demo.X, np.float64)))
    eps = mg.tensor(mg.to_device(np.array([[0.7]])))
    loss = demo.forward(model, x, eps)["loss"]
    g = collect(loss)
    for n in g.nodes:
        if n.kind == "op":
            n.tensor.retain_grad()
    loss.backward()
    return {n.key: n.tensor.grad.numpy() for n in g.nodes if n.tensor is not None and n.tensor.grad is not None}, g


def _numbers(elements):
    return np.array([float(e.text) for e in elements])


def test_walkthrough_page_in_a_browser(tmp_path, browser):
    from selenium.webdriver.common.by import By
    load_demo("reparam_walkthrough").main(["--out", str(tmp_path), "--quiet"])
    expected, g = _walkthrough_gradients()
    browser.get((tmp_path / "backprop.html").as_uri())
    n_ops = sum(n.kind == "op" for n in g.nodes)
    sent: dict = {}
    seen = []
    for i in range(n_ops):
        if i:
            browser.find_element(By.ID, "next").click()
        assert browser.find_element(By.ID, "counter").text == f"step {i + 1} / {n_ops}"
        current = browser.find_elements(By.CSS_SELECTOR, "#graph .node.current")
        assert len(current) == 1
        key = current[0].get_attribute("data-key")
        seen.append(key)
        panel = browser.find_element(By.ID, "panel")
        assert g.node(key).title in panel.find_element(By.CSS_SELECTOR, "h2").text
        assert panel.find_element(By.CSS_SELECTOR, "pre.rule").text.strip()        # the table's rule
        incoming = panel.find_element(By.CSS_SELECTOR, "[data-role=incoming]")
        assert incoming.get_attribute("data-node") == key
        np.testing.assert_allclose(_numbers(incoming.find_elements(By.CSS_SELECTOR, "td.v")),
                                   expected[key].reshape(-1), rtol=2e-5, atol=1e-9)
        for el in panel.find_elements(By.CSS_SELECTOR, "[data-role=sent]"):
            k = el.get_attribute("data-node")
            sent[k] = sent.get(k, 0) + _numbers(el.find_elements(By.CSS_SELECTOR, "td.v"))
    assert sorted(seen) == sorted(n.key for n in g.nodes if n.kind == "op")      # every op, once
    assert browser.find_element(By.ID, "next").get_attribute("disabled")        # the last step
    # what the steps sent to a tensor adds up to its gradient: the paths meeting at it summed
    assert set(sent) == set(expected) - {g.nodes[0].key}
    for k, total in sent.items():
        np.testing.assert_allclose(total, expected[k].reshape(-1), rtol=1e-4, atol=1e-6, err_msg=k)
    # back to the step where z = mu + sigma eps sends its gradient to mu (3 paths meet there), then a picture
    browser.find_element(By.TAG_NAME, "body").send_keys(*["\ue012"] * (n_ops - 1 - seen.index(
        next(n.key for n in g.nodes if n.name == "z"))))                         # ← arrow keys
    assert "3 paths meet at mu" in browser.find_element(By.ID, "panel").text
    shot = tmp_path / "page.png"
    assert browser.save_screenshot(str(shot))
    import matplotlib.image
    img = matplotlib.image.imread(shot)[..., :3]
    assert (img.mean(axis=2) < 0.9).mean() > 0.02                              # not blank
    orange = np.abs(img - np.array([0xE8, 0x59, 0x0C]) / 255).max(axis=2) < 0.08
    assert orange.sum() > 50                                                   # the highlighted op is drawn
