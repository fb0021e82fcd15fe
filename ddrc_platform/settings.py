"""The deployment settings: the one place that reads the environment.

Everything else receives typed settings: `Settings` for the deployment, and one small
object per service (Snowflake, Fivetran, Azure, Slack, Airtable) that holds its secrets as
`Secret`s. Reading happens when the definitions are loaded (or a test builds settings from
its own mapping), never at import time, so every module imports, and tests, without any
environment at all.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

import dagster as dg

from ddrc_platform.core import catalog
from ddrc_platform.core.redact import url_secrets
from ddrc_platform.core.snowflake_names import SnowflakeObjects, snowflake_objects

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
class Secret:
    """A secret value and the variable it came from; `repr` shows the variable only.

    `config()` is what resource config gets: a `dg.EnvVar` when the value is in the
    process environment, so the Dagster UI shows the variable's name and the value is
    resolved when a run starts; a value only a test's mapping held stays a value.
    """

    variable: str
    value: str = field(repr=False)
    in_process_env: bool = field(default=False, repr=False)

    def config(self) -> str | dg.EnvVar:
        return dg.EnvVar(self.variable) if self.in_process_env else self.value


def secret_config(secret: Secret | None) -> str | dg.EnvVar | None:
    """An optional secret as resource config (see `Secret.config`)."""
    return secret.config() if secret else None


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
# pods come and go: incidents live in PostgreSQL (SQLite on a shared volume corrupts)
INCIDENT_STORE = Requirement("Incident store", all_of=("DDRC_INCIDENT_DATABASE_URL",))
AIRTABLE = Requirement("Airtable", all_of=("AIRTABLE_TOKEN", "DDRC_AIRTABLE_BASE_ID"))

REQUIREMENTS: dict[tuple[Deployment, SourceMode], tuple[Requirement, ...]] = {
    (Deployment.LOCAL, SourceMode.SAMPLE): (),
    (Deployment.LOCAL, SourceMode.LIVE): (AIRTABLE,),
    **{
        (deployment, mode): (SNOWFLAKE, FIVETRAN, AZURE, SLACK, DAGSTER_UI, INCIDENT_STORE)
        for deployment in (Deployment.DEV, Deployment.PRD)
        for mode in SourceMode
    },
}


# Every variable whose value must never reach a log, a Slack message or asset metadata;
# settings read these, and only these, as `Secret`s.
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
    "DDRC_INCIDENT_DATABASE_URL",
)


@dataclass(frozen=True)
class HttpSettings:
    """How patient the source clients are. Production used up to 10 tries for Malibu."""

    timeout: float = 60.0
    tries: int = 5
    malibu_tries: int = 10
    # a whole request: every try, every body and every wait between tries (Retry-After too)
    deadline: float = 300.0
    backoff: float = 1.0  # first wait in seconds; doubles each try, with full jitter
    max_backoff: float = 60.0
    concurrency: int = 4  # ArcGIS pages fetched at once per layer


@dataclass(frozen=True)
class WatchSettings:
    """How often the graph looks for change: a change is picked up within both intervals.

    `watch_seconds`: one tick reads every source's change signal. At 60 s a source answers
    1,440 signal requests a day: a layer's metadata (a few KB) for EPA and Pasadena, a
    count and a one-row query for USACE, Malibu's payload (a few hundred rows), two one-row
    reads for Airtable (local live mode only: Fivetran syncs it in dev/prd).
    `automation_seconds`: the declarative-automation sensor that runs what lies downstream
    (Dagster's own default). With both, an edit is public about a minute and a half after
    it is made, through one load run and one downstream run (`./ddrc bench`, latency).
    `incident_seconds`: the incident sensor (failed runs and checks, freshness, Slack).
    """

    watch_seconds: int = 60
    automation_seconds: int = 30
    incident_seconds: int = 30


@dataclass(frozen=True)
class SourceEndpoint:
    url: str
    ca_bundle: str | None = None  # a source whose TLS chain is broken gets its own CA bundle


@dataclass(frozen=True)
class AirtableSettings:
    """Manual metrics read directly (local live mode); Fivetran syncs them in dev/prd."""

    token: Secret | None = None
    base_id: str | None = None
    table: str = "Metrics"


@dataclass(frozen=True)
class SnowflakeSettings:
    """One Snowflake environment: the connection, and the names of its objects."""

    account: str
    user: str
    objects: SnowflakeObjects
    password: Secret | None = None
    private_key: Secret | None = None
    private_key_path: str | None = None
    private_key_passphrase: Secret | None = None
    host: str | None = None
    port: int | None = None
    protocol: str | None = None


@dataclass(frozen=True)
class FivetranSettings:
    account_id: str
    api_key: Secret
    api_secret: Secret
    api_url: str | None = None  # another API base (a stand-in)
    poll_interval: float = 10.0  # dagster-fivetran's own default, in seconds
    poll_timeout: float | None = None


@dataclass(frozen=True)
class AzureSettings:
    """The publish container; credentials by connection string, key, SAS or identity."""

    container: str
    prefix: str = ""
    connection_string: Secret | None = None
    account_url: str | None = None
    account_key: Secret | None = None
    sas_token: Secret | None = None


@dataclass(frozen=True)
class SlackSettings:
    """Incidents to Slack by bot token (threads) or webhook; neither: console + store."""

    channel: str | None = None
    token: Secret | None = None
    webhook_url: Secret | None = None
    api_url: str | None = None  # another Slack API base (a stand-in)


@dataclass(frozen=True)
class Settings:
    deployment: Deployment = Deployment.LOCAL
    home: Path = Path(".ddrc")  # load_settings() makes it absolute
    dagster_home: Path | None = None  # DAGSTER_HOME, for runs the CLI records
    sources: SourceMode = SourceMode.SAMPLE
    sample_scale: float = 1.0
    live_since: date | None = None  # DDRC_LIVE_SINCE: the first live day (partitions.py)
    endpoints: Mapping[str, SourceEndpoint] = field(default_factory=dict)
    http: HttpSettings = field(default_factory=HttpSettings)
    watch: WatchSettings = field(default_factory=WatchSettings)
    airtable: AirtableSettings = field(default_factory=AirtableSettings)
    snowflake: SnowflakeSettings | None = None  # dev/prd
    fivetran: FivetranSettings | None = None  # dev/prd
    azure: AzureSettings | None = None  # dev/prd
    slack: SlackSettings = field(default_factory=SlackSettings)
    jump_max_fraction: float = 0.5  # a metric moving more than this from its published value
    acknowledgements_path: Path = CONFIG_DIR / "acknowledgements.yaml"
    oncall_path: Path = CONFIG_DIR / "oncall.yaml"
    incident_store: Path | None = None  # DDRC_INCIDENT_STORE; default $DDRC_HOME/incidents.sqlite
    incident_database: Secret | None = None  # DDRC_INCIDENT_DATABASE_URL: PostgreSQL (dev/prd)
    max_run_seconds: float = 3000.0  # DDRC_MAX_RUN_SECONDS: a run this old is hung
    warehouse_lock_wait: float = 300.0  # DDRC_WAREHOUSE_LOCK_WAIT: local runs wait this long
    webserver_url: str = "http://127.0.0.1:3000"  # DDRC_WEBSERVER_URL: links into the UI
    # DDRC_DBT_WARM: where runs find the warm dbt server (transform/warm.py), per user by
    # default; `off` starts every dbt cold
    dbt_warm: Path | None = field(default_factory=lambda: _dbt_warm(None))

    @property
    def reacts_by_default(self) -> bool:
        """Sensors and automation run by themselves in dev/prd; a laptop turns them on in the UI."""
        return self.deployment is not Deployment.LOCAL

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def first_live_day_path(self) -> Path:
        """Where a local live home records its first live day (without DDRC_LIVE_SINCE)."""
        return self.home / "first_live_day"

    @property
    def publish_dir(self) -> Path:
        return self.home / "publish"

    @property
    def dbt_target_path(self) -> Path:
        """One stable dbt target path per home lets dbt parse partially (runs are serial)."""
        return self.home / "dbt"

    @property
    def incident_store_path(self) -> Path:
        """The local store (SQLite); dev/prd use `incident_database` (PostgreSQL)."""
        return self.incident_store or self.home / "incidents.sqlite"

    @property
    def incident_store_location(self) -> str:
        """Where incidents live: a PostgreSQL URL when one is set, else the SQLite file."""
        if self.incident_database is not None:
            return self.incident_database.value
        return str(self.incident_store_path)

    @property
    def run_dagster_home(self) -> Path:
        return self.dagster_home or self.home / "dagster"

    @property
    def secrets(self) -> list[str]:
        """Every secret value, to redact wherever text leaves the process."""
        found: list[str] = []
        for service in (self.airtable, self.snowflake, self.fivetran, self.azure, self.slack):
            for f in fields(service) if service else ():
                value = getattr(service, f.name)
                if isinstance(value, Secret) and len(value.value) >= 4:
                    found.append(value.value)
        # URLs may carry credentials (`user:pass@`, `?token=`): their parts are secrets too
        urls = [e.url for e in self.endpoints.values()]
        if self.incident_database is not None:
            urls.append(self.incident_database.value)
            found.append(self.incident_database.value)
        return found + [part for url in urls for part in url_secrets(url)]

    def endpoint(self, name: str) -> SourceEndpoint:
        return self.endpoints[name]


def _choice(env: Mapping[str, str], name: str, enum: type[E], default: E) -> E:
    raw = env.get(name, "").strip().lower() or default.value
    try:
        return enum(raw)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise SettingsError(f"{name}={raw!r} is not one of: {allowed}") from None


def number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None


def day(env: Mapping[str, str], name: str) -> date | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a date (YYYY-MM-DD)") from None


class _Reader:
    """Reads one environment mapping; knows whether it is the process environment."""

    def __init__(self, environ: Mapping[str, str] | None) -> None:
        self.env: Mapping[str, str] = dict(os.environ if environ is None else environ)
        self._process = environ is None

    def get(self, name: str) -> str | None:
        return self.env.get(name) or None

    def secret(self, name: str) -> Secret | None:
        assert name in SECRET_VARIABLES, f"{name} is read as a secret but not listed as one"
        value = self.get(name)
        if value is None:
            return None
        in_process = self._process or os.environ.get(name) == value
        return Secret(name, value, in_process_env=in_process)


def _snowflake(read: _Reader, deployment: Deployment) -> SnowflakeSettings:
    if deployment is Deployment.LOCAL:
        raise SettingsError("no Snowflake environment for deployment 'local' (dev, prd)")
    if gaps := SNOWFLAKE.missing(read.env):
        raise SettingsError(f"Snowflake ({deployment}): set {'; '.join(gaps)}")
    key = read.secret("SNOWFLAKE_PRIVATE_KEY")
    key_path = None if key else read.get("SNOWFLAKE_PRIVATE_KEY_PATH")
    if key_path and "-----BEGIN" in key_path:
        raise SettingsError(
            "SNOWFLAKE_PRIVATE_KEY_PATH holds key text, not a path: "
            "put the PEM text in SNOWFLAKE_PRIVATE_KEY instead"
        )
    uses_key = bool(key or key_path)
    port = read.get("SNOWFLAKE_PORT")
    if port is not None and not port.isdigit():
        raise SettingsError(f"SNOWFLAKE_PORT={port!r} is not a port number")
    return SnowflakeSettings(
        account=read.env["SNOWFLAKE_ACCOUNT"],
        user=read.env["SNOWFLAKE_USER"],
        objects=snowflake_objects(deployment.value, read.env),
        password=None if uses_key else read.secret("SNOWFLAKE_PASSWORD"),
        private_key=key,
        private_key_path=key_path,
        private_key_passphrase=read.secret("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
        if uses_key
        else None,
        host=read.get("SNOWFLAKE_HOST"),
        port=int(port) if port else None,
        protocol=read.get("SNOWFLAKE_PROTOCOL"),
    )


def _fivetran(read: _Reader) -> FivetranSettings:
    account_id = read.get("FIVETRAN_ACCOUNT_ID")
    if not account_id:
        raise SettingsError("FIVETRAN_ACCOUNT_ID is not set: the Fivetran assets need it")
    return FivetranSettings(
        account_id=account_id,
        # the key and secret are read when a run starts (EnvVar); absent here is fine
        api_key=read.secret("FIVETRAN_API_KEY") or Secret("FIVETRAN_API_KEY", "", True),
        api_secret=read.secret("FIVETRAN_API_SECRET") or Secret("FIVETRAN_API_SECRET", "", True),
        api_url=read.get("DDRC_FIVETRAN_API_URL"),
        poll_interval=number(
            read.env, "DDRC_FIVETRAN_POLL_INTERVAL", FivetranSettings.poll_interval
        ),
        # unset or 0: the default (dagster-fivetran's own)
        poll_timeout=number(read.env, "DDRC_FIVETRAN_POLL_TIMEOUT", 0.0)
        or FivetranSettings.poll_timeout,
    )


def _azure(read: _Reader) -> AzureSettings:
    container = read.get("DDRC_AZURE_CONTAINER")
    if not container:
        raise SettingsError("DDRC_AZURE_CONTAINER is not set")
    connection_string = read.secret("AZURE_STORAGE_CONNECTION_STRING")
    account_url = read.get("AZURE_STORAGE_ACCOUNT_URL")
    if not connection_string and not account_url:
        raise SettingsError(
            "set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_URL "
            "(with AZURE_STORAGE_ACCOUNT_KEY, AZURE_STORAGE_SAS_TOKEN, or neither for "
            "DefaultAzureCredential)"
        )
    prefix = read.env.get("DDRC_AZURE_BLOB_PREFIX", AzureSettings.prefix)
    if connection_string:
        return AzureSettings(container, prefix, connection_string=connection_string)
    return AzureSettings(
        container,
        prefix,
        account_url=account_url,
        account_key=read.secret("AZURE_STORAGE_ACCOUNT_KEY"),
        sas_token=read.secret("AZURE_STORAGE_SAS_TOKEN"),
    )


def snowflake_settings(environ: Mapping[str, str], deployment: str) -> SnowflakeSettings:
    """Snowflake alone (tests, tools): the rest of a deployment's variables not needed."""
    return _snowflake(_Reader(environ), _choice({"d": deployment}, "d", Deployment, Deployment.DEV))


def fivetran_settings(environ: Mapping[str, str] | None = None) -> FivetranSettings:
    """Fivetran alone: the snapshot refresh command needs nothing else."""
    return _fivetran(_Reader(environ))


def azure_settings(environ: Mapping[str, str]) -> AzureSettings:
    return _azure(_Reader(environ))


def _require_variables(env: Mapping[str, str], deployment: Deployment, sources: SourceMode) -> None:
    """Fail once, naming every variable the deployment needs and lacks."""
    missing = {
        req.service: gaps for req in REQUIREMENTS[deployment, sources] if (gaps := req.missing(env))
    }
    if missing:
        lines = "\n".join(f"  {service}: {', '.join(gaps)}" for service, gaps in missing.items())
        raise SettingsError(
            f"DDRC_DEPLOYMENT={deployment.value} (sources: {sources.value}) cannot start; "
            f"set these environment variables:\n{lines}"
        )


def _endpoints(env: Mapping[str, str]) -> dict[str, SourceEndpoint]:
    return {
        name: SourceEndpoint(
            url=(env.get(variable) or default).rstrip("/"),
            ca_bundle=env.get(f"DDRC_{name.upper()}_CA_BUNDLE") or None,
        )
        for name, (variable, default) in catalog.endpoint_variables().items()
    }


def _http(env: Mapping[str, str]) -> HttpSettings:
    return HttpSettings(
        timeout=number(env, "DDRC_HTTP_TIMEOUT", HttpSettings.timeout),
        tries=int(number(env, "DDRC_HTTP_TRIES", HttpSettings.tries)),
        malibu_tries=int(number(env, "DDRC_MALIBU_TRIES", HttpSettings.malibu_tries)),
        deadline=number(env, "DDRC_HTTP_DEADLINE", HttpSettings.deadline),
        backoff=number(env, "DDRC_HTTP_BACKOFF", HttpSettings.backoff),
        concurrency=int(number(env, "DDRC_HTTP_CONCURRENCY", HttpSettings.concurrency)),
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment, failing once with every missing variable."""
    read = _Reader(environ)
    env = read.env
    deployment = _choice(env, "DDRC_DEPLOYMENT", Deployment, Settings.deployment)
    sources = _choice(env, "DDRC_SOURCES", SourceMode, Settings.sources)
    if deployment is not Deployment.LOCAL:
        sources = SourceMode.LIVE  # dev/prd always read the real sources
    _require_variables(env, deployment, sources)
    cloud = deployment is not Deployment.LOCAL
    dagster_home = read.get("DAGSTER_HOME")
    return Settings(
        deployment=deployment,
        home=Path(env.get("DDRC_HOME") or Settings.home).absolute(),
        dagster_home=Path(dagster_home) if dagster_home else None,
        sources=sources,
        sample_scale=number(env, "DDRC_SAMPLE_SCALE", Settings.sample_scale),
        live_since=day(env, "DDRC_LIVE_SINCE"),
        endpoints=_endpoints(env),
        http=_http(env),
        watch=WatchSettings(
            watch_seconds=int(number(env, "DDRC_WATCH_INTERVAL", WatchSettings.watch_seconds)),
            automation_seconds=int(
                number(env, "DDRC_AUTOMATION_INTERVAL", WatchSettings.automation_seconds)
            ),
            incident_seconds=int(
                number(env, "DDRC_INCIDENT_INTERVAL", WatchSettings.incident_seconds)
            ),
        ),
        airtable=AirtableSettings(
            token=read.secret("AIRTABLE_TOKEN"),
            base_id=read.get("DDRC_AIRTABLE_BASE_ID"),
            table=read.get("DDRC_AIRTABLE_TABLE") or AirtableSettings.table,
        ),
        snowflake=_snowflake(read, deployment) if cloud else None,
        fivetran=_fivetran(read) if cloud else None,
        azure=_azure(read) if cloud else None,
        slack=SlackSettings(
            channel=read.get("DDRC_SLACK_CHANNEL"),
            token=read.secret("SLACK_BOT_TOKEN"),
            webhook_url=read.secret("SLACK_WEBHOOK_URL"),
            api_url=read.get("DDRC_SLACK_API_URL"),
        ),
        jump_max_fraction=number(env, "DDRC_JUMP_MAX_FRACTION", Settings.jump_max_fraction),
        acknowledgements_path=Path(
            env.get("DDRC_ACKNOWLEDGEMENTS") or Settings.acknowledgements_path
        ),
        oncall_path=Path(env.get("DDRC_ONCALL_CONFIG") or Settings.oncall_path),
        incident_store=Path(env["DDRC_INCIDENT_STORE"]) if env.get("DDRC_INCIDENT_STORE") else None,
        incident_database=read.secret("DDRC_INCIDENT_DATABASE_URL"),
        max_run_seconds=number(env, "DDRC_MAX_RUN_SECONDS", Settings.max_run_seconds),
        warehouse_lock_wait=number(env, "DDRC_WAREHOUSE_LOCK_WAIT", Settings.warehouse_lock_wait),
        webserver_url=(env.get("DDRC_WEBSERVER_URL") or Settings.webserver_url).rstrip("/"),
        dbt_warm=_dbt_warm(env.get("DDRC_DBT_WARM")),
    )


def _dbt_warm(value: str | None) -> Path | None:
    if value == "off":
        return None
    return Path(value) if value else Path(tempfile.gettempdir()) / f"ddrc-{os.getuid()}"
