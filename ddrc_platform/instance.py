"""The local Dagster instance's `dagster.yaml`, written before `./ddrc ui` starts `dg dev`.

A module of its own, importing neither the definitions nor dagster-dbt: `./ddrc ui` runs it
before every start, and through `ddrc_platform.cli` it cost 4 s of imports to write a
dozen lines of YAML.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ddrc_platform.core.names import PUBLISHES_TAG
from ddrc_platform.settings import Settings, load_settings

LOCAL_CONCURRENT_RUNS = 3  # two cores: more would only share them
# Dagster's default is 5 s: a run the automation requests waited 2.5 s on average for the
# queue to be read. One query of the runs table a second costs the local daemon nothing.
DEQUEUE_SECONDS = 1


def instance_config(settings: Settings) -> Path:
    """The local Dagster instance's dagster.yaml, with run monitoring on.

    Under `./ddrc ui` the daemon then stops a run still going after DDRC_MAX_RUN_SECONDS
    (a source trickling its answer, a lock never released), and the incident sensor
    reports it as hung. Settings already in the file are kept.
    """
    home = settings.run_dagster_home
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    config = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
    config.setdefault(
        "run_monitoring",
        {"enabled": True, "max_runtime_seconds": int(settings.max_run_seconds)},
    )
    config.setdefault("telemetry", {"enabled": False})
    # Runs start side by side: a short run spends most of its time starting (its own
    # process loading the definitions), and the sources' loads of one burst are unrelated.
    # What must not overlap is serialised where it is: DuckDB's one writer by the
    # warehouse's file lock (a run waits DDRC_WAREHOUSE_LOCK_WAIT for it), and the public
    # file by one publishing run at a time, as on Kubernetes (deploy/dagster.yaml).
    ((tag, value),) = PUBLISHES_TAG.items()
    config.setdefault(
        "run_queue",
        {
            "max_concurrent_runs": LOCAL_CONCURRENT_RUNS,
            "tag_concurrency_limits": [{"key": tag, "value": value, "limit": 1}],
            "dequeue_interval_seconds": DEQUEUE_SECONDS,
        },
    )
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


if __name__ == "__main__":
    print(instance_config(load_settings()))
