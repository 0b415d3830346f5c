"""The ``strict`` fixture: run one test on the strict backend, whatever $MINIGEN_BACKEND says."""
import pytest

import minigen as mg


@pytest.fixture
def strict():
    prev = mg.get_backend()
    mg.set_backend("strict")
    yield
    mg.set_backend(prev)
