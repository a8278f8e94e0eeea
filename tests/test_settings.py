"""Settings come from HEADSHOTS_* variables and .env, and bad ones are named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, load_settings


def test_defaults_are_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.redis_url.startswith("redis://")
    assert settings.min_selfies == 6
    assert settings.max_selfies == 20
    assert settings.local_storage_root() == tmp_path / "data" / "blobs"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEADSHOTS_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("HEADSHOTS_STORAGE_URL", "s3://bucket/prefix")
    settings = load_settings()
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert settings.storage_url == "s3://bucket/prefix"


def test_dotenv_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("HEADSHOTS_DISCORD_TOKEN=from-dotenv\nHEADSHOTS_MIN_SELFIES=8\n")
    settings = load_settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "from-dotenv"
    assert settings.min_selfies == 8


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HEADSHOTS_REDIS_URL", "http://localhost"),
        ("HEADSHOTS_STORAGE_URL", "ftp://x"),
        ("HEADSHOTS_STORAGE_URL", "s3://"),
        ("HEADSHOTS_MIN_SELFIES", "many"),
        ("HEADSHOTS_MAX_SELFIES", "0"),
        ("HEADSHOTS_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"{variable}: ")
    assert "\n" not in str(caught.value)


def test_min_above_max_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEADSHOTS_MIN_SELFIES", "12")
    monkeypatch.setenv("HEADSHOTS_MAX_SELFIES", "10")
    with pytest.raises(ConfigError, match="HEADSHOTS_MIN_SELFIES must not exceed"):
        load_settings()


def test_job_records_must_outlive_the_results(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEADSHOTS_RESULTS_RETENTION_DAYS", "7")
    monkeypatch.setenv("HEADSHOTS_JOB_TTL_S", str(7 * 86400))
    with pytest.raises(ConfigError, match="HEADSHOTS_JOB_TTL_S must exceed"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="frozen"):
        settings.min_selfies = 1


def test_the_gallery_needs_https_and_a_secret(tmp_path: Path) -> None:
    base = {"_env_file": None, "storage_url": f"file://{tmp_path}"}
    with pytest.raises(ConfigError, match="HEADSHOTS_PUBLIC_URL: must be an https"):
        load_settings(**base, public_url="http://bot.example.com", gallery_secret="x" * 32)
    with pytest.raises(ConfigError, match="HEADSHOTS_GALLERY_SECRET must be set"):
        load_settings(**base, public_url="https://bot.example.com")
    on = load_settings(**base, public_url="https://bot.example.com/", gallery_secret="x" * 32)
    assert on.public_url == "https://bot.example.com"
