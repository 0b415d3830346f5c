"""The backprop-through-time demo at tiny settings: the gradient reaching k steps back vanishes in a tanh RNN,
survives along an LSTM's open forget gate, grows with W_hh = 2 Q, and clipping bounds what SGD sees."""
import json
import math

from helpers import load_demo


def test_backprop_through_time_demo(tmp_path):
    r = load_demo("backprop_through_time").main(["--T", "16", "--steps", "20", "--hidden", "16", "--explode-T", "24",
                                                 "--explode-steps", "20", "--out", str(tmp_path)])
    for f in ("gradient_vs_distance.png", "exploding.png"):
        assert (tmp_path / f).stat().st_size > 10000
    assert json.loads((tmp_path / "results.json").read_text())["T"] == 16
    v = r["vanishing"]
    assert set(v) == {"RNN (tanh)", "LSTM", "LSTM, forget gate open"}
    rnn, lstm, open_ = v["RNN (tanh)"], v["LSTM"], v["LSTM, forget gate open"]
    assert rnn["ratio_init"] < 1e-3                           # 15 steps back: orders of magnitude lost
    assert open_["ratio_init"] > 30 * rnn["ratio_init"]       # the open forget gate keeps the cell's path
    assert open_["ratio_init"] > 20 * lstm["ratio_init"]      # ... which f = sigmoid(0) = 0.5 halves every step
    assert all(len(x["init"]) == 16 and len(x["train_losses"]) == 20 for x in v.values())
    assert r["exploding_growth"] > 10                         # W_hh = 2 Q: the gradient grows with k
    clipped = r["exploding"]["clip_grad_norm_(1.0)"]
    assert not clipped["diverged"] and all(math.isfinite(x) for x in clipped["train_losses"])
    assert max(clipped["grad_norms"]) > 1.0                   # clipping had work to do
