"""Fixtures for fjordctl's tests: the broker fixture of tests/broker, and a runner for
the fjordctl binary as a process."""
import importlib.util
import json
import os
import pathlib
import subprocess

import pytest

_spec = importlib.util.spec_from_file_location(
    "broker_fixtures", pathlib.Path(__file__).resolve().parents[1] / "broker" / "conftest.py")
broker_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(broker_fixtures)
broker = broker_fixtures.broker  # noqa: F401 (a fixture)

CTL = os.environ.get("FJORDCTL_BIN", str(pathlib.Path(__file__).resolve().parents[2] / "build/bin/fjordctl"))


class Ctl:
    def __init__(self, bootstrap):
        self.bootstrap = bootstrap

    def run(self, *args, input=None, timeout=60, brokers=True):
        argv = [CTL, *(["--brokers", self.bootstrap] if brokers else []), *args]
        return subprocess.run(argv, input=input, capture_output=True, timeout=timeout)

    def json(self, *args):
        r = self.run("--json", *args)
        assert r.returncode == 0, r.stderr.decode()
        return json.loads(r.stdout)


@pytest.fixture
def ctl(broker):  # noqa: F811
    return Ctl(broker.bootstrap)
