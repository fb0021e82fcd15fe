"""The deployment files agree with Dagster, with the code and with each other.

- deploy/dagster.yaml is a valid Dagster instance (Dagster's own schema and classes) whose
  run queue lets one publishing run execute at a time;
- the Helm values (values.yaml with each deployment's overlay, as render_values.py merges
  them) give the code location every variable deployment.py requires in dev and prd, secrets
  only from the Secret, and the same run queue as dagster.yaml; the overlays hold only what
  differs between dev and prd;
- the Dockerfile serves ddrc_platform.definitions and bakes the dbt manifest;
- every Terraform variable referenced is declared (and described), module calls fit;
- versions (chart, dagster-k8s) follow uv.lock.
"""

from __future__ import annotations

import fnmatch
import functools
import importlib.util
import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import yaml
from dagster._config import process_config, resolve_to_config_type
from dagster._core.instance.config import dagster_instance_config
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._utils.tags import TagConcurrencyLimitsCounter

from ddrc_platform import settings as deployment
from ddrc_platform.defs.automation.triggers import pipeline_job
from ddrc_platform.settings import Deployment, SettingsError, SourceMode, load_settings
from tests.support import PLACEHOLDERS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
INSTANCE_YAML = DEPLOY / "dagster.yaml"
HELM = DEPLOY / "helm"
HELM_BASE = HELM / "values.yaml"
SECRET_TEMPLATE = DEPLOY / "secrets" / "ddrc-secrets.example.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
TERRAFORM = ROOT / "terraform"
ENVIRONMENTS = ("dev", "prd")
SECRET_NAME = "ddrc-secrets"
CODE_LOCATION = "ddrc-platform"
PUBLISH_TAG = "ddrc/publishes"

PG_ENV = {
    "DAGSTER_PG_USERNAME": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-password",
    "DAGSTER_PG_HOST": "pg.example.internal",
    "DAGSTER_PG_DB": "dagster_prd",
    "DAGSTER_PG_PORT": "5432",
}
K8S_ENV = {
    "DAGSTER_K8S_INSTANCE_CONFIG_MAP": "ddrc-dagster-instance",
    "DAGSTER_K8S_PIPELINE_RUN_NAMESPACE": "ddrc-prd",
}


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _locked_version(package: str) -> str:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    return next(p["version"] for p in lock["package"] if p["name"] == package)


# --- deploy/dagster.yaml ---------------------------------------------------------------------


@pytest.fixture
def instance_ref(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> InstanceRef:
    """The instance as Dagster loads it from DAGSTER_HOME, with placeholder env values."""
    for name, value in {**PG_ENV, **K8S_ENV}.items():
        monkeypatch.setenv(name, value)
    shutil.copy(INSTANCE_YAML, tmp_path / "dagster.yaml")
    return InstanceRef.from_dir(str(tmp_path))


def test_instance_config_passes_dagsters_schema(instance_ref: InstanceRef) -> None:
    # from_dir validated the whole file against dagster_instance_config_schema(); the
    # settings Dagster keeps are the ones the file sets
    assert {"telemetry", "retention", "run_monitoring"} <= set(instance_ref.settings)
    assert instance_ref.settings["telemetry"] == {"enabled": False}


@pytest.mark.slow
def test_instance_storage_is_postgres_from_the_dagster_pg_variables(
    instance_ref: InstanceRef,
) -> None:
    from dagster_postgres import DagsterPostgresStorage  # seconds to import: slow tests only

    storage = instance_ref.storage_data
    assert (storage.module_name, storage.class_name) == (
        "dagster_postgres",
        "DagsterPostgresStorage",
    )
    result = process_config(
        resolve_to_config_type(DagsterPostgresStorage.config_type()), storage.config_dict
    )
    assert result.success, result.errors
    db = result.value["postgres_db"]
    assert (db["username"], db["password"], db["hostname"], db["db_name"]) == (
        PG_ENV["DAGSTER_PG_USERNAME"],
        PG_ENV["DAGSTER_PG_PASSWORD"],
        PG_ENV["DAGSTER_PG_HOST"],
        PG_ENV["DAGSTER_PG_DB"],
    )
    assert db["port"] == int(PG_ENV["DAGSTER_PG_PORT"])


def test_instance_rejects_an_invalid_key(tmp_path: Path) -> None:
    """The schema check above is real: a misspelt section fails to load."""
    config = _yaml(INSTANCE_YAML)
    config["run_monitorng"] = config.pop("run_monitoring")
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(dg.DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


PIPELINE = pipeline_job([])


def _run(tags: dict[str, str]) -> dg.DagsterRun:
    return dg.DagsterRun(job_name=PIPELINE.name, tags=tags)


def test_only_one_publishing_run_executes_at_a_time(instance_ref: InstanceRef) -> None:
    coordinator = instance_ref.run_coordinator
    assert isinstance(coordinator, QueuedRunCoordinator)
    queue = coordinator.get_run_queue_config()
    assert 2 <= queue.max_concurrent_runs <= 20

    publishing = dict(PIPELINE.tags)  # the job's own tags, as its runs carry them
    assert publishing.get(PUBLISH_TAG) == "true"
    running = [_run(publishing)]
    counter = TagConcurrencyLimitsCounter(queue.tag_concurrency_limits, running)
    assert counter.is_blocked(_run(publishing)), "a second publishing run would start"
    assert not counter.is_blocked(_run({"dagster/backfill": "x"})), "other runs wait needlessly"
    assert not TagConcurrencyLimitsCounter(queue.tag_concurrency_limits, []).is_blocked(
        _run(publishing)
    )


def test_instance_launches_runs_as_kubernetes_jobs(instance_ref: InstanceRef) -> None:
    launcher = instance_ref.run_launcher_data
    assert (launcher.module_name, launcher.class_name) == ("dagster_k8s", "K8sRunLauncher")
    config = launcher.config_dict
    assert SECRET_NAME in config["env_secrets"]
    assert config["instance_config_map"] == {"env": "DAGSTER_K8S_INSTANCE_CONFIG_MAP"}


@pytest.mark.slow
def test_k8s_run_launcher_config_fits_dagster_k8s(instance_ref: InstanceRef) -> None:
    """dagster-k8s is in the image, not the project: checked where it is installed."""
    dagster_k8s = pytest.importorskip("dagster_k8s")
    result = process_config(
        resolve_to_config_type(dagster_k8s.K8sRunLauncher.config_type()),
        instance_ref.run_launcher_data.config_dict,
    )
    assert result.success, result.errors
    assert result.value["instance_config_map"] == K8S_ENV["DAGSTER_K8S_INSTANCE_CONFIG_MAP"]


def test_run_monitoring_frees_the_publishing_slot_within_the_hour() -> None:
    monitoring = _yaml(INSTANCE_YAML)["run_monitoring"]
    assert monitoring["enabled"] is True
    # a hung run holds the one publishing slot: the runs of the changes queued behind it
    # (and the daily reconcile) wait until the daemon fails it
    assert 0 < monitoring["max_runtime_seconds"] < 3600
    assert monitoring["start_timeout_seconds"] > 0


def test_tick_retention_is_bounded() -> None:
    retention = _yaml(INSTANCE_YAML)["retention"]
    for kind in ("schedule", "sensor"):
        days = retention[kind]["purge_after_days"]
        values = days.values() if isinstance(days, dict) else [days]
        assert all(0 < v <= 365 for v in values), kind


# --- Helm values -----------------------------------------------------------------------------


@functools.cache
def _renderer() -> Any:
    """deploy/render_values.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("render_values", DEPLOY / "render_values.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _values(env: str) -> dict[str, Any]:
    """The deployment's values as Helm gets them: values.yaml with its overlay merged."""
    return _renderer().load_values(env)


def _overlay(env: str) -> dict[str, Any]:
    return _yaml(HELM / f"values-{env}.yaml")


def _code_location(values: dict[str, Any]) -> dict[str, Any]:
    (location,) = [
        d for d in values["dagster-user-deployments"]["deployments"] if d["name"] == CODE_LOCATION
    ]
    return location


def _env_entries(env: str) -> dict[str, dict[str, Any]]:
    entries = _code_location(_values(env))["env"]
    assert isinstance(entries, list), "env must be a list (secretKeyRef needs the list form)"
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), "a variable is set twice"
    return {e["name"]: e for e in entries}


def _secret_ref(entry: dict[str, Any]) -> dict[str, Any] | None:
    return (entry.get("valueFrom") or {}).get("secretKeyRef")


def _required_in_deployment(entry: dict[str, Any]) -> bool:
    """Set on every pod: a non-empty value, or a key the Secret must have."""
    ref = _secret_ref(entry)
    if ref is not None:
        return not ref.get("optional", False)
    return bool(str(entry.get("value", "")).strip())


def _requirements(env: str) -> Iterator[deployment.Requirement]:
    for mode in SourceMode:
        yield from deployment.REQUIREMENTS[Deployment(env), mode]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_code_location_serves_the_definitions(env: str) -> None:
    values = _values(env)
    location = _code_location(values)
    assert location["dagsterApiGrpcArgs"] == ["-m", "ddrc_platform.definitions"]
    assert location["port"] == 3030
    assert location["includeConfigInLaunchedRuns"]["enabled"] is True
    assert location["image"]["tag"] == "unset", "the release's tag comes from render_values.py"
    assert values["dagster-user-deployments"]["enabled"] is True
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["telemetry"]["enabled"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_gives_the_code_every_variable_deployment_requires(env: str) -> None:
    entries = _env_entries(env)
    assert entries["DDRC_DEPLOYMENT"]["value"] == env
    gaps = set()
    for requirement in _requirements(env):
        for name in requirement.all_of:
            if name not in entries or not _required_in_deployment(entries[name]):
                gaps.add(f"{requirement.service}: {name} (required)")
        for group in requirement.one_of:
            if not any(name in entries for name in group):
                gaps.add(f"{requirement.service}: one of {', '.join(group)}")
    assert not gaps, f"values-{env}.yaml does not provide: {sorted(gaps)}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_secrets_come_from_the_secret_only(env: str) -> None:
    entries = _env_entries(env)
    for name in deployment.SECRET_VARIABLES:
        assert name in entries, f"{name} is not wired"
        ref = _secret_ref(entries[name])
        assert ref is not None, f"{name} is a plain value in values-{env}.yaml"
        assert (ref["name"], ref["key"]) == (SECRET_NAME, name)
    for name, entry in entries.items():
        if (ref := _secret_ref(entry)) is not None:
            assert ref["name"] == SECRET_NAME and ref["key"] == name, name


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_keeps_the_baked_manifest_valid(env: str) -> None:
    """The image's dbt manifest names the default databases: no override may differ."""
    overrides = {n for n in _env_entries(env) if re.fullmatch(r"DDRC_SNOWFLAKE_\w+_DATABASE", n)}
    assert not overrides


def test_secret_template_lists_exactly_the_keys_the_values_read() -> None:
    template = _yaml(SECRET_TEMPLATE)
    assert (template["kind"], template["metadata"]["name"]) == ("Secret", SECRET_NAME)
    keys = set(template["stringData"])
    for env in ENVIRONMENTS:
        read = {
            ref["key"] for e in _env_entries(env).values() if (ref := _secret_ref(e)) is not None
        }
        assert read == keys, f"values-{env}.yaml vs {SECRET_TEMPLATE.name}"


def _paths(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        return {p for k, v in node.items() for p in _paths(v, f"{prefix}/{k}")} | {prefix}
    if isinstance(node, list):
        return {p for item in node for p in _paths(item, f"{prefix}[]")} | {prefix}
    return {prefix}


def test_dev_and_prd_values_have_the_same_shape() -> None:
    assert _paths(_values("dev")) == _paths(_values("prd"))
    dev, prd = _env_entries("dev"), _env_entries("prd")
    assert list(dev) == list(prd)
    assert dev["DDRC_AZURE_CONTAINER"]["value"] != prd["DDRC_AZURE_CONTAINER"]["value"]
    assert dev["DDRC_SLACK_CHANNEL"]["value"] != prd["DDRC_SLACK_CHANNEL"]["value"]


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value by its path, as render_values.py merges: items of a list of named
    mappings by their name (the name itself is no value), any other list whole."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{path}/{key}")
    elif isinstance(node, list) and node and all(isinstance(i, dict) and "name" in i for i in node):
        for item in node:
            rest = {k: v for k, v in item.items() if k != "name"}
            yield from _leaves(rest, f"{path}[{item['name']}]")
    else:
        yield path, node


LOCATION_ENV = f"/dagster-user-deployments/deployments[{CODE_LOCATION}]/env"
DIFFERS_BY_DEPLOYMENT = {
    "/postgresql/postgresqlDatabase",
    f"{LOCATION_ENV}[DDRC_DEPLOYMENT]/value",
    f"{LOCATION_ENV}[DDRC_AZURE_CONTAINER]/value",
    f"{LOCATION_ENV}[DDRC_SLACK_CHANNEL]/value",
    f"{LOCATION_ENV}[SNOWFLAKE_USER]/value",
}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_overlay_holds_only_what_differs_from_the_base(env: str) -> None:
    base = dict(_leaves(_yaml(HELM_BASE)))
    overlay = dict(_leaves(_overlay(env)))
    assert overlay, f"values-{env}.yaml is empty"
    repeated = sorted(path for path, value in overlay.items() if base.get(path, ...) == value)
    assert not repeated, f"values-{env}.yaml repeats values.yaml: {repeated}"
    # and everything in it is this deployment's own: the other overlay sets it differently
    assert set(overlay) == DIFFERS_BY_DEPLOYMENT


def test_rendered_dev_and_prd_differ_only_by_deployment() -> None:
    dev, prd = dict(_leaves(_values("dev"))), dict(_leaves(_values("prd")))
    assert set(dev) == set(prd)
    assert {path for path in dev if dev[path] != prd[path]} == DIFFERS_BY_DEPLOYMENT


def test_render_values_merges_named_items_by_name(render_values: Any) -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "env": [{"name": "A"}, {"name": "B", "value": "b"}]}
    overlay = {"a": {"y": [3]}, "env": [{"name": "A", "value": "a"}, {"name": "C", "value": "c"}]}
    assert render_values.merge(base, overlay) == {
        "a": {"x": 1, "y": [3]},
        "env": [
            {"name": "A", "value": "a"},
            {"name": "B", "value": "b"},
            {"name": "C", "value": "c"},
        ],
    }
    assert base["env"][0] == {"name": "A"}, "the base is left as it was"


def test_render_values_refuses_an_overlay_that_leaves_a_value_out(
    render_values: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay = _overlay("prd")
    env = _code_location(overlay)["env"]
    env[:] = [e for e in env if e["name"] != "SNOWFLAKE_USER"]
    shutil.copy(HELM_BASE, tmp_path / HELM_BASE.name)
    (tmp_path / "values-prd.yaml").write_text(yaml.safe_dump(overlay))
    monkeypatch.setattr(render_values, "HELM_DIR", tmp_path)
    with pytest.raises(render_values.RenderError, match="SNOWFLAKE_USER"):
        render_values.load_values("prd")


def _chart_instance(values: dict[str, Any]) -> dict[str, Any]:
    """The parts of dagster.yaml the chart renders from these values (its templates'
    mapping of camelCase values to the instance's keys)."""
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    retention = values["retention"]
    return {
        "run_coordinator": {
            "module": "dagster.core.run_coordinator",
            "class": values["dagsterDaemon"]["runCoordinator"]["type"],
            "config": {
                "max_concurrent_runs": queued["maxConcurrentRuns"],
                "tag_concurrency_limits": queued["tagConcurrencyLimits"],
                "dequeue_use_threads": queued["dequeueUseThreads"],
                "dequeue_num_workers": queued["dequeueNumWorkers"],
            },
        },
        "retention": {
            "schedule": {"purge_after_days": retention["schedule"]["purgeAfterDays"]},
            "sensor": {"purge_after_days": retention["sensor"]["purgeAfterDays"]},
            "auto_materialize": {
                "purge_after_days": retention["autoMaterialize"]["purgeAfterDays"]
            },
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
        **values["additionalInstanceConfig"],
    }


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_instance_matches_dagster_yaml(env: str, tmp_path: Path) -> None:
    values = _values(env)
    assert values["dagsterDaemon"]["runCoordinator"]["enabled"] is True
    # run monitoring comes from additionalInstanceConfig only (the chart's would clash)
    assert values["dagsterDaemon"]["runMonitoring"]["enabled"] is False
    rendered = _chart_instance(values)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(rendered))
    dagster_instance_config(str(tmp_path))  # raises on anything Dagster would reject
    instance = _yaml(INSTANCE_YAML)
    for key in ("run_coordinator", "run_monitoring", "retention", "telemetry"):
        assert rendered[key] == instance[key], key


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_helm_uses_the_external_postgres(env: str) -> None:
    values = _values(env)
    assert values["postgresql"]["enabled"] is False
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert values["postgresql"]["postgresqlDatabase"] == f"dagster_{env}"


# --- deploy/render_values.py -----------------------------------------------------------------


@pytest.fixture(scope="module")
def render_values() -> Any:
    return _renderer()


def test_render_values_sets_the_image_and_nothing_else(render_values: Any) -> None:
    rendered = render_values.render("prd", "example.azurecr.io/ddrc-platform:1a2b3c4d5e6f")
    image = _code_location(rendered)["image"]
    assert (image["repository"], image["tag"]) == (
        "example.azurecr.io/ddrc-platform",
        "1a2b3c4d5e6f",
    )
    expected = _values("prd")
    _code_location(expected)["image"].update(image)
    assert rendered == expected


@pytest.mark.parametrize(
    ("env", "image"),
    [
        ("prd", "registry:5000/ddrc-platform"),  # no tag
        ("prd", "registry/ddrc-platform:unset"),
        ("dev", "registry/ddrc-platform:latest"),  # a moving tag
        ("local", "registry/ddrc-platform:1a2b3c"),
    ],
)
def test_render_values_refuses_an_image_that_is_not_one_release(
    render_values: Any, env: str, image: str
) -> None:
    with pytest.raises(render_values.RenderError):
        render_values.render(env, image)
    if env in ENVIRONMENTS:
        assert render_values.main([env, "--image", image]) == 2


# --- Dockerfile ------------------------------------------------------------------------------


def _dockerfile_instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", "", DOCKERFILE.read_text())
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _dockerfile_args() -> dict[str, str]:
    return dict(
        arg.split("=", 1) for op, arg in _dockerfile_instructions() if op == "ARG" and "=" in arg
    )


def test_image_serves_the_definitions_module() -> None:
    instructions = _dockerfile_instructions()
    (cmd,) = [json.loads(arg) for op, arg in instructions if op == "CMD"]
    assert cmd[:3] == ["dagster", "api", "grpc"]
    module = cmd[cmd.index("-m") + 1]
    assert module == "ddrc_platform.definitions" == _dagster_module()
    assert importlib.util.find_spec(module) is not None
    assert cmd[cmd.index("-p") + 1] == "3030"
    assert cmd[cmd.index("-h") + 1] == "0.0.0.0"
    # the chart replaces CMD with `args`: an ENTRYPOINT must pass them through unchanged
    (entrypoint,) = [json.loads(arg) for op, arg in instructions if op == "ENTRYPOINT"]
    assert entrypoint in (["tini", "--"], ["tini", "-g", "--"])


def _dagster_module() -> str:
    """The one entry: `[tool.dg.project]` (what `dg dev`, `dg launch` and `dg list` load);
    the image's CMD and workspace.yaml must name the same module."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    module = pyproject["tool"]["dg"]["project"]["code_location_target_module"]
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert [e["python_module"]["module_name"] for e in workspace["load_from"]] == [module]
    return module


def test_image_bakes_the_dbt_manifest_of_every_deployment() -> None:
    from ddrc_platform.transform.manifests import TARGETS
    from ddrc_platform.transform.project import dbt_project

    instructions = _dockerfile_instructions()
    prepare = [
        i
        for i, (op, arg) in enumerate(instructions)
        if op == "RUN" and "python -m ddrc_platform.cli prepare" in arg
    ]
    assert len(prepare) == 1, "the image must prepare the dbt manifests once"
    command = instructions[prepare[0]][1]
    prepared = set(re.findall(r"--target (\w+)", command.split("&&")[0])) or set(TARGETS)
    deployed = {d.value for d in Deployment if d is not Deployment.LOCAL}
    assert deployed <= prepared <= set(TARGETS)
    # the build then checks each deployment's manifest where DbtProject reads it
    assert "for target in dev prd" in command and set(ENVIRONMENTS) == deployed
    for env in ENVIRONMENTS:
        manifest = Path(dbt_project(env).manifest_path).resolve().relative_to(ROOT).as_posix()
        assert manifest == f"ddrc_dbt/target/{env}/manifest.json"
    assert "open(f'ddrc_dbt/target/{t}/manifest.json')" in command
    # after the project is copied in, before the non-root user takes over
    copy_all = max(i for i, (op, arg) in enumerate(instructions) if op == "COPY" and arg == ". .")
    assert copy_all < prepare[0]
    (user_index,) = [i for i, (op, _) in enumerate(instructions) if op == "USER"]
    assert prepare[0] < user_index
    assert instructions[user_index][1].split(":")[0] not in ("root", "0")
    assert "ddrc_dbt/target" in command.split("chown")[-1], "the runtime user owns the target"


def test_image_installs_from_the_lock_with_dagster_k8s_on_the_same_line() -> None:
    runs = " ".join(arg for op, arg in _dockerfile_instructions() if op == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    assert _dockerfile_args()["DAGSTER_K8S_VERSION"] == _locked_version("dagster-postgres")
    assert '"dagster-k8s==${DAGSTER_K8S_VERSION}"' in runs


def test_image_keeps_the_fivetran_snapshot() -> None:
    snapshot = _dockerfile_args()["FIVETRAN_SNAPSHOT"]
    assert (ROOT / snapshot).is_file(), f"the image build needs {snapshot}"
    assert not _docker_ignored(snapshot)


def _docker_ignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (no `!` rules used)."""
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(p.startswith("!") for p in patterns), "extend _docker_ignored for ! rules"
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatch(prefix, pattern):
                return True
            if pattern.startswith("**/") and fnmatch.fnmatch(prefix.rsplit("/", 1)[-1], bare):
                return True
    return False


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "ddrc_platform/definitions.py",
        "ddrc_platform/transform/project.py",
        "ddrc_dbt/dbt_project.yml",
        "ddrc_dbt/profiles.yml",
        "ddrc_dbt/models",
        "config/oncall.yaml",
        "config/acknowledgements.yaml",
    ],
)
def test_build_context_has_what_the_code_reads(path: str) -> None:
    assert (ROOT / path).exists()
    assert not _docker_ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".venv/bin/python",
        ".ddrc/warehouse.duckdb",
        "ddrc_dbt/target/prd/manifest.json",
        "deploy/secrets/x.env",
        "terraform/azure/terraform.tfvars",
        "some/dir/rsa_key.p8",
    ],
)
def test_build_context_leaves_out_local_state_and_secrets(path: str) -> None:
    assert _docker_ignored(path)


# --- versions --------------------------------------------------------------------------------


def test_chart_version_is_the_locked_dagster_version() -> None:
    dagster_version = _locked_version("dagster")
    files = [HELM_BASE, DEPLOY / "README.md"]
    found = {
        (path.name, version)
        for path in files
        for version in re.findall(r"dagster/dagster --version (\S+)", path.read_text())
    }
    assert {name for name, _ in found} == {path.name for path in files}
    assert {version for _, version in found} == {dagster_version}


# --- Terraform -------------------------------------------------------------------------------

TF_ROOTS = [
    TERRAFORM / "snowflake",
    TERRAFORM / "snowflake" / "modules" / "environment",
    TERRAFORM / "azure",
]


def _hcl(folder: Path) -> str:
    text = "\n".join(path.read_text() for path in sorted(folder.glob("*.tf")))
    return re.sub(r"(?m)^\s*#.*$", "", text)  # whole-line comments


def _body(text: str, start: int) -> str:
    """The text between the `{` just before `start` and its matching `}` (strings skipped)."""
    depth, i, in_string = 1, start, False
    while depth:
        char = text[i]
        if char == '"' and text[i - 1] != "\\":
            in_string = not in_string
        elif not in_string:
            depth += {"{": 1, "}": -1}.get(char, 0)
        i += 1
    return text[start : i - 1]


def _blocks(text: str, kind: str) -> dict[str, str]:
    """Bodies of the top-level `kind "name" { ... }` blocks, by name."""
    return {
        match.group(1): _body(text, match.end())
        for match in re.finditer(rf'(?m)^{kind}\s+"([^"]+)"\s*\{{', text)
    }


def _provider_pins(text: str) -> dict[str, str]:
    """required_providers entries: provider name -> its version constraint ("" if none)."""
    pins = {}
    for match in re.finditer(r"required_providers\s*\{", text):
        body = _body(text, match.end())
        for entry in re.finditer(r"(\w+)\s*=\s*\{", body):
            spec = _body(body, entry.end())
            assert re.search(r'source\s*=\s*"[\w-]+/[\w-]+"', spec), entry.group(1)
            version = re.search(r'version\s*=\s*"([^"]*)"', spec)
            pins[entry.group(1)] = version.group(1) if version else ""
    return pins


@pytest.mark.parametrize("folder", TF_ROOTS, ids=lambda p: p.relative_to(TERRAFORM).as_posix())
def test_terraform_variables_are_declared_described_and_used(folder: Path) -> None:
    text = _hcl(folder)
    declared = _blocks(text, "variable")
    referenced = set(re.findall(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)", text))
    assert referenced - set(declared) == set(), "referenced but not declared"
    assert set(declared) - referenced == set(), "declared but never used"
    undescribed = [n for n, body in declared.items() if not re.search(r"\bdescription\s*=", body)]
    assert not undescribed, "variables without a description"
    assert re.search(r'required_version\s*=\s*"[^"]+"', text)
    pins = _provider_pins(text)
    assert pins, "no required_providers"
    assert all(pins.values()), f"providers without a version pin: {pins}"


def test_terraform_outputs_are_described() -> None:
    for folder in TF_ROOTS:
        outputs = _blocks(_hcl(folder), "output")
        assert outputs, folder
        assert all(re.search(r"\bdescription\s*=", body) for body in outputs.values()), folder


def test_snowflake_module_calls_fit_the_module() -> None:
    module_dir = TERRAFORM / "snowflake" / "modules" / "environment"
    variables = _blocks(_hcl(module_dir), "variable")
    required = {name for name, body in variables.items() if not re.search(r"\bdefault\s*=", body)}
    calls = _blocks(_hcl(TERRAFORM / "snowflake"), "module")
    assert set(calls) == set(ENVIRONMENTS)
    for env, body in calls.items():
        assert re.search(r'source\s*=\s*"\./modules/environment"', body)
        arguments = set(re.findall(r"(?m)^\s*(\w+)\s*=", body)) - {"source"}
        assert arguments <= set(variables), f"module {env}: unknown {arguments - set(variables)}"
        assert required <= arguments, f"module {env}: missing {required - arguments}"
        assert re.search(rf'environment\s*=\s*"{env}"', body)


def test_snowflake_names_are_the_ones_the_code_uses() -> None:
    module = _hcl(TERRAFORM / "snowflake" / "modules" / "environment")
    for prefix in (
        "RAW_DDRC_",
        "TRANSFORM_DDRC_",
        "ANALYTICS_DDRC_",
        "LOADER_",
        "TRANSFORMER_",
        "REPORTER_",
        "LOADING_",
        "TRANSFORMING_",
        "REPORTING_",
        "DDRC_DAGSTER_",
    ):
        assert f'"{prefix}${{local.suffix}}"' in module, prefix
    assert re.search(r'name\s*=\s*"OPS"', module)
    assert "rsa_public_key" in module and "snowflake_service_user" in module
    for env in ENVIRONMENTS:  # the names themselves: tests/test_terraform.py
        assert _env_entries(env)["SNOWFLAKE_USER"]["value"] == f"DDRC_DAGSTER_{env.upper()}"


def test_azure_names_are_the_ones_the_deployments_use() -> None:
    azure = _hcl(TERRAFORM / "azure")
    variables = _blocks(azure, "variable")
    prefix = re.search(r'default\s*=\s*"([^"]+)"', variables["prefix"]).group(1)
    assert '"${var.prefix}-dagster-pg"' in azure
    assert '"dagster_${each.key}"' in azure
    for env in ENVIRONMENTS:
        values = _values(env)
        container = _env_entries(env)["DDRC_AZURE_CONTAINER"]["value"]
        assert re.search(rf'{env}\s*=\s*"{re.escape(container)}"', azure), container
        host = values["postgresql"]["postgresqlHost"]
        assert host == f"{prefix}-dagster-pg.postgres.database.azure.com"
    assert re.search(r'container_access_type\s*=\s*"blob"', azure)
    assert "cors_rule" in azure and "Storage Blob Data Contributor" in azure
    assert re.search(r"prefix_match\s*=\s*\[[^\]]*/history/", azure)
    assert not re.search(r"delete_after_days", azure), "history/ blobs must never be deleted"


@pytest.mark.parametrize("deployment", ["dev", "prd"])
def test_incident_store_is_postgres_in_kubernetes_not_a_shared_volume(deployment):
    """SQLite on a volume two pods mount corrupts; the code server gets a database URL."""
    values = _values(deployment)
    (code,) = values["dagster-user-deployments"]["deployments"]
    env = {e["name"]: e for e in code["env"]}
    assert "DDRC_INCIDENT_STORE" not in env and not code.get("volumes")
    source = env["DDRC_INCIDENT_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert source["name"] == "ddrc-secrets" and not source.get("optional")
    settings = load_settings({**PLACEHOLDERS, "DDRC_DEPLOYMENT": deployment})
    assert settings.incident_store_location.startswith("postgresql://")
    assert "placeholder" in settings.secrets  # the URL's password is redacted everywhere
    without = {k: v for k, v in PLACEHOLDERS.items() if k != "DDRC_INCIDENT_DATABASE_URL"}
    with pytest.raises(SettingsError, match="DDRC_INCIDENT_DATABASE_URL"):
        load_settings({**without, "DDRC_DEPLOYMENT": deployment})
