"""Small snapshots of one raw table, and a Snowflake warehouse from an environment: what
the warehouse tests of both backends write and read (`test_warehouse.py`,
`test_warehouse_reader.py`, `test_snowflake.py`)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from ddrc_platform.core import catalog
from ddrc_platform.settings import snowflake_settings
from ddrc_platform.warehouse.base import Warehouse, table_hash
from ddrc_platform.warehouse.snowflake import SnowflakeWarehouse, snowflake_warehouse

DAY1, DAY2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
TABLE = catalog.MALIBU_PALISADES_PERMITS_ISSUED


def snowflake_warehouse_from_env(
    env: dict[str, str], deployment: str, layer: str = "loader"
) -> SnowflakeWarehouse:
    return snowflake_warehouse(snowflake_settings(env, deployment), layer)


def snapshot(day: dt.date, counts: dict[str, int], **extra: list) -> pa.Table:
    n = len(counts)
    return pa.table(
        {
            "PERMITTYPE": list(counts),
            "PALISADESPERMITS": list(counts.values()),
            **extra,
            "_LOAD_DATE": pa.array([day] * n, pa.date32()),
            "_LOADED_AT": pa.array([dt.datetime(2025, 3, 1, 12)] * n, pa.timestamp("us")),
        }
    )


def write(wh: Warehouse, data: pa.Table, day: dt.date):
    return wh.write_snapshot(TABLE, data, day, table_hash(data))
