"""Fixtures of the viz tests: small graphs with every kind of node, and a headless Chromium (skipped, with
the reason, where none can be had)."""
import shutil

import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen.nn import Linear


@pytest.fixture
def small():
    """loss = mean((W x + b - t)^2) * 0.5 + |x|: a parameter layer, an input that requires grad, a target
    input that does not, constants, a broadcast (the bias over the batch), and x reached by two paths."""
    layer = Linear(3, 2)
    for k, p in layer.named_parameters():
        p.name = k
    x = mg.tensor(np.arange(12, dtype=np.float64).reshape(4, 3) / 10, requires_grad=True)
    x.name = "x"
    layer.weight.data = mg.to_device(np.full((2, 3), 0.3))
    layer.bias.data = mg.to_device(np.array([0.1, -0.2]))
    t = mg.tensor(np.ones((4, 2)))
    t.name = "target"
    y = layer(x)
    y.name = "y"
    loss = F.mean((y - t) ** 2) * 0.5 + F.sum(F.abs(x))
    loss.name = "loss"
    return {"loss": loss, "x": x, "t": t, "y": y, "layer": layer}


def _find(*names):
    return next((p for p in map(shutil.which, names) if p), None)


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium driven by Selenium (Debian's chromium + chromium-driver; `.ci/run` installs
    them); the test is skipped, saying what is missing, where they cannot be had."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    chrome = _find("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
    driver_exe = _find("chromedriver")
    if chrome is None or driver_exe is None:
        pytest.skip("no headless browser: install Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; .ci/run does)")
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,900", "--hide-scrollbars"):
        opts.add_argument(a)
    try:
        drv = webdriver.Chrome(service=Service(driver_exe), options=opts)
    except WebDriverException as e:   # a browser that does not start is a missing browser here
        pytest.skip(f"headless chromium did not start: {str(e).splitlines()[0]}")
    yield drv
    drv.quit()
