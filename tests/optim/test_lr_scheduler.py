"""The schedules every training run uses: values step by step, and a restored schedule goes on where it was."""
import numpy as np
import pytest

import minigen as mg
from minigen import optim
from minigen.optim.lr_scheduler import LinearDecayLR, MultiStepLR


def _opt(lr=1.0):
    return optim.SGD([mg.tensor(np.zeros(1, np.float32), requires_grad=True)], lr=lr)


def _run(sched, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_linear_decay_is_constant_then_a_line_to_the_final_fraction():
    lrs = _run(LinearDecayLR(_opt(2.0), total=10, start=6, final=0.1), 12)
    assert lrs[:7] == [2.0] * 7
    assert lrs[8] == pytest.approx(2.0 * (1 - 0.9 * 2 / 4)) and lrs[10] == pytest.approx(0.2)
    assert lrs[11] == pytest.approx(0.2) and lrs[12] == pytest.approx(0.2)        # and stays there
    assert _run(LinearDecayLR(_opt(), total=4, start=4, final=0.0), 5) == [1.0] * 6  # start = total: constant
    with pytest.raises(ValueError, match="start"):
        LinearDecayLR(_opt(), total=4, start=5)


def test_multistep_drops_at_each_milestone():
    assert _run(MultiStepLR(_opt(), [2, 4], gamma=0.1), 5) == pytest.approx([1, 1, 0.1, 0.1, 0.01, 0.01])


def test_a_restored_schedule_continues_exactly():
    a = LinearDecayLR(_opt(), total=20, start=5)
    _run(a, 9)
    b_opt = _opt()
    b = LinearDecayLR(b_opt, total=20, start=5)
    b.load_state_dict(a.state_dict())
    assert b.get_last_lr() == a.get_last_lr() and b_opt.param_groups[0]["lr"] == a.get_last_lr()[0]
    assert _run(a, 5) == _run(b, 5)
