"""The zoo's registry, listing, settings and generated report; each variant's own tests are in
tests/zoo/test_<variant>.py."""
import importlib
import json
from pathlib import Path

import pytest

import minigen as mg
from minigen.cli import main
from minigen.training.task import ConfigError
from minigen.zoo import load_all
from minigen.zoo.report import write_report

VARIANTS = load_all()
NAMES = sorted(VARIANTS)
TESTS = Path(__file__).parent


def test_registry_entries_are_complete():
    assert NAMES, "the zoo is empty"
    for v in VARIANTS.values():
        assert v.title and v.paper and v.idea and v.data and v.criterion and v.module, v.name
        assert v.seeds >= 3 and v.task.name == v.name
        # the module is the one that defines it, even when another variant imported it first
        assert any(x is v for x in vars(importlib.import_module(v.module)).values()), (v.name, v.module)


def test_every_variant_has_its_test_file():
    for name in NAMES:
        assert (TESTS / f"test_{name.replace('-', '_')}.py").exists(), name


@pytest.mark.parametrize("name", NAMES)
def test_distinctive_loss_gradcheck(name):
    fn, inputs, second_order = VARIANTS[name].gradcheck_case()
    assert mg.gradcheck(fn, inputs, name=name)
    if second_order:
        assert mg.gradgradcheck(fn, inputs, name=name)


def test_cli_lists_every_variant(capsys):
    main(["zoo"])
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out


def test_unknown_settings_are_refused_by_name(tmp_path, capsys):
    """--set with a name the variant never reads is an error that names it, not a silent no-op;
    every variant accepts its fast overrides and the settings of its defaults."""
    for v in VARIANTS.values():
        cfg = v.config(**v.fast)
        assert all(cfg[k] == x for k, x in v.fast.items()), v.name
        with pytest.raises(ConfigError, match=f"{v.name}: unknown setting.*hiden"):
            v.config(hiden=3)
    assert main(["train", "dcgan", "--steps", "1", "--set", "chh=3", "--out", str(tmp_path)]) == 2
    assert "unknown setting(s) chh; known: " in capsys.readouterr().err
    assert main(["train", "dcgan", "--steps", "1", "--set", "ch", "--out", str(tmp_path)]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main(["train", "dcgan", "--steps", "1", "--set", "ch=wide", "--out", str(tmp_path)]) == 2
    assert "ch must be int" in capsys.readouterr().err


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
