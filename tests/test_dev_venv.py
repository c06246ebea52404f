"""dev.py's virtual environment (#15.16): `start` installs requirements.lock (what running
needs), `test` requirements-dev.lock; the stamp copes with going from one to the other without
reinstalling at every switch, and a changed lock is installed again."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[str]]:
    spec = importlib.util.spec_from_file_location("dev_under_test", ROOT / "devtools" / "venv.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    venv_py = tmp_path / "venv" / "bin" / "python"
    venv_py.parent.mkdir(parents=True)
    venv_py.touch()
    prod, devlock = tmp_path / "requirements.lock", tmp_path / "requirements-dev.lock"
    prod.write_text("django==5.2\npython-dateutil==4.0.0\n")
    devlock.write_text("django==5.2\npython-dateutil==2.9.0\npytest==9.0\n")
    installed: list[str] = []
    monkeypatch.setattr(module, "VENV_PY", venv_py)
    monkeypatch.setattr(module, "STAMP", tmp_path / "venv" / "stamp")
    monkeypatch.setattr(module, "LOCKS", {"start": prod, "test": devlock})
    monkeypatch.setattr(module, "DEV_LOCK", devlock)
    monkeypatch.setattr(module, "say", lambda message: None)
    monkeypatch.setattr(module, "run", lambda cmd, **kw: installed.append(Path(cmd[-1]).name))
    return module, installed


def test_start_installs_the_production_lock_and_test_the_development_one(
    dev: tuple[ModuleType, list[str]],
) -> None:
    module, installed = dev
    module.ensure_venv("start")
    assert installed == ["requirements.lock"]
    module.ensure_venv("start")
    assert installed == ["requirements.lock"]  # nothing changed: nothing installed
    module.ensure_venv("test")
    assert installed == ["requirements.lock", "requirements-dev.lock"]
    # Back to start: the development lock holds everything running needs.
    module.ensure_venv("start")
    module.ensure_venv("test")
    assert installed == ["requirements.lock", "requirements-dev.lock"]


def test_a_changed_lock_is_installed_again(dev: tuple[ModuleType, list[str]]) -> None:
    module, installed = dev
    module.ensure_venv("test")
    module.LOCKS["test"].write_text("django==5.2.1\npytest==9.0\n")
    module.ensure_venv("start")  # the installed dev lock is not the current one any more
    assert installed == ["requirements-dev.lock", "requirements.lock"]
    module.ensure_venv("test")
    assert installed == ["requirements-dev.lock", "requirements.lock", "requirements-dev.lock"]


def test_a_stamp_of_the_earlier_dev_py_counts_as_the_development_lock(
    dev: tuple[ModuleType, list[str]],
) -> None:
    module, installed = dev
    module.STAMP.write_text(hashlib.sha256(module.DEV_LOCK.read_bytes()).hexdigest())
    module.ensure_venv("start")
    module.ensure_venv("test")
    assert installed == []
