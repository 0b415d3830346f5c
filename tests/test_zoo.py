"""Every zoo variant: its distinctive loss is gradchecked (second order where it differentiates a
gradient), a seconds-long run works, and the registry, CLI listing and report are consistent."""
import importlib
import json
import math

import pytest

import minigen as mg
from minigen.cli import main
from minigen.zoo import load_all
from minigen.zoo.report import write_report

VARIANTS = load_all()
NAMES = sorted(VARIANTS)


@pytest.mark.parametrize("name", NAMES)
def test_distinctive_loss_gradcheck(name):
    fn, inputs, second_order = VARIANTS[name].gradcheck_case()
    assert mg.gradcheck(fn, inputs, name=name)
    if second_order:
        assert mg.gradgradcheck(fn, inputs, name=name)


@pytest.mark.parametrize("name", NAMES)
def test_fast_run(name, tmp_path):
    v = VARIANTS[name]
    res = v.fit(v.config(**v.fast), seed=0, out=tmp_path, quiet=True)
    numbers = {k: x for k, x in res.items() if isinstance(x, (int, float))}
    assert numbers and not any(math.isnan(x) for x in numbers.values())   # inf is a legit reverse KL
    assert (tmp_path / v.figure).exists()
    measured, passed = v.judge([res])
    assert isinstance(measured, str) and isinstance(passed, bool)


def test_registry_entries_are_complete():
    assert NAMES, "the zoo is empty"
    for v in VARIANTS.values():
        assert v.title and v.paper and v.idea and v.data and v.criterion and v.module, v.name
        assert v.seeds >= 3
        # the module is the one that defines it, even when another variant imported it first
        assert any(x is v for x in vars(importlib.import_module(v.module)).values()), (v.name, v.module)


def test_cli_lists_every_variant(capsys):
    main(["zoo"])
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out


def test_unknown_settings_are_refused_by_name(tmp_path):
    """--set with a name the variant never reads is an error that names it, not a silent no-op;
    every variant accepts its fast overrides and the settings of its defaults."""
    for v in VARIANTS.values():
        cfg = v.config(**v.fast)
        assert all(cfg[k] == x for k, x in v.fast.items()), v.name
        with pytest.raises(ValueError, match=f"{v.name}: unknown setting.*hiden"):
            v.config(hiden=3)
    with pytest.raises(SystemExit, match="unknown setting.*chh; known: .*ch, data"):
        main(["train", "dcgan", "--steps", "1", "--set", "chh=3", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        main(["train", "dcgan", "--steps", "1", "--set", "ch", "--out", str(tmp_path)])


def test_report_is_generated_from_rows(tmp_path):
    fig = tmp_path / "f.png"
    fig.write_bytes(b"\x89PNG fake")
    rows = [{"name": "x", "title": "X-GAN", "paper": "P 2020", "idea": "an idea", "data": "ring8",
             "criterion": "c", "measured": "modes 8.0 ± 0.0 / 8", "passed": True, "seeds": 3, "seconds": 1.0,
             "figure": str(fig), "results": []}]
    path = write_report(rows, tmp_path / "docs" / "zoo.md")
    text = path.read_text()
    assert "| **X-GAN** (`x`)" in text and "pass" in text and "zoo/x.png" in text
    assert json.loads((tmp_path / "docs" / "zoo" / "results.json").read_text())[0]["name"] == "x"
