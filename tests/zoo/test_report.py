"""docs/zoo.md is generated: it is exactly what docs/zoo/results.json renders, every stored verdict is what
the variant's judge says of the stored per-seed results, a check with too few seeds cannot pass, and the
fast variants' seed 0 reproduces its stored numbers."""
import json
import math
from pathlib import Path

import pytest

from minigen.zoo import load_all, report
from minigen.zoo.registry import Variant

DOCS = Path(__file__).resolve().parents[2] / "docs"
STORED = json.loads((DOCS / "zoo" / "results.json").read_text())
VARIANTS = load_all()
FAST_SECONDS = 20          # a variant whose stored seed 0 trained faster than this is rerun here
TOLERANCE = 0.02           # relative (or absolute, near zero) agreement of every number with the stored one


def test_the_table_is_rendered_from_the_stored_rows():
    assert (DOCS / "zoo.md").read_text() == report.render(STORED)


def test_every_variant_has_a_stored_row_with_its_provenance():
    assert {r["name"] for r in STORED} == set(VARIANTS)
    for r in STORED:
        p = r["provenance"]
        assert p["commit"] and p["blas"] and p["numpy"] and p["time"], r["name"]
        assert r["config"]["task"] == r["name"] and r["seeds"] == list(range(len(r["results"]))), r["name"]


@pytest.mark.parametrize("row", STORED, ids=[r["name"] for r in STORED])
def test_stored_verdicts_are_the_judges_verdicts(row):
    again = report.judge_row(VARIANTS[row["name"]], row)
    assert {k: row[k] for k in again} == again


def test_fewer_seeds_than_the_criterion_names_cannot_pass(tmp_path, monkeypatch):
    v = Variant(name="x", title="X", paper="P", idea="i", data="d", criterion="c", task=VARIANTS["cgan"].task,
                judge=lambda rs: ("ok", True), gradcheck_case=None, seeds=3)
    monkeypatch.setattr(Variant, "fit", lambda self, config, seed, out, quiet: {"seed": seed})
    monkeypatch.setattr(Variant, "config", lambda self, **kw: {"task": "cgan", "seed": 0})
    assert report.check(v, 3, tmp_path)["verdict"] == "pass"
    row = report.check(v, 2, tmp_path)
    assert row["verdict"] == "not enough seeds" and not row["passed"]
    assert "**not enough seeds**" in report.render([row])


def _numbers(r, prefix=""):
    for k, x in r.items():
        if k in ("seconds", "train_seconds", "train_cpu_seconds", "figures"):
            continue
        if isinstance(x, dict):
            yield from _numbers(x, f"{prefix}{k}.")
        elif isinstance(x, (int, float)) and not isinstance(x, bool):
            yield f"{prefix}{k}", float(x)


FAST = [r for r in STORED if r["results"][0].get("seconds", math.inf) <= FAST_SECONDS]


@pytest.mark.parametrize("row", FAST, ids=[r["name"] for r in FAST])
def test_fast_variants_reproduce_their_stored_seed_0(row):
    v = VARIANTS[row["name"]]
    settings = {k: x for k, x in row["config"].items() if k != "task"}
    again = dict(_numbers(v.fit(v.config(**settings), seed=0)))
    for key, stored in _numbers(row["results"][0]):
        got = again[key]
        assert got == stored or abs(got - stored) <= TOLERANCE * max(1.0, abs(stored)), (key, got, stored)


def test_runs_in_worker_processes_give_the_same_rows(tmp_path, monkeypatch):
    v = VARIANTS["aae"]
    fast = v.config(**v.fast)
    monkeypatch.setattr(Variant, "config", lambda self, **kw: dict(fast))
    one = report.run_checks([v], 1, tmp_path / "one", jobs=1)[0]
    two = report.run_checks([v], 1, tmp_path / "two", jobs=2)[0]
    assert dict(_numbers(one["results"][0])) == dict(_numbers(two["results"][0]))
    assert dict(_numbers(one["margin_rerun"]["results"])) == dict(_numbers(two["margin_rerun"]["results"]))
    assert one["verdict"] == two["verdict"]
