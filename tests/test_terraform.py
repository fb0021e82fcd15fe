"""Terraform creates exactly the Snowflake objects and Azure containers the code connects to.

Terraform cannot run here (no binary, no providers), so the .tf files are parsed with
python-hcl2 and the few expressions that make a name (`"RAW_DDRC_${local.suffix}"`, a
`for_each` over a local) are evaluated by this test; anything else it refuses rather than
guesses. The expected names are derived from the code with the deployment's own settings
(the Helm values), so a rename on either side fails here before an apply or a deploy does.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from ddrc_platform.settings import snowflake_settings
from ddrc_platform.transform.manifests import dbt_vars

ROOT = Path(__file__).resolve().parent.parent
TERRAFORM = ROOT / "terraform"
SNOWFLAKE_ROOT = TERRAFORM / "snowflake"
SNOWFLAKE_MODULE = SNOWFLAKE_ROOT / "modules" / "environment"
AZURE_ROOT = TERRAFORM / "azure"
DBT = ROOT / "ddrc_dbt"
ENVIRONMENTS = ("dev", "prd")

# Stand-ins for what the Secret ddrc-secrets provides: the code builds no connection without them
CREDENTIALS = {"SNOWFLAKE_ACCOUNT": "placeholder", "SNOWFLAKE_PASSWORD": "placeholder"}


def expected_snowflake_names(env: str) -> dict[str, dict[str, str]]:
    """The Snowflake names the code deployed as `env` uses, keyed like the Terraform module.

    Python's connections take them from the settings (`core.snowflake_names.snowflake_objects`
    with the Helm values' environment); dbt from the vars the Python side passes it, read by the
    profile, the analytics macro and every raw source. Where several places name one
    object they must agree.
    """
    settings = snowflake_settings({**CREDENTIALS, **_helm_env(env)}, env)
    objects = settings.objects
    variables = dbt_vars(env, objects)
    profile = yaml.safe_load((DBT / "profiles.yml").read_text())["ddrc_dbt"]["outputs"][env]
    naming = (DBT / "macros" / "naming.sql").read_text()
    analytics = re.search(r"macro analytics_database\(\).*?endmacro", naming, re.DOTALL)
    assert analytics, "ddrc_dbt/macros/naming.sql has no analytics_database macro"
    raw_sources = [
        (f"dbt source {source['name']}", _dbt_var(source["database"], variables))
        for path in sorted(DBT.glob("models/**/_*__sources.yml"))
        for source in yaml.safe_load(path.read_text())["sources"]
    ]
    assert raw_sources, "no dbt sources found"
    return {
        "databases": {
            "raw": _agreed(("loader connection", objects.raw_database), *raw_sources),
            "transform": _agreed(
                ("transformer connection", objects.transform_database),
                ("dbt profile", _dbt_var(profile["database"], variables)),
            ),
            "analytics": _agreed(
                ("settings", objects.analytics_database),
                ("dbt analytics macro", _dbt_var(analytics.group(), variables)),
            ),
        },
        "roles": {
            "loader": objects.loader_role,
            "transformer": _agreed(
                ("transformer connection", objects.transformer_role),
                ("dbt profile", _dbt_var(profile["role"], variables)),
            ),
            "reporter": objects.reporter_role,
        },
        "warehouses": {
            "loader": objects.loader_warehouse,
            "transformer": _agreed(
                ("transformer connection", objects.transformer_warehouse),
                ("dbt profile", _dbt_var(profile["warehouse"], variables)),
            ),
            "reporter": objects.reporter_warehouse,
        },
        "users": {"dagster": settings.user},  # SNOWFLAKE_USER of the Helm values
    }


def expected_azure_containers() -> dict[str, str]:
    """The container each deployment publishes to (DDRC_AZURE_CONTAINER in its Helm values)."""
    return {env: _helm_env(env)["DDRC_AZURE_CONTAINER"] for env in ENVIRONMENTS}


def _helm_env(env: str) -> dict[str, str]:
    """The code location's plain environment variables in values-<env>.yaml (not secrets)."""
    values = yaml.safe_load((ROOT / "deploy" / "helm" / f"values-{env}.yaml").read_text())
    (location,) = values["dagster-user-deployments"]["deployments"]
    return {e["name"]: str(e["value"]) for e in location["env"] if "value" in e}


def _dbt_var(jinja: str, variables: dict[str, str]) -> str:
    """The value of the one `var(NAME, ...)` in `jinja`, as the Python side passes it."""
    names = re.findall(r"\bvar\('(\w+)'", jinja)
    assert len(names) == 1, f"expected one var() in {jinja!r}"
    assert names[0] in variables, f"dbt reads var {names[0]!r}, which the code never passes"
    return variables[names[0]]


def _agreed(*claims: tuple[str, str]) -> str:
    """The one name all `claims` (where, name) make: the code must not disagree with itself."""
    names = {name for _, name in claims}
    assert len(names) == 1, f"the code names this object differently: {claims}"
    return names.pop()


# --- what Terraform creates ------------------------------------------------------------------

HCL = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True
)


def _load(folder: Path) -> dict[str, list[Any]]:
    """Every block of a folder's .tf files, by block type (Terraform reads a folder as one)."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.tf")):
        for kind, blocks in hcl2.loads(path.read_text(), serialization_options=HCL).items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def _labelled(hcl: dict[str, list[Any]], kind: str) -> dict[str, Any]:
    """Blocks with one label (module, variable, output) by label."""
    return {label: body for block in hcl.get(kind, []) for label, body in block.items()}


def _resource(hcl: dict[str, list[Any]], address: str) -> dict[str, Any]:
    kind, name = address.split(".")
    (body,) = [b[kind][name] for b in hcl.get("resource", []) if name in b.get(kind, {})]
    return body


def _locals(hcl: dict[str, list[Any]]) -> dict[str, Any]:
    return {key: value for block in hcl.get("locals", []) for key, value in block.items()}


def _render(template: str, values: dict[str, str]) -> str:
    """`template` with each `${expression}` taken from `values`; any other expression fails."""

    def value(match: re.Match[str]) -> str:
        assert match.group(1) in values, f"cannot evaluate {match.group()} in {template!r}"
        return values[match.group(1)]

    return re.sub(r"\$\{([^}]*)\}", value, template)


def _for_each_names(
    hcl: dict[str, list[Any]], address: str, values: dict[str, str]
) -> dict[str, str]:
    """Names of the instances of `address` by instance key.

    Only the form these modules use: `for_each = local.X` with `name = each.value`.
    """
    body = _resource(hcl, address)
    source = re.fullmatch(r"\$\{local\.(\w+)\}", body["for_each"])
    assert source and body["name"] == "${each.value}", f"{address}: extend _for_each_names"
    return {key: _render(name, values) for key, name in _locals(hcl)[source.group(1)].items()}


@dataclass
class Terraform:
    """The parsed root modules (and the Snowflake environment module they call)."""

    snowflake: dict[str, list[Any]]
    environment_module: dict[str, list[Any]]
    azure: dict[str, list[Any]]


def snowflake_names(terraform: Terraform, env: str) -> dict[str, dict[str, str]]:
    """What `module "<env>"` creates: databases, roles, warehouses, the Dagster user."""
    call = _labelled(terraform.snowflake, "module")[env]
    assert call["source"] == "./modules/environment"
    module = terraform.environment_module
    assert _locals(module)["suffix"] == "${upper(var.environment)}", "extend snowflake_names"
    environment = _render(call["environment"], {})
    values = {"var.environment": environment, "local.suffix": environment.upper()}
    dagster_user = _resource(module, "snowflake_service_user.dagster")["name"]
    return {
        "databases": _for_each_names(module, "snowflake_database.this", values),
        "roles": _for_each_names(module, "snowflake_account_role.this", values),
        "warehouses": _for_each_names(module, "snowflake_warehouse.this", values),
        "users": {"dagster": _render(dagster_user, values)},
    }


def azure_containers(terraform: Terraform) -> dict[str, str]:
    """The published containers by deployment."""
    return _for_each_names(terraform.azure, "azurerm_storage_container.metrics", {})


def _flat(names: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in names.items():
        path = f"{prefix}{key}"
        flat.update(_flat(value, f"{path}.") if isinstance(value, dict) else {path: value})
    return flat


def mismatches(terraform: Terraform) -> list[str]:
    """Every name Terraform creates differently from the code (or only on one side)."""
    pairs = {
        f"snowflake {env}": (expected_snowflake_names(env), snowflake_names(terraform, env))
        for env in ENVIRONMENTS
    }
    pairs["azure containers"] = (expected_azure_containers(), azure_containers(terraform))
    found = []
    for scope, (expected, created) in pairs.items():
        code, tf = _flat(expected), _flat(created)
        found += [
            f"{scope} {key}: code {code.get(key)!r}, Terraform {tf.get(key)!r}"
            for key in sorted(code.keys() | tf.keys())
            if code.get(key) != tf.get(key)
        ]
    return found


@pytest.fixture(scope="module")
def terraform() -> Terraform:
    return Terraform(_load(SNOWFLAKE_ROOT), _load(SNOWFLAKE_MODULE), _load(AZURE_ROOT))


def test_terraform_creates_the_names_the_code_uses(terraform: Terraform) -> None:
    assert mismatches(terraform) == []


def _rename_raw_database(t: Terraform) -> None:
    (block,) = [b for b in t.environment_module["locals"] if "databases" in b]
    block["databases"]["raw"] = "RAW_${local.suffix}"


def _build_prd_as_dev(t: Terraform) -> None:
    _labelled(t.snowflake, "module")["prd"]["environment"] = "dev"


def _rename_prd_container(t: Terraform) -> None:
    (block,) = [b for b in t.azure["locals"] if "containers" in b]
    block["containers"]["prd"] = "ddrc-metrics"


@pytest.mark.parametrize(
    ("change", "caught"),
    [
        pytest.param(
            _rename_raw_database,
            "snowflake dev databases.raw: code 'RAW_DDRC_DEV', Terraform 'RAW_DEV'",
            id="raw-database",
        ),
        pytest.param(
            _build_prd_as_dev,
            "snowflake prd roles.loader: code 'LOADER_PRD', Terraform 'LOADER_DEV'",
            id="prd-module-as-dev",
        ),
        pytest.param(
            _rename_prd_container,
            "azure containers prd: code 'ddrc-metrics-prd', Terraform 'ddrc-metrics'",
            id="prd-container",
        ),
    ],
)
def test_a_renamed_object_is_caught(
    terraform: Terraform, change: Callable[[Terraform], None], caught: str
) -> None:
    changed = copy.deepcopy(terraform)
    change(changed)
    assert caught in mismatches(changed)


def test_a_name_the_test_cannot_evaluate_fails(terraform: Terraform) -> None:
    changed = copy.deepcopy(terraform)
    _resource(changed.environment_module, "snowflake_warehouse.this")["name"] = "${each.key}"
    with pytest.raises(AssertionError, match=re.escape("snowflake_warehouse.this")):
        mismatches(changed)


@pytest.mark.parametrize("folder", [SNOWFLAKE_ROOT, AZURE_ROOT], ids=lambda p: p.name)
def test_tfvars_example_sets_declared_variables_and_every_required_one(folder: Path) -> None:
    variables = _labelled(_load(folder), "variable")
    example = hcl2.loads(
        (folder / "terraform.tfvars.example").read_text(), serialization_options=HCL
    )
    assert set(example) <= set(variables), "the example sets undeclared variables"
    required = {name for name, body in variables.items() if "default" not in body}
    assert required <= set(example), "the example leaves required variables out"
