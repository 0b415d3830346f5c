"""Small helpers shared by the tests."""
import importlib.util
from pathlib import Path

import numpy as np

import minigen as mg

# the MNIST test files beside the checkout, when the machine has them (a user's clone does not)
SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


DEMOS = Path(__file__).resolve().parents[1] / "demos"


def load_demo(name: str):
    """The module of ``demos/<name>.py`` (demos are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def assert_seeded(draw, seed: int):
    """``draw()`` (a list of host arrays) repeats under the same engine seed and changes under another."""
    mg.manual_seed(seed)
    a = draw()
    mg.manual_seed(seed)
    b = draw()
    mg.manual_seed(seed + 1)
    c = draw()
    for x, y, z in zip(a, b, c):
        np.testing.assert_array_equal(x, y)
        assert not np.array_equal(x, z)


def t64(a, requires_grad=True):
    """A float64 tensor on the active device (for gradient checks)."""
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def host(t):
    """Any tensor or array as a host NumPy array (explicit on device backends)."""
    return t.numpy() if isinstance(t, mg.Tensor) else mg.to_host(t)


# ---------------------------------------------------------------------------------------------------
# A run's whole life, as a user would live it (for the VAE, the AE, the GAN and every zoo variant)
# ---------------------------------------------------------------------------------------------------

def files_of(folder: Path) -> dict:
    """{relative path: bytes} of every file under ``folder``."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def _arrays(tree, prefix=""):
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _arrays(v, f"{prefix}/{k}")
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from _arrays(v, f"{prefix}/{i}")
    else:
        yield prefix, (mg.to_host(tree) if hasattr(tree, "shape") else tree)


def _metrics(path: Path) -> list:
    import json
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def check_run_lifecycle(tmp_path, name: str, settings: dict, stop_after: int, sample_png: bool = True,
                        label: int | None = None) -> dict:
    """``minigen train NAME`` into a folder; ``minigen sample`` and ``minigen eval`` leave every file of it
    byte-identical, and eval prints the numbers of results.json; a run stopped after ``stop_after`` steps
    and resumed ends array by array, metric by metric where the uninterrupted one did.  Returns the
    results."""
    import json

    from minigen.cli import main
    from minigen.training.loop import TIMING_KEYS
    sets = [f"--set={k}={json.dumps(v)}" for k, v in settings.items()]
    full, cut = tmp_path / "full", tmp_path / "cut"
    assert main(["train", name, "--quiet", "--out", str(full), *sets]) == 0
    results = json.loads((full / "results.json").read_text())
    before = files_of(full)
    assert {"config.json", "metrics.jsonl", "checkpoint.npz", "results.json"} <= set(before)
    assert main(["sample", str(full), "--n", "6", "--out", str(tmp_path / "s.npy")]) == 0
    s = np.load(tmp_path / "s.npy")
    assert len(s) == 6 and np.isfinite(s).all()
    if sample_png:
        assert main(["sample", str(full), "--n", "6", "--out", str(tmp_path / "s.png")]) == 0
        assert (tmp_path / "s.png").stat().st_size > 1000
    if label is not None:
        assert main(["sample", str(full), "--n", "4", "--label", str(label), "--out", str(tmp_path / "l.npy")]) == 0
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["eval", str(full), "--json"]) == 0
    evaluated = json.loads(buf.getvalue())
    for k, v in evaluated.items():                       # eval recomputes exactly what training wrote
        assert results[k] == v, k
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["eval", str(full)]) == 0
    assert files_of(full) == before                      # reading a run never changes it

    assert main(["train", name, "--quiet", "--no-figures", "--out", str(cut), *sets,
                 "--stop-after", str(stop_after)]) == 0
    assert not (cut / "results.json").exists()
    assert mg.load(cut / "checkpoint.npz", device=False)["step"] == stop_after
    assert main(["train", name, "--quiet", "--no-figures", "--out", str(cut), "--resume"]) == 0
    a, b = mg.load(full / "checkpoint.npz", device=False), mg.load(cut / "checkpoint.npz", device=False)
    arrays_a, arrays_b = dict(_arrays(a)), dict(_arrays(b))
    assert arrays_a.keys() == arrays_b.keys()
    for k in arrays_a:
        np.testing.assert_array_equal(arrays_a[k], arrays_b[k], err_msg=k)
    resumed = json.loads((cut / "results.json").read_text())
    drop = set(TIMING_KEYS) | {"figures"}
    assert {k: v for k, v in resumed.items() if k not in drop} == {k: v for k, v in results.items() if k not in drop}
    assert _metrics(full / "metrics.jsonl") == _metrics(cut / "metrics.jsonl")
    return results


# ---------------------------------------------------------------------------------------------------
# Degenerate samplers: every judge must reject them (a criterion is worth the bad model it rejects)
# ---------------------------------------------------------------------------------------------------

def mixture_samplers(data, n: int = 2500, seed: int = 0) -> dict:
    """Samples (host, (n, 2)) of a Gaussian mixture data set's ``means``/``std``: the true mixture (the
    control a judge must accept) and degenerate samplers it must reject."""
    rng = np.random.default_rng(seed)
    means, std = np.asarray(data.means), float(data.std)
    k = len(means)
    comp = rng.integers(0, k, n)
    noise = rng.normal(size=(n, 2))
    radii = np.linalg.norm(means, axis=1)
    if np.allclose(radii, radii[0]):          # a ring: the modes smeared into a uniform ring, no mode at all
        angle = rng.uniform(0, 2 * np.pi, n)
        smeared = radii[0] * np.stack([np.cos(angle), np.sin(angle)], 1) + std * noise
    else:                                     # a grid: uniform over the square the modes span
        lo, hi = means.min() - 3 * std, means.max() + 3 * std
        smeared = rng.uniform(lo, hi, size=(n, 2))
    return {"true": means[comp] + std * noise,
            "uniform": smeared,
            "blurred to 3 sigma": means[comp] + 3 * std * noise,
            "one mode": means[0] + std * noise,
            "one mode missing": means[comp % (k - 1)] + std * noise}


def assert_mixture_judge(judge, task, seeds: int, extras: dict | None = None):
    """``judge`` passes the true mixture's samples and fails every degenerate sampler and the task's untrained
    generator (with the variant's own extra measures ``extras`` set to passing values, so the samples alone
    decide), each given as the results of all ``seeds`` seeds."""
    samplers = {k: mg.to_device(x.astype(np.float32)) for k, x in mixture_samplers(task.data).items()}
    samplers["untrained generator"] = task.evaluation_samples()
    for name, x in samplers.items():
        r = {**task.measure(x), **(extras or {})}
        verdict = judge([r] * seeds)
        assert verdict[1] == (name == "true"), (name, verdict[0])


def digit_samplers(data, labels, seed: int = 0) -> dict:
    """Rows (n, 64) in [0, 1] for the requested class ``labels`` (host): held-out test digits of each class
    (the control a judge must accept) and degenerate samplers it must reject: uniform noise, each class's
    mean image (a blurred mode, one image per class), one class whatever is asked, and copies of training
    digits (a generator that memorised its data)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)

    def pick(x, y, c):
        return x[rng.choice(np.flatnonzero(y == c))]
    means = np.stack([data.x_train[data.y_train == c].mean(0) for c in range(10)])
    return {"true": np.stack([pick(data.x_test, data.y_test, c) for c in labels]),
            "uniform noise": rng.uniform(size=(len(labels), data.x_train.shape[1])).astype(np.float32),
            "class means": means[labels],
            "one class": np.stack([pick(data.x_test, data.y_test, 0) for _ in labels]),
            "copies of training digits": np.stack([pick(data.x_train, data.y_train, c) for c in labels])}


def run_cli(capsys, *argv):
    """``minigen ARGV`` in this process: (exit status, stdout, stderr stripped), argparse's exits included."""
    from minigen.cli import main
    try:
        code = main(list(argv))
    except SystemExit as e:            # argparse's own errors
        code = e.code
    out = capsys.readouterr()
    return code, out.out, out.err.strip()
