"""The host-allocator settings (minigen/allocator.py): never applied by importing minigen, applied on request."""
import platform
import subprocess
import sys

import pytest

from minigen import allocator


def test_opt_out_leaves_malloc_alone(monkeypatch):
    monkeypatch.setenv("MINIGEN_MALLOC", "default")
    out = allocator.tune_host_allocator()
    assert out == {"tuned": False, "why": "MINIGEN_MALLOC=default"}


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_settings_are_applied_on_glibc(monkeypatch):
    monkeypatch.delenv("MINIGEN_MALLOC", raising=False)
    out = allocator.tune_host_allocator()
    assert out["tuned"], out["why"]
    assert "M_MMAP_THRESHOLD = 32 MiB" in out["why"] and "M_TRIM_THRESHOLD = 256 MiB" in out["why"]
    assert allocator.state == out


def test_importing_minigen_leaves_malloc_alone():
    code = "import minigen, minigen.allocator as a; print(a.state['why'])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "not attempted"


def test_importing_minigen_loads_neither_its_subpackages_nor_their_dependencies():
    """A script that only trains pays for no plotting, graph drawing or data sets: they load on first use
    (``mg.viz``, ``mg.data``, ...), which keeps a training process's resident memory near hand NumPy's."""
    code = ("import sys, minigen as mg; lazy = [m for m in mg._LAZY if f'minigen.{m}' in sys.modules]; "
            "heavy = [m for m in ('matplotlib', 'scipy', 'subprocess', 'email', 'xml') if m in sys.modules]; "
            "print(lazy, heavy, callable(mg.viz.draw))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] [] True"
