"""Shared fixtures.  The whole suite runs on the backend named by $MINIGEN_BACKEND (numpy or strict)."""
import pytest
from threadpoolctl import threadpool_limits

import minigen as mg


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    # the tests' arrays are small and pytest-xdist already runs a worker per core: a second BLAS thread per
    # worker only oversubscribes the cores (tiny GEMMs ran 30x slower that way on a 2-core machine)
    threads = mg.get_num_threads()
    mg.set_num_threads(1)                 # minigen's own threads (a large Adam update) likewise
    with threadpool_limits(limits=1, user_api="blas"):
        yield
    mg.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _seed():
    mg.manual_seed(0)
    yield
