"""Path tricks in the config: each fails at start with a ConfigError naming the file, the key and what was expected,
or behaves as documented (relative paths from the config file's folder, ``~`` as the home folder)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from config.loader import PATH_KEYS, load_settings, resolve_path
from config.settings import Settings
from scheduler.bootstrap import bootstrap
from scheduler.upkeep import sync_reference_data
from store import db
from store.errors import ConfigError
from tests.support.care import Scripted

SECTION_OF = {key: key.split(".") for key in PATH_KEYS}
CUSTOMERS = "external_id,name,email,phone,handles,segment\nKT-1,Mehmet Yılmaz,,0532 123 45 67,,bireysel\n"


def write_config(folder: Path, key: str, value: str) -> Path:
    section, name = SECTION_OF[key]
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "kulak.toml"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\x00", "\\u0000")
    config.write_text(f'[[brands]]\nname = "Kuzey Telekom"\n\n[{section}]\n{name} = "{escaped}"\n', encoding="utf-8")
    return config


def refused(config: Path, key: str, *expected: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    error = caught.value
    assert error.key == key and error.source == str(config), str(error)
    for words in expected:
        assert words in str(error), str(error)
    return error


@pytest.mark.parametrize("key", sorted(PATH_KEYS))
def test_a_nul_character_in_any_path_is_refused_at_start(tmp_path: Path, key: str) -> None:
    refused(write_config(tmp_path, key, "veri\x00.csv"), key, "NUL")


@pytest.mark.parametrize("key", [k for k, (kind, _) in PATH_KEYS.items() if kind == "file"])
def test_a_directory_where_a_file_is_expected(tmp_path: Path, key: str) -> None:
    (tmp_path / "data.csv").mkdir()
    where = "data.csv" if PATH_KEYS[key][1] else str(tmp_path / "data.csv")
    refused(write_config(tmp_path, key, where), key, "expected a file", "is a directory")


@pytest.mark.parametrize("key", [k for k, (kind, _) in PATH_KEYS.items() if kind == "directory"])
def test_a_file_where_a_directory_is_expected(tmp_path: Path, key: str) -> None:
    (tmp_path / "out").write_text("not a folder", encoding="utf-8")
    where = "out" if PATH_KEYS[key][1] else str(tmp_path / "out")
    refused(write_config(tmp_path, key, where), key, "expected a directory", "is a file")


@pytest.mark.parametrize("key", ["customers.file", "replies.templates", "digests.out_dir", "smtp.ca_file"])
def test_a_symlink_loop_or_a_dangling_link_is_refused(tmp_path: Path, key: str) -> None:
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    refused(write_config(tmp_path, key, "a"), key, "cannot be read", "symbolic links")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    refused(write_config(tmp_path, key, "dangling"), key, "cannot be read")


def test_a_broken_config_file_path_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "yok.toml", env={})
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path, env={})  # a directory
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "loop", env={})
    with pytest.raises(ConfigError):
        load_settings(str(tmp_path / "kulak\x00.toml"), env={})


def test_relative_paths_and_dotdot_are_read_from_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "musteriler.csv").write_text(CUSTOMERS, encoding="utf-8")
    config = write_config(tmp_path / "etc", "customers.file", "../data/musteriler.csv")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # where kulak happens to be started does not matter
    settings = load_settings(config, env={"KULAK_IDENTITY_KEY": "config-path-tests-key-01"})
    assert resolve_path(settings, settings.customers.file).resolve() == tmp_path / "data" / "musteriler.csv"
    counts = _sync(settings, tmp_path)
    assert counts["customers_loaded"] == 1


def test_a_tilde_is_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "ev"))
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "musteriler.csv").write_text(CUSTOMERS, encoding="utf-8")
    config = write_config(tmp_path / "etc", "customers.file", "~/musteriler.csv")
    settings = load_settings(config, env={"KULAK_IDENTITY_KEY": "config-path-tests-key-01"})
    assert resolve_path(settings, settings.customers.file) == tmp_path / "ev" / "musteriler.csv"
    assert _sync(settings, tmp_path)["customers_loaded"] == 1
    refused(write_config(tmp_path / "etc", "digests.out_dir", "~/musteriler.csv"), "digests.out_dir", "is a file")


def test_a_missing_customers_file_is_reported_each_run_and_the_run_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Documented: the file may appear later; until then each run says so and matches with what is stored."""
    config = write_config(tmp_path, "customers.file", "yok.csv")
    settings = load_settings(config, env={"KULAK_IDENTITY_KEY": "config-path-tests-key-01"})
    counts = _sync(settings, tmp_path)
    assert counts["customer_file_errors"] == 1
    assert "customers not imported" in caplog.text and "yok.csv" in caplog.text


def _sync(settings: Settings, tmp_path: Path) -> Counter[str]:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'kulak.db'}")
    try:
        app = bootstrap(settings, engine=engine, sources=[], alerters=[], ops_alerters=[], analyzer=Scripted())
        return sync_reference_data(app, app.uow)
    finally:
        engine.dispose()
