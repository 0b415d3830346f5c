"""Shared fixtures.  The whole suite runs on the backend named by $MINIGEN_BACKEND (numpy or strict)."""
import pytest

import minigen as mg


@pytest.fixture(autouse=True)
def _seed():
    mg.manual_seed(0)
    yield
