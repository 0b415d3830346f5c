"""CGAN: the label enters both players, sampling, the judge, and a run's whole life."""
import numpy as np

import minigen as mg
from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.zoo import load_all
from minigen.zoo.cgan import CGANTask

from helpers import check_run_lifecycle, digit_samplers, host


def dev(a, dtype=np.float32):
    return backend.to_device(np.asarray(a, dtype=dtype))


def test_cgan_label_enters_both_players():
    t = CGANTask(CGANTask.make_config(0, hidden=16, latent_dim=4))
    G, D = t.gan.generator, t.gan.discriminator
    assert G.net[0].in_features == 4 + 10 and D.net[0].in_features == 64 + 10
    z = Tensor(backend.rng().normal((3, 4)))
    x = Tensor(backend.rng().uniform((3, 64)))
    y3, y7 = dev([3, 3, 3], np.int64), dev([7, 7, 7], np.int64)
    G.eval()
    assert not np.allclose(host(G(z, y3)), host(G(z, y7)))
    assert not np.allclose(host(D(x, y3)), host(D(x, y7)))
    # the D loss gradient reaches the weights that read the label (columns 64: of D's first layer)
    D.zero_grad()
    t.gan.d_loss((x, y3), (x, y7)).backward()
    assert np.abs(host(D.net[0].weight.grad)[:, 64:]).sum() > 0


def test_cgan_sample_is_in_the_pixel_range_by_class():
    t = CGANTask(CGANTask.make_config(0, hidden=16, latent_dim=4))
    t.step(0)
    s = t.sample(10)
    assert s.data.shape == (10, 64) and s.data.min() >= 0 and s.data.max() <= 1
    assert s.labels.tolist() == list(range(10)) and t.sample(3, label=7).labels.tolist() == [7, 7, 7]
    assert t.gan.training                                  # sampling puts G back in training mode


def test_cgan_judge():
    judge = load_all()["cgan"].judge
    r = {"accuracy": 0.95, "min_class_accuracy": 0.9, "confident": 0.9, "diversity": 0.8, "copies": 0.0}
    assert judge([r, r, r])[1]
    assert not judge([r, r, {**r, "accuracy": 0.85}])[1]
    assert not judge([r, r, {**r, "diversity": 0.3}])[1] and not judge([r, r, {**r, "copies": 0.2}])[1]


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "cgan", {"steps": 30, "hidden": 32, "per_class": 10}, stop_after=22, label=4)
    assert len(r["per_class"]) == 10


def test_judge_rejects_degenerate_models():
    """Held-out digits of the requested class pass; uniform noise, the class mean images (collapsed and
    blurred), one class whatever is asked, copies of training digits and the untrained generator fail."""
    judge = load_all()["cgan"].judge
    t = CGANTask(CGANTask.make_config(0))
    labels = np.repeat(np.arange(10), 30)
    samplers = {k: mg.to_device(x.astype(np.float32)) for k, x in digit_samplers(t.data, labels).items()}
    samplers["untrained generator"] = t.generate(mg.to_device(labels), backend.Generator(1))
    for name, x in samplers.items():
        verdict = judge([t.measure(x, mg.to_device(labels))] * 3)
        assert verdict[1] == (name == "true"), (name, verdict[0])
