"""The deployment settings: the one place that reads the environment.

Everything else receives a `Settings` object. Reading happens when the definitions are
loaded (or a test builds settings from its own mapping), never at import time, so a
module can be imported — and tested — without any environment at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import dagster as dg

from ddrc_platform import catalog

E = TypeVar("E", bound=StrEnum)

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


class Deployment(StrEnum):
    LOCAL = "local"
    DEV = "dev"
    PRD = "prd"


class SourceMode(StrEnum):
    SAMPLE = "sample"  # built-in deterministic sample data: no network, no credentials
    LIVE = "live"  # the public endpoints (or local stand-ins, via the URL variables)


class SettingsError(RuntimeError):
    """The environment cannot make a working deployment; the message says how to fix it."""


@dataclass(frozen=True)
class Requirement:
    """Variables a service needs: all of `all_of`, and at least one of each `one_of` group."""

    service: str
    all_of: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()

    def missing(self, env: Mapping[str, str]) -> list[str]:
        gaps = [name for name in self.all_of if not env.get(name)]
        gaps += [" or ".join(group) for group in self.one_of if not any(env.get(n) for n in group)]
        return gaps


SNOWFLAKE = Requirement(
    "Snowflake",
    all_of=("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER"),
    one_of=(("SNOWFLAKE_PRIVATE_KEY", "SNOWFLAKE_PRIVATE_KEY_PATH", "SNOWFLAKE_PASSWORD"),),
)
FIVETRAN = Requirement(
    "Fivetran", all_of=("FIVETRAN_API_KEY", "FIVETRAN_API_SECRET", "FIVETRAN_ACCOUNT_ID")
)
AZURE = Requirement(
    "Azure Blob Storage",
    all_of=("DDRC_AZURE_CONTAINER",),
    one_of=(("AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_URL"),),
)
SLACK = Requirement(
    "Slack",
    all_of=("DDRC_SLACK_CHANNEL",),
    one_of=(("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL"),),
)
DAGSTER_UI = Requirement("Dagster UI links", all_of=("DDRC_WEBSERVER_URL",))
AIRTABLE = Requirement("Airtable", all_of=("AIRTABLE_TOKEN", "DDRC_AIRTABLE_BASE_ID"))

REQUIREMENTS: dict[tuple[Deployment, SourceMode], tuple[Requirement, ...]] = {
    (Deployment.LOCAL, SourceMode.SAMPLE): (),
    (Deployment.LOCAL, SourceMode.LIVE): (AIRTABLE,),
    **{
        (deployment, mode): (SNOWFLAKE, FIVETRAN, AZURE, SLACK, DAGSTER_UI)
        for deployment in (Deployment.DEV, Deployment.PRD)
        for mode in SourceMode
    },
}

# Every variable whose value must never reach a log, a Slack message or asset metadata.
SECRET_VARIABLES = (
    "SNOWFLAKE_PASSWORD",
    "SNOWFLAKE_PRIVATE_KEY",
    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE",
    "FIVETRAN_API_KEY",
    "FIVETRAN_API_SECRET",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_WEBHOOK_URL",
    "AIRTABLE_TOKEN",
)


@dataclass(frozen=True)
class HttpSettings:
    """How patient the source clients are. Production used up to 10 tries for Malibu."""

    timeout: float = 60.0
    tries: int = 5
    malibu_tries: int = 10
    backoff: float = 1.0  # first wait in seconds; doubles each try, with full jitter
    max_backoff: float = 60.0
    concurrency: int = 4  # ArcGIS pages fetched at once per layer


@dataclass(frozen=True)
class SourceEndpoint:
    url: str
    ca_bundle: str | None = None  # a source whose TLS chain is broken gets its own CA bundle


@dataclass(frozen=True)
class Settings:
    deployment: Deployment = Deployment.LOCAL
    home: Path = Path(".ddrc")  # load_settings() makes it absolute
    sources: SourceMode = SourceMode.SAMPLE
    sample_scale: float = 1.0
    endpoints: Mapping[str, SourceEndpoint] = field(default_factory=dict)
    airtable_token: str | None = None
    airtable_base_id: str | None = None
    airtable_table: str = "Metrics"
    http: HttpSettings = field(default_factory=HttpSettings)
    jump_max_fraction: float = 0.5  # a metric moving more than this from its published value
    acknowledgements_path: Path = CONFIG_DIR / "acknowledgements.yaml"
    oncall_path: Path = CONFIG_DIR / "oncall.yaml"
    incident_store: Path | None = None  # DDRC_INCIDENT_STORE; default $DDRC_HOME/incidents.sqlite
    webserver_url: str | None = None  # DDRC_WEBSERVER_URL: links into the Dagster UI
    slack_channel: str | None = None
    slack_api_url: str | None = None  # DDRC_SLACK_API_URL: another Slack API base (a stand-in)
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def publish_dir(self) -> Path:
        return self.home / "publish"

    @property
    def incident_store_path(self) -> Path:
        """Must outlive the process: in Kubernetes, a persistent volume (deploy/helm)."""
        return self.incident_store or self.home / "incidents.sqlite"

    @property
    def secrets(self) -> list[str]:
        """Values to redact wherever text leaves the process."""
        return [v for name in SECRET_VARIABLES if (v := self.env.get(name)) and len(v) >= 4]

    def endpoint(self, name: str) -> SourceEndpoint:
        return self.endpoints[name]


_ENDPOINT_DEFAULTS = {
    "epa": ("DDRC_EPA_URL", catalog.EPA_URL),
    "usace": ("DDRC_USACE_URL", catalog.USACE_URL),
    "pasadena": ("DDRC_PASADENA_URL", catalog.PASADENA_URL),
    "malibu": ("DDRC_MALIBU_BASE_URL", catalog.MALIBU_BASE_URL),
    "airtable": ("DDRC_AIRTABLE_ENDPOINT", catalog.AIRTABLE_API_URL),
}


def _choice(env: Mapping[str, str], name: str, enum: type[E], default: E) -> E:
    raw = env.get(name, "").strip().lower() or default.value
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise SettingsError(f"{name}={raw!r} is not one of: {allowed}") from None


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


def secret_config(env: Mapping[str, str], name: str) -> str | dg.EnvVar | None:
    """A secret for resource config: `dg.EnvVar` when the process environment holds it.

    Dagster shows resource config in the UI; an EnvVar shows the variable's name only and
    is resolved when a run starts. A value only `env` holds (a test's mapping) stays a value.
    """
    value = env.get(name) or None
    if value is not None and os.environ.get(name) == value:
        return dg.EnvVar(name)
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment, failing once with every missing variable."""
    env = dict(os.environ if environ is None else environ)
    deployment = _choice(env, "DDRC_DEPLOYMENT", Deployment, Deployment.LOCAL)
    sources = _choice(env, "DDRC_SOURCES", SourceMode, SourceMode.SAMPLE)
    if deployment is not Deployment.LOCAL:
        sources = SourceMode.LIVE  # dev/prd always read the real sources

    missing = {
        req.service: gaps for req in REQUIREMENTS[deployment, sources] if (gaps := req.missing(env))
    }
    if missing:
        lines = "\n".join(f"  {service}: {', '.join(gaps)}" for service, gaps in missing.items())
        raise SettingsError(
            f"DDRC_DEPLOYMENT={deployment.value} (sources: {sources.value}) cannot start; "
            f"set these environment variables:\n{lines}"
        )

    endpoints = {
        name: SourceEndpoint(
            url=(env.get(var) or default).rstrip("/"),
            ca_bundle=env.get(f"DDRC_{name.upper()}_CA_BUNDLE") or None,
        )
        for name, (var, default) in _ENDPOINT_DEFAULTS.items()
    }
    http = HttpSettings(
        timeout=_number(env, "DDRC_HTTP_TIMEOUT", HttpSettings.timeout),
        tries=int(_number(env, "DDRC_HTTP_TRIES", HttpSettings.tries)),
        malibu_tries=int(_number(env, "DDRC_MALIBU_TRIES", HttpSettings.malibu_tries)),
        backoff=_number(env, "DDRC_HTTP_BACKOFF", HttpSettings.backoff),
        concurrency=int(_number(env, "DDRC_HTTP_CONCURRENCY", HttpSettings.concurrency)),
    )
    return Settings(
        deployment=deployment,
        home=Path(env.get("DDRC_HOME") or ".ddrc").absolute(),
        sources=sources,
        sample_scale=_number(env, "DDRC_SAMPLE_SCALE", 1.0),
        endpoints=endpoints,
        airtable_token=env.get("AIRTABLE_TOKEN") or None,
        airtable_base_id=env.get("DDRC_AIRTABLE_BASE_ID") or None,
        airtable_table=env.get("DDRC_AIRTABLE_TABLE") or "Metrics",
        http=http,
        jump_max_fraction=_number(env, "DDRC_JUMP_MAX_FRACTION", 0.5),
        acknowledgements_path=Path(
            env.get("DDRC_ACKNOWLEDGEMENTS") or CONFIG_DIR / "acknowledgements.yaml"
        ),
        oncall_path=Path(env.get("DDRC_ONCALL_CONFIG") or CONFIG_DIR / "oncall.yaml"),
        incident_store=Path(env["DDRC_INCIDENT_STORE"]) if env.get("DDRC_INCIDENT_STORE") else None,
        webserver_url=(env.get("DDRC_WEBSERVER_URL") or "http://127.0.0.1:3000").rstrip("/"),
        slack_channel=env.get("DDRC_SLACK_CHANNEL") or None,
        slack_api_url=env.get("DDRC_SLACK_API_URL") or None,
        env=env,
    )
