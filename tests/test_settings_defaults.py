"""Each setting's default is written once, on its dataclass: an empty environment gets it."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from ddrc_platform.settings import (
    AirtableSettings,
    AzureSettings,
    FivetranSettings,
    HttpSettings,
    Settings,
    WatchSettings,
    load_settings,
)
from tests.support import PLACEHOLDERS


def test_an_empty_environment_gets_the_dataclass_defaults():
    settings = load_settings({})
    defaults = Settings()
    derived = {"home", "endpoints"}  # made absolute; from the catalog
    for f in fields(Settings):
        if f.name not in derived:
            assert getattr(settings, f.name) == getattr(defaults, f.name), f.name
    assert settings.home == Path(Settings.home).absolute()
    assert settings.http == HttpSettings()
    assert settings.watch == WatchSettings()
    assert settings.airtable == AirtableSettings()


def test_services_without_their_optional_variables_get_their_defaults():
    settings = load_settings({**PLACEHOLDERS, "DDRC_DEPLOYMENT": "dev"})
    assert settings.fivetran is not None and settings.azure is not None
    assert settings.fivetran.poll_interval == FivetranSettings.poll_interval
    assert settings.fivetran.poll_timeout == FivetranSettings.poll_timeout
    assert settings.azure.prefix == AzureSettings.prefix


def test_a_set_variable_wins_over_the_default():
    settings = load_settings({"DDRC_JUMP_MAX_FRACTION": "0.25", "DDRC_AIRTABLE_TABLE": "Numbers"})
    assert settings.jump_max_fraction == 0.25
    assert settings.airtable.table == "Numbers"
    intervals = {"DDRC_WATCH_INTERVAL": "5", "DDRC_AUTOMATION_INTERVAL": "6"}
    watch = load_settings({**intervals, "DDRC_INCIDENT_INTERVAL": "7"}).watch
    assert (watch.watch_seconds, watch.automation_seconds, watch.incident_seconds) == (5, 6, 7)
