"""MidiNet: the conditioner and the chord reach G, the straight-through monophonic output, the smoothed and
feature-matched losses, the judge against degenerate melody generators, sampling to .npy / .png / .mid, and
a run's whole life."""
import numpy as np
import minigen as mg
from minigen import backend
from minigen.autograd.tensor import Tensor
from minigen.cli import main
from minigen.data import music
from minigen.zoo import midinet

from helpers import check_run_lifecycle, host

FAST = {"steps": 20, "gc": 8, "cc": 4, "dc": 8}


def small_task():
    return midinet.MidiNetTask(midinet.MidiNetTask.make_config(0, **FAST))


def conditions(t, idx):
    d = t.data
    return (Tensor(mg.to_device(music.rolls(d.prev_test[idx]))), Tensor(mg.to_device(music.chord_vectors(d.chord_test[idx]))))


def test_previous_bar_and_chord_reach_every_generator():
    t = small_task()
    G, base = t.gans["midinet"].generator, t.gans["no_prev"].generator
    assert hasattr(G, "conditioner") and not hasattr(base, "conditioner")
    z = Tensor(backend.rng().normal((4, G.latent_dim)))
    prev, chord = conditions(t, np.arange(4))
    other_prev, other_chord = conditions(t, np.arange(4, 8))
    G.eval(), base.eval()
    out = host(G.logits(z, (prev, chord)))
    assert out.shape == (4, 1, 16, 24)
    assert not np.allclose(out, host(G.logits(z, (other_prev, chord))))          # the 2-D condition
    assert not np.allclose(out, host(G.logits(z, (prev, other_chord))))          # the 1-D condition
    np.testing.assert_array_equal(host(base.logits(z, (prev, chord))), host(base.logits(z, (other_prev, chord))))
    # G's loss reaches the conditioner's first layer
    G.train()
    gan = t.gans["midinet"]
    G.zero_grad()
    gan.g_loss(gan.generate((z, (prev, chord))), (Tensor(mg.to_device(music.rolls(t.data.bar_test[:4]))),
                                                  (prev, chord))).backward()
    assert np.abs(host(G.conditioner.first.weight.grad)).sum() > 0


def test_output_is_one_hot_with_the_softmax_gradient():
    t = small_task()
    G = t.gans["midinet"].generator
    z = Tensor(backend.rng().normal((3, G.latent_dim)))
    cond = conditions(t, np.arange(3))
    x = G(z, cond)
    v = host(x)
    assert set(np.unique(v)) <= {0.0, 1.0} and (v.sum(-1) == 1).all()
    G.zero_grad()
    (x * Tensor(mg.to_device(np.arange(24, dtype=np.float32)))).sum().backward()
    assert np.abs(host(G.out.weight.grad)).sum() > 0


def test_smoothed_d_loss_and_feature_matching():
    t = small_task()
    gan = t.gans["midinet"]
    cond = conditions(t, np.arange(8))
    real = Tensor(mg.to_device(music.rolls(t.data.bar_test[:8])))
    lr, lf = host(gan.critic((real, cond))), host(gan.critic((real, cond)))
    sp = lambda a: np.logaddexp(0, a)                                            # noqa: E731
    want = np.mean(0.9 * sp(-lr) + 0.1 * sp(lr)) + np.mean(sp(lf))
    assert abs(float(host(gan.d_loss((real, cond), (real, cond)))) - want) < 1e-5
    # the feature-matching terms vanish when the fakes are the real bars, and grow with l1, l2 otherwise
    adv = float(np.mean(sp(-lr)))
    assert abs(float(host(gan.g_loss((real, cond), (real, cond)))) - adv) < 1e-5
    other = Tensor(mg.to_device(music.rolls(np.zeros((8, 16), np.int64))))
    losses = []
    for s in (0.0, 1.0, 10.0):
        gan.fm_x, gan.fm_f = 0.1 * s, 0.1 * s
        losses.append(float(host(gan.g_loss((other, cond), (real, cond)))))
    assert losses[0] < losses[1] < losses[2]


def test_judge():
    base = {"chord_tones": 0.9, "in_key": 1.0, "mean_jump": 2.5, "copies": 0.02, "distinct": 4.0,
            "no_prev": {"mean_jump": 7.0}, "fm_ablation": {"scale": [0, 1, 10], "hist_distance": [0.5, 0.3, 0.2]}}
    judge = midinet.VARIANT.judge
    assert judge([base] * 3)[1]
    for k, bad in (("chord_tones", 0.79), ("in_key", 0.94), ("mean_jump", 4.1), ("copies", 0.2), ("distinct", 1.5)):
        assert not judge([base, base, {**base, k: bad}])[1], k


def _verdict(t, bars):
    r = {**t.measure(bars), "no_prev": {"mean_jump": 0.0},
         "fm_ablation": {"scale": [0, 1, 10], "hist_distance": [0.0, 0.0, 0.0]}}
    return midinet.VARIANT.judge([r] * 3)


def test_judge_rejects_degenerate_models():
    """Held-out real bars pass; uniform random notes, one repeated pitch, copies of training bars (the training
    bar with the same chord that starts nearest the previous note), real bars of the right chord that ignore
    the previous bar, and the untrained generator fail."""
    t = small_task()
    d = t.data
    rng = np.random.default_rng(0)
    same_chord = [np.where((d.chord_test == c).all(1))[0] for c in d.chord_test]
    train_by_chord = {tuple(c): np.where((d.chord_train == c).all(1))[0] for c in np.unique(d.chord_train, axis=0)}
    copies = np.stack([d.bar_train[min(train_by_chord[tuple(c)], key=lambda i: abs(d.bar_train[i, 0] - p[-1]))]
                       for c, p in zip(d.chord_test, d.prev_test)])
    samplers = {
        "true": d.bar_test,
        "uniform random notes": rng.integers(0, 24, size=d.bar_test.shape),
        "one repeated pitch": np.full(d.bar_test.shape, 12),
        "copies of training bars": copies,
        "ignores the previous bar": d.bar_test[[rng.choice(s) for s in same_chord]],
        "untrained generator": host(t.generate(d.prev_test, d.chord_test, generator=backend.Generator(1))),
    }
    for name, bars in samplers.items():
        verdict = _verdict(t, bars)
        assert verdict[1] == (name == "true"), (name, verdict[0])


def test_run(tmp_path):
    r = check_run_lifecycle(tmp_path, "midinet", FAST, stop_after=13)
    assert {"chord_tones", "in_key", "mean_jump", "copies", "no_prev", "fm_ablation"} <= set(r)
    assert len(r["fm_ablation"]["hist_distance"]) == 3
    s = np.load(tmp_path / "s.npy")
    assert s.shape == (6, 16, 24) and (s.sum(-1) == 1).all()
    assert main(["sample", str(tmp_path / "full"), "--n", "4", "--out", str(tmp_path / "s.mid")]) == 0
    m = music.read_midi((tmp_path / "s.mid").read_bytes())
    assert m["tracks"] == 1 and m["notes"] and sum(n[1] for n in m["notes"]) == 4 * 16 * 24
