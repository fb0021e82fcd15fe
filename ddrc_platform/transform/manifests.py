"""Whether the prepared dbt manifests are current, without Dagster or dbt: what `dbt parse`
reads is fingerprinted by content and compared with the fingerprint written beside each
manifest when it was parsed (`transform/project.py` parses).

Apart from `transform/project.py` so the check starts in a fraction of a second:
`./ddrc test --fast` runs `python -m ddrc_platform.transform.manifests` and starts the
seconds-long `./ddrc prepare` (which imports dagster-dbt) only when a manifest is stale.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ddrc_platform.core.snowflake_names import SnowflakeObjects, snowflake_objects

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent.parent / "ddrc_dbt"
MANIFEST_FILE = "manifest.json"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"  # what dbt starts a partial parse from
TARGETS = ("local", "dev", "prd")
# what `dbt parse` reads: a change to any of it makes a prepared manifest out of date
PARSED_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots")
PARSED_FILES = ("dbt_project.yml", "profiles.yml")
# written beside the manifest: the fingerprint of the project it was parsed from
FINGERPRINT_FILE = "ddrc_fingerprint.txt"


def dbt_vars(target: str, objects: SnowflakeObjects | None = None) -> dict[str, str]:
    """What profiles.yml and the sources read with `var(...)`: which Snowflake objects.

    Passed on dbt's command line rather than through the environment, so a run never
    mutates `os.environ`, and the Snowflake names come from `core.snowflake_names` alone.
    None for DuckDB: its file is the home's own (dbt runs in the home), so that one parse
    serves every home.
    """
    if target == "local":
        return {}
    objects = objects or snowflake_objects(target)
    return {
        "snowflake_role": objects.transformer_role,
        "snowflake_warehouse": objects.transformer_warehouse,
        "snowflake_database": objects.transform_database,
        "snowflake_analytics_database": objects.analytics_database,
        "snowflake_raw_database": objects.raw_database,
    }


def vars_args(variables: dict[str, str]) -> list[str]:
    return ["--vars", json.dumps(variables, sort_keys=True)]


def parse_args(target: str, variables: dict[str, str] | None = None) -> list[str]:
    return ["parse", "--quiet", *vars_args(variables or dbt_vars(target))]


def project_fingerprint(project_dir: Path, parse_args: Sequence[str]) -> str:
    """A hash of what `dbt parse` reads, and of how it is called.

    By content, not modification times: a checkout, a copy into an image or a `touch`
    changes times without changing what dbt would parse.
    """
    digest = hashlib.sha256(json.dumps(list(parse_args)).encode())
    paths = [project_dir / name for name in PARSED_FILES]
    for folder in PARSED_FOLDERS:
        paths += (project_dir / folder).rglob("*")
    for path in sorted(p for p in paths if p.is_file()):
        digest.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def manifest_problem(manifest: Path, fingerprint: str) -> str | None:
    """Why the manifest at `manifest` cannot be used for a project with `fingerprint`, if so."""
    if not manifest.exists():
        return "is missing"
    recorded = manifest.parent / FINGERPRINT_FILE
    if not recorded.exists() or recorded.read_text().strip() != fingerprint:
        return "was parsed from other project files"
    return None


def shared_parse_folder(target: str) -> Path:
    """Where `./ddrc prepare` (and the image build) keeps a target's parse, shared by every
    home: relative to the dbt project, as dbt and `DbtProject` take a target path."""
    return Path("target") / target


def stale_targets(project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    """The targets whose shared manifest `./ddrc prepare` would parse."""
    return [
        target
        for target in TARGETS
        if manifest_problem(
            project_dir / shared_parse_folder(target) / MANIFEST_FILE,
            project_fingerprint(project_dir, parse_args(target)),
        )
    ]


if __name__ == "__main__":
    stale = stale_targets()
    print(f"dbt manifests to prepare: {', '.join(stale)}" if stale else "dbt manifests current")
    sys.exit(1 if stale else 0)
