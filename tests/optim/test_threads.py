"""Adam on several threads: large parameters are cut into chunks, one per thread, and the result is bit for
bit the single-threaded one (each element's arithmetic is unchanged)."""
import numpy as np
import pytest

import minigen as mg
from minigen import optim, threads

from helpers import host


@pytest.fixture
def restore_threads():
    n = mg.get_num_threads()
    yield
    mg.set_num_threads(n)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_threaded_adam_is_bit_identical(restore_threads, amsgrad):
    rs = np.random.default_rng(0)
    p0 = rs.normal(size=(700, 400)).astype(np.float32)            # 280,000 elements: 4 chunks of 70,000
    grads = [rs.normal(size=p0.shape).astype(np.float32) for _ in range(3)]
    out = []
    for n in (1, 4):
        mg.set_num_threads(n)
        p = mg.tensor(p0, requires_grad=True)
        opt = optim.Adam([p], lr=1e-2, weight_decay=0.1, amsgrad=amsgrad)
        for g in grads:
            p.grad = mg.tensor(g)
            opt.step()
        out.append(host(p))
    assert np.array_equal(out[0], out[1])
    assert not np.array_equal(out[0], p0)


def test_chunks_cover_every_element_once(restore_threads):
    mg.set_num_threads(3)
    a = mg.zeros(5 * threads.GRAIN).data

    def bump(x):
        x += 1.0
    threads.chunked(bump, a)
    assert np.array_equal(host(mg.Tensor(a)), np.ones(5 * threads.GRAIN, np.float32))


def test_set_num_threads_refuses_nonsense():
    with pytest.raises(ValueError, match="positive int"):
        mg.set_num_threads(0)
