"""Fixtures installing the fakes of collectors_fakes (hardware faked at the boundary)."""

from __future__ import annotations

import sys

import pytest

from tests.helpers.collectors_fakes import FakeClock, FakeGpu, FakePowercap, make_fake_nvml


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def powercap(tmp_path, monkeypatch) -> FakePowercap:
    root = tmp_path / "powercap"
    root.mkdir()
    monkeypatch.setenv("HARNESS_POWERCAP_ROOT", str(root))
    return FakePowercap(root)


@pytest.fixture
def no_nvml(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml -> ImportError


@pytest.fixture
def fake_nvml(monkeypatch, clock):
    """Install a fake pynvml built from the GPUs given; returns the module."""

    def install(gpus: list[FakeGpu], **kw):
        module = make_fake_nvml(gpus, clock, **kw)
        monkeypatch.setitem(sys.modules, "pynvml", module)
        return module

    return install
