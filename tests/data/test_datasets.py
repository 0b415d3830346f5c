"""Data sets (toy 2-D, digits, IDX / MNIST) and the DataLoader."""
import gzip
import hashlib
import importlib
import json
import os
import urllib.error

import numpy as np
import pytest

import minigen as mg
from minigen import backend
from minigen.data import (
    TOY2D_NAMES,
    DataLoader,
    DatasetNotFoundError,
    IDXError,
    digits,
    fashion_mnist,
    gaussian_mixture,
    mnist,
    read_idx,
    toy2d,
    write_idx,
)

from helpers import SHARED_MNIST, host

# the modules themselves (``minigen.data.mnist`` is the function of the same name)
download_mod = importlib.import_module("minigen.data.download")
mnist_mod = importlib.import_module("minigen.data.mnist")


@pytest.fixture
def use_backend():
    """Switch the backend inside a test; the original is restored afterwards."""
    original = mg.get_backend()
    yield mg.set_backend
    mg.set_backend(original)


# ----------------------------------------------------------------------------------------------------
# toy 2-D sets
# ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TOY2D_NAMES)
def test_toy2d_shape_dtype_and_determinism(name):
    a, b, c = toy2d(name, 500, seed=1), toy2d(name, 500, seed=1), toy2d(name, 500, seed=2)
    assert a.x.shape == (500, 2) and a.x.dtype == np.float32 and np.isfinite(a.x).all()
    assert np.array_equal(a.x, b.x)
    assert not np.allclose(a.x, c.x)
    if a.y is not None:
        assert a.y.shape == (500,) and np.array_equal(a.y, b.y)


def test_ring8_means_on_unit_circle_and_std():
    ds = toy2d("ring8", 40_000, seed=0)
    assert ds.means.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ds.means, axis=1), 1.0, atol=1e-12)
    angles = np.sort(np.mod(np.arctan2(ds.means[:, 1], ds.means[:, 0]), 2 * np.pi))
    np.testing.assert_allclose(angles, 2 * np.pi * np.arange(8) / 8, atol=1e-12)
    assert ds.std == 0.01
    resid = ds.x - ds.means[ds.y]
    np.testing.assert_allclose(resid.std(axis=0), 0.01, rtol=0.03)
    np.testing.assert_allclose(np.bincount(ds.y, minlength=8) / len(ds), 1 / 8, atol=0.01)
    np.testing.assert_allclose(np.linalg.norm(ds.x, axis=1).mean(), 1.0, atol=1e-3)


def test_grid25_means_and_std():
    ds = toy2d("grid25", 50_000, seed=0)
    grid = {(a, b) for a in (-4, -2, 0, 2, 4) for b in (-4, -2, 0, 2, 4)}
    assert {tuple(m) for m in ds.means.tolist()} == grid
    resid = ds.x - ds.means[ds.y]
    np.testing.assert_allclose(resid.std(axis=0), 0.05, rtol=0.03)
    assert np.bincount(ds.y, minlength=25).min() > 0.8 * len(ds) / 25


def test_mixture_log_density_matches_scipy():
    from scipy.stats import multivariate_normal
    ds = gaussian_mixture([[0.0, 0.0], [3.0, 1.0]], std=0.7, n=100, weights=[3, 1], seed=0)
    np.testing.assert_allclose(ds.weights, [0.75, 0.25])
    pts = np.array([[0.1, -0.2], [2.5, 1.5], [10.0, 10.0]])
    want = np.log(0.75 * multivariate_normal([0, 0], 0.49).pdf(pts)
                  + 0.25 * multivariate_normal([3, 1], 0.49).pdf(pts))
    np.testing.assert_allclose(ds.log_density(pts), want, rtol=1e-10)
    # far from every mode the log-sum-exp stays finite instead of log(0)
    assert np.isfinite(toy2d("ring8", 10).log_density(np.array([[50.0, 50.0]]))).all()


def test_mixture_weights_are_respected():
    ds = gaussian_mixture([[0.0, 0.0], [5.0, 5.0]], 0.1, 20_000, weights=[0.9, 0.1], seed=3)
    assert abs((ds.y == 0).mean() - 0.9) < 0.01
    with pytest.raises(ValueError, match="weights"):
        gaussian_mixture([[0.0, 0.0], [1.0, 1.0]], 0.1, 10, weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="std"):
        gaussian_mixture([[0.0, 0.0]], 0.0, 10)


def test_curve_sets_have_their_shapes():
    moons, circles = toy2d("moons", 4000), toy2d("circles", 4000)
    assert np.bincount(moons.y).tolist() == [2000, 2000] and np.bincount(circles.y).tolist() == [2000, 2000]
    np.testing.assert_allclose(np.abs(moons.x.mean(axis=0)), 0, atol=0.05)             # centred
    r = np.linalg.norm(circles.x, axis=1)
    np.testing.assert_allclose([r[circles.y == 0].mean(), r[circles.y == 1].mean()], [1.0, 0.5], atol=0.01)
    spiral = toy2d("spiral", 4000)
    assert np.linalg.norm(spiral.x, axis=1).max() < np.pi + 0.5
    roll = toy2d("swiss_roll", 4000)
    r = np.linalg.norm(roll.x, axis=1)
    assert roll.y is None and 0.9 * 1.5 * np.pi / 5 < np.median(r) < 4.5 * np.pi / 5
    with pytest.raises(NotImplementedError, match="not known"):
        moons.log_density(moons.x)


def test_toy2d_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="ring8.*swiss_roll"):
        toy2d("ring9", 10)
    with pytest.raises(ValueError, match="positive integer"):
        toy2d("moons", 0)


# ----------------------------------------------------------------------------------------------------
# digits
# ----------------------------------------------------------------------------------------------------

def test_digits_split_range_and_classes():
    ds = digits()
    assert len(ds.x_train) == 1437 and len(ds.x_test) == 360 and len(ds.y_train) == 1437
    assert ds.x_train.shape[1] == 64 and ds.image_shape == (8, 8) and ds.n_classes == 10
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0 and ds.x_test.max() <= 1.0
    assert set(ds.y_train.tolist()) == set(range(10)) and np.bincount(ds.y_test).tolist() == [36] * 10
    assert ds.images(ds.x_test).shape == (360, 8, 8)


def test_digits_split_is_fixed_and_a_partition():
    from sklearn.datasets import load_digits
    a, b = digits(), digits()
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    # pinned: the split must never change (checkpoints and reported numbers refer to it)
    assert a.y_test[:12].tolist() == [3, 6, 0, 8, 2, 3, 4, 7, 7, 7, 2, 7]
    assert hashlib.sha256(a.x_test.astype("<f4").tobytes()).hexdigest()[:16] == "5e5f317823bad5b4"
    full = load_digits()
    def rows(x, y):
        return sorted(map(tuple, np.column_stack([x, y]).tolist()))
    together = rows(np.concatenate([a.x_train, a.x_test]), np.concatenate([a.y_train, a.y_test]))
    assert together == rows((full.data / 16).astype(np.float32), full.target)


# ----------------------------------------------------------------------------------------------------
# IDX files and MNIST
# ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_idx_round_trip(tmp_path, suffix, dtype):
    a = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = tmp_path / f"a.idx{suffix}"
    write_idx(path, a)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == (suffix == ".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and np.array_equal(a, b)


def test_idx_header_is_big_endian(tmp_path):
    write_idx(tmp_path / "l", np.array([7, 1, 2], dtype=np.uint8))
    assert (tmp_path / "l").read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 2])
    assert int.from_bytes(bytes([0, 0, 8, 1]), "big") == 2049


def test_idx_errors_name_file_and_problem(tmp_path):
    good = tmp_path / "good"
    write_idx(good, np.zeros((4, 28, 28), np.uint8))
    raw = good.read_bytes()
    cases = {
        "badmagic": (b"\x12\x34" + raw[2:], r"badmagic: not an IDX file: magic number"),
        "badtype": (raw[:2] + b"\x07" + raw[3:], r"badtype: not an IDX file"),
        "truncated": (raw[:-10], r"truncated: truncated: the header declares shape \(4, 28, 28\) "
                                 r"\(3136 bytes of data\), but only 3126"),
        "extra": (raw + b"\0\0", r"extra: 2 bytes left over"),
        "header": (raw[:9], r"header: truncated header"),
        "tiny": (raw[:3], r"tiny: only 3 bytes"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(IDXError, match=message):
            read_idx(tmp_path / name)
    (tmp_path / "cut.gz").write_bytes(gzip.compress(raw)[:-30])
    with pytest.raises(IDXError, match=r"cut.gz: truncated or corrupt gzip"):
        read_idx(tmp_path / "cut.gz")
    with pytest.raises(IDXError, match=r"magic number 2051 .* expected 2049"):
        read_idx(good, expect_magic=2049)


def _write_fake_mnist(folder, n_train=6, n_test=4, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        if n is None:
            continue
        img = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        lbl = (np.arange(n) % 10).astype(np.uint8)
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{suffix}", img)
        write_idx(folder / f"{split}-labels-idx1-ubyte{suffix}", lbl)
        out[split] = (img, lbl)
    return out


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_a_local_folder(tmp_path, gz):
    raw = _write_fake_mnist(tmp_path, gz=gz)
    ds = mnist(tmp_path)
    assert ds.x_train.shape == (6, 784) and ds.x_test.shape == (4, 784) and ds.image_shape == (28, 28)
    assert ds.x_train.dtype == np.float32 and ds.y_test.dtype == np.int64
    np.testing.assert_allclose(ds.x_train, raw["train"][0].reshape(6, -1) / 255.0, rtol=1e-6)
    assert ds.y_test.tolist() == [0, 1, 2, 3]
    assert fashion_mnist(tmp_path).classes[9] == "Ankle boot"


def test_mnist_test_split_alone_and_missing_files_message(tmp_path):
    _write_fake_mnist(tmp_path, n_train=None)
    ds = mnist(tmp_path, split="test")
    assert ds.x_train is None and ds.x_test.shape == (4, 784)
    with pytest.raises(ValueError, match="train split was not loaded"):
        _ = ds.train
    with pytest.raises(DatasetNotFoundError) as err:
        mnist(tmp_path)
    msg = str(err.value)
    assert f"missing from {tmp_path}" in msg
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert "t10k-images" not in msg.split("Put them")[0]           # only the missing files are listed
    assert "split='test'" in msg and "download=True" in msg
    with pytest.raises(DatasetNotFoundError, match=r"4 file\(s\) missing"):
        mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="split must be"):
        mnist(tmp_path, split="val")


def test_mnist_rejects_inconsistent_files(tmp_path):
    _write_fake_mnist(tmp_path, gz=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.zeros(3, np.uint8))          # 3 labels, 4 images
    with pytest.raises(IDXError, match=r"t10k-labels-idx1-ubyte: 3 labels for the 4 images"):
        mnist(tmp_path, split="test")
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(4, 10, np.uint8))
    with pytest.raises(IDXError, match=r"label 10 outside 0..9"):
        mnist(tmp_path, split="test")
    # labels where the images belong: the magic number gives it away
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros(6, np.uint8))
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte: magic number 2049 .* expected 2051"):
        mnist(tmp_path, split="train")
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((6, 8, 8), np.uint8))
    with pytest.raises(IDXError, match="8x8, expected 28x28"):
        mnist(tmp_path, split="train")


def _serve(files):
    """A stand-in for the network: URL -> bytes from ``files`` (by file name)."""
    calls = []

    def fetch(url, timeout=60.0):
        calls.append(url)
        name = url.rsplit("/", 1)[1]
        if name not in files:
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        return files[name]
    return fetch, calls


def test_download_verifies_checksums_and_writes_files(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write_fake_mnist(src)
    files = {p.name: p.read_bytes() for p in src.iterdir()}
    for name, data in files.items():
        monkeypatch.setitem(mnist_mod.MNIST_MD5, name, hashlib.md5(data).hexdigest())
    fetch, calls = _serve(files)
    monkeypatch.setattr(download_mod, "_fetch", fetch)
    root = tmp_path / "root"
    ds = mnist(root, download=True)
    assert ds.x_train.shape == (6, 784) and len(calls) == 4
    assert sorted(os.listdir(root)) == sorted(files)                  # no temporary files left behind
    assert all((root / n).read_bytes() == d for n, d in files.items())
    mnist(root, download=True)
    assert len(calls) == 4                                            # present files are not fetched again


def test_download_rejects_a_checksum_mismatch(tmp_path, monkeypatch):
    wrong = b"this is not MNIST"
    monkeypatch.setattr(download_mod, "_fetch", lambda url, timeout=60.0: wrong)
    with pytest.raises(DatasetNotFoundError) as err:
        mnist(tmp_path, split="test", download=True)
    msg = str(err.value)
    got = hashlib.md5(wrong).hexdigest()
    assert f"MD5 mismatch: got {got}, expected 9fb629c4189551a2d022fa330f9573f3" in msg
    assert "ossci-datasets" in msg and "cvdf-datasets" in msg           # both mirrors tried
    assert os.listdir(tmp_path) == []                                   # nothing unverified is kept


def test_download_falls_back_to_the_next_mirror(tmp_path, monkeypatch):
    src = tmp_path / "src"
    _write_fake_mnist(src, n_train=None)
    files = {p.name: p.read_bytes() for p in src.iterdir()}
    for name, data in files.items():
        monkeypatch.setitem(mnist_mod.MNIST_MD5, name, hashlib.md5(data).hexdigest())
    served, calls = _serve(files)
    monkeypatch.setattr(download_mod, "_fetch",
                        lambda url, timeout=60.0: b"junk" if "ossci" in url else served(url))
    ds = mnist(tmp_path / "root", split="test", download=True)
    assert ds.x_test.shape == (4, 784) and all("cvdf" in u for u in calls)


def test_offline_download_lists_what_to_put_where(tmp_path, monkeypatch):
    def offline(url, timeout=60.0):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(download_mod, "_fetch", offline)
    with pytest.raises(DatasetNotFoundError) as err:
        fashion_mnist(tmp_path, download=True)
    msg = str(err.value)
    assert f"4 file(s) missing from {tmp_path}" in msg and "Temporary failure in name resolution" in msg
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        assert f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}" in msg
    assert isinstance(err.value, FileNotFoundError)


def test_checksum_table_holds_the_published_md5s():
    # the shared folder's copies are re-compressed (other .gz bytes), so pin the table's values instead
    assert mnist_mod.MNIST_MD5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert len(set(mnist_mod.MNIST_MD5.values()) | set(mnist_mod.FASHION_MNIST_MD5.values())) == 8
    assert all(len(v) == 32 and int(v, 16) >= 0 for v in mnist_mod.FASHION_MNIST_MD5.values())


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").exists(),
                    reason="the MNIST test files are not beside this checkout")
def test_shared_mnist_test_set():
    ds = mnist(SHARED_MNIST, split="test")
    assert ds.x_test.shape == (10_000, 784) and ds.y_test.shape == (10_000,)
    assert ds.images(ds.x_test[:2]).shape == (2, 28, 28)
    assert ds.x_test.min() == 0.0 and ds.x_test.max() == 1.0
    assert np.bincount(ds.y_test).tolist()[:2] == [980, 1135] and set(ds.y_test.tolist()) == set(range(10))
    if not (SHARED_MNIST / "train-images-idx3-ubyte.gz").exists():
        with pytest.raises(DatasetNotFoundError, match="split='test'"):
            mnist(SHARED_MNIST)


# ----------------------------------------------------------------------------------------------------
# DataLoader
# ----------------------------------------------------------------------------------------------------

def _xy(n=10, d=3):
    x = np.repeat(np.arange(n, dtype=np.float32)[:, None], d, axis=1)
    return x, np.arange(n, dtype=np.int64)


def _epoch(loader):
    return [tuple(host(t).copy() for t in b) if isinstance(b, tuple) else host(b).copy() for b in loader]


def test_loader_batches_shapes_and_device():
    x, y = _xy(10)
    loader = DataLoader((x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)] and batches[2][1].shape == (2,)
    for xb, yb in batches:
        assert isinstance(xb, mg.Tensor) and backend.is_array(xb.data) and backend.is_array(yb.data)
        if mg.get_backend() == "strict":
            assert isinstance(xb.data, backend.StrictArray)
    assert host(batches[1][1]).tolist() == [4, 5, 6, 7]
    assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64
    single = list(DataLoader(x, batch_size=4, drop_last=True))
    assert len(single) == 2 and isinstance(single[0], mg.Tensor)
    assert len(DataLoader(x, batch_size=5, drop_last=True)) == 2 and len(DataLoader(x, batch_size=20)) == 1


def test_loader_yields_device_tensors_under_strict(use_backend):
    use_backend("strict")
    x, y = _xy(8)
    xb, yb = next(iter(DataLoader((x / 8, y), batch_size=4, shuffle=True, seed=0, binarize="dynamic")))
    assert isinstance(xb.data, backend.StrictArray) and isinstance(yb.data, backend.StrictArray)
    with pytest.raises(TypeError):
        np.asarray(xb.data)


def test_loader_shuffle_covers_every_example_once_per_epoch():
    x, y = _xy(103)
    loader = DataLoader((x, y), batch_size=10, shuffle=True, seed=5)
    orders = []
    for _ in range(3):
        batches = _epoch(loader)
        order = np.concatenate([yb for _, yb in batches])
        assert sorted(order.tolist()) == list(range(103))
        assert all(np.array_equal(xb[:, 0], yb) for xb, yb in batches)   # x and y stay paired
        orders.append(order)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(103))
    assert loader.epoch == 3


def test_loader_drop_last_with_shuffle_serves_full_batches():
    x, y = _xy(23)
    batches = _epoch(DataLoader((x, y), batch_size=5, shuffle=True, drop_last=True, seed=0))
    assert [len(yb) for _, yb in batches] == [5, 5, 5, 5]
    assert len(set(np.concatenate([yb for _, yb in batches]).tolist())) == 20


def test_loader_shuffles_are_reproducible():
    x, y = _xy(50)
    a, b = DataLoader((x, y), 8, shuffle=True, seed=1), DataLoader((x, y), 8, shuffle=True, seed=1)
    for _ in range(2):
        ea, eb = _epoch(a), _epoch(b)
        assert all(np.array_equal(p[1], q[1]) for p, q in zip(ea, eb, strict=True))
    c = _epoch(DataLoader((x, y), 8, shuffle=True, seed=2))
    d = _epoch(DataLoader((x, y), 8, shuffle=True, seed=1))
    assert not all(np.array_equal(p[1], q[1]) for p, q in zip(d, c, strict=True))
    # seed=None draws from the engine RNG: manual_seed makes it reproducible
    mg.manual_seed(11)
    d = _epoch(DataLoader(y, 8, shuffle=True))
    mg.manual_seed(11)
    e = _epoch(DataLoader(y, 8, shuffle=True))
    assert all(np.array_equal(p, q) for p, q in zip(d, e, strict=True))


def test_loader_binarize_static():
    x = np.array([[0.1, 0.5, 0.51, 0.9], [1.0, 0.0, 0.49, 0.6]], dtype=np.float32)
    loader = DataLoader(x, batch_size=2, binarize="static")
    first, second = host(next(iter(loader))), host(next(iter(loader)))
    assert first.tolist() == [[0, 0, 1, 1], [1, 0, 0, 1]] and np.array_equal(first, second)
    assert first.dtype == np.float32
    assert x[0, 2] == np.float32(0.51)                                  # the caller's array is untouched


def test_loader_binarize_dynamic():
    x = np.full((400, 50), 0.3, dtype=np.float32)
    x[:, 0], x[:, 1] = 0.0, 1.0
    loader = DataLoader(x, batch_size=400, binarize="dynamic", seed=0)
    a, b = host(next(iter(loader))), host(next(iter(loader)))
    assert set(np.unique(a).tolist()) == {0.0, 1.0} and a.dtype == np.float32
    assert (a[:, 0] == 0).all() and (a[:, 1] == 1).all()
    assert abs(a[:, 2:].mean() - 0.3) < 0.01
    assert not np.array_equal(a, b)                                      # new samples every draw
    again = host(next(iter(DataLoader(x, batch_size=400, binarize="dynamic", seed=0))))
    assert np.array_equal(a, again)


def test_loader_binarize_needs_probabilities():
    with pytest.raises(ValueError, match=r"\[0, 1\].*\[0.0, 2.0\]"):
        DataLoader(np.array([[0.0, 2.0]], np.float32), binarize="dynamic")
    with pytest.raises(TypeError, match="floating-point"):
        DataLoader(np.array([[0, 255]], np.uint8), binarize="static")
    with pytest.raises(ValueError, match="binarize must be"):
        DataLoader(np.zeros((2, 2), np.float32), binarize="bernoulli")


def test_loader_resumes_a_dataset_object_with_dynamic_binarization():
    class Half:
        def __len__(self):
            return 9

        def __getitem__(self, i):
            return np.full(4, 0.5, np.float32)

    a = DataLoader(Half(), batch_size=2, shuffle=True, seed=4, binarize="dynamic")
    it = iter(a)
    next(it), next(it)
    b = DataLoader(Half(), batch_size=2, shuffle=True, seed=0, binarize="dynamic")
    b.load_state_dict(a.state_dict())
    rest_a, rest_b = [host(t) for t in it], [host(t) for t in b]
    assert len(rest_a) == 3 and all(np.array_equal(p, q) for p, q in zip(rest_a, rest_b, strict=True))
    assert set(np.concatenate(rest_a).ravel().tolist()) == {0.0, 1.0}


def test_loader_resumes_exactly_mid_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(37, 6)).astype(np.float32), np.arange(37)
    def make(seed):
        return DataLoader((x, y), batch_size=5, shuffle=True, seed=seed, binarize="dynamic")
    a = make(3)
    _epoch(a)                                     # epoch 0
    it = iter(a)
    for _ in range(3):                            # 3 batches into epoch 1
        next(it)
    state = json.loads(json.dumps(a.state_dict()))
    assert state["epoch"] == 1 and state["batch"] == 3
    rest_a = [tuple(host(t) for t in b) for b in it] + _epoch(a)
    b = make(99)                                  # another seed: the state's seed wins
    b.load_state_dict(state)
    rest_b = _epoch(b) + _epoch(b)
    assert len(rest_a) == len(rest_b) == 5 + 8
    assert all(np.array_equal(p[0], q[0]) and np.array_equal(p[1], q[1])
               for p, q in zip(rest_a, rest_b, strict=True))
    assert b.state_dict() == a.state_dict() == {"seed": 3, "epoch": 3, "batch": 0}


def test_loader_new_iterator_starts_next_epoch_and_retires_old_one():
    x, y = _xy(20)
    loader = DataLoader((x, y), batch_size=5, shuffle=True, seed=0)
    old = iter(loader)
    next(old)
    fresh = iter(loader)
    assert loader.epoch == 1
    with pytest.raises(RuntimeError, match="retired"):
        next(old)
    assert len(list(fresh)) == 4 and loader.state_dict()["epoch"] == 2
    with pytest.raises(ValueError, match="outside"):
        loader.load_state_dict({"seed": 0, "epoch": 0, "batch": 9})


def test_loader_accepts_a_dataset_object_and_tensors():
    class Squares:
        def __len__(self):
            return 11

        def __getitem__(self, i):
            return np.full(2, i * i, dtype=np.float32), i

    batches = list(DataLoader(Squares(), batch_size=4, shuffle=True, seed=0))
    assert len(batches) == 3 and isinstance(batches[0], tuple)
    ids = np.concatenate([host(yb) for _, yb in batches])
    assert sorted(ids.tolist()) == list(range(11))
    assert all(np.array_equal(host(xb)[:, 0], host(yb) ** 2) for xb, yb in batches)
    assert backend.is_array(batches[0][0].data)
    t = mg.tensor(np.ones((6, 2), np.float32))
    assert [b.shape for b in DataLoader(t, batch_size=4)] == [(4, 2), (2, 2)]
    listed = list(DataLoader([np.full(3, i, np.float32) for i in range(5)], batch_size=2))  # list = dataset
    assert [b.shape for b in listed] == [(2, 3), (2, 3), (1, 3)] and host(listed[2]).tolist() == [[4, 4, 4]]


def test_loader_rejects_bad_data():
    with pytest.raises(ValueError, match="different lengths"):
        DataLoader((np.zeros(3), np.zeros(4)))
    with pytest.raises(TypeError, match="ds.x"):
        DataLoader(toy2d("moons", 10))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros(3), batch_size=0)
