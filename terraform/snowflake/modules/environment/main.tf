# One DDRC environment (dev or prd) in Snowflake: three databases, three roles with three
# warehouses, the grants between them, and the service users (key-pair authentication).
#
#   LOADER_<ENV>       writes RAW_DDRC_<ENV> (the loaders' dated snapshots, Fivetran, OPS)
#   TRANSFORMER_<ENV>  reads RAW, writes TRANSFORM_DDRC_<ENV> and ANALYTICS_DDRC_<ENV> (dbt)
#   REPORTER_<ENV>     reads ANALYTICS (the summary the publisher reads, dashboards)
#
# The names are the defaults of ddrc_dbt/profiles.yml, ddrc_dbt/macros/naming.sql and
# ddrc_platform/snowflake_warehouse.py: keep them in step.

locals {
  suffix = upper(var.environment)

  databases = {
    raw       = "RAW_DDRC_${local.suffix}"
    transform = "TRANSFORM_DDRC_${local.suffix}"
    analytics = "ANALYTICS_DDRC_${local.suffix}"
  }
  roles = {
    loader      = "LOADER_${local.suffix}"
    transformer = "TRANSFORMER_${local.suffix}"
    reporter    = "REPORTER_${local.suffix}"
  }
  # each role's own warehouse
  warehouses = {
    loader      = "LOADING_${local.suffix}"
    transformer = "TRANSFORMING_${local.suffix}"
    reporter    = "REPORTING_${local.suffix}"
  }
  database_comments = {
    raw       = "DDRC ${var.environment}: raw loads (dated snapshots of the public sources, Fivetran tables, OPS)."
    transform = "DDRC ${var.environment}: dbt staging, intermediate and seeds."
    analytics = "DDRC ${var.environment}: dbt marts, among them the published metrics summary."
  }

  # read access: every schema, table and view of a database, now and in the future
  readers = {
    transformer_raw = { role = "transformer", database = "raw" }
    reporter_marts  = { role = "reporter", database = "analytics" }
  }
  reader_objects = {
    for pair in setproduct(keys(local.readers), ["TABLES", "VIEWS"]) :
    "${pair[0]}_${lower(pair[1])}" => merge(local.readers[pair[0]], { objects = pair[1] })
  }

  # the Dagster user loads (LOADER), builds (TRANSFORMER) and reads the summary (REPORTER);
  # secondary roles ALL lets one session use the privileges of all three
  dagster_roles = ["loader", "transformer", "reporter"]
}

# --- databases and the OPS schema ---------------------------------------------------------

resource "snowflake_database" "this" {
  for_each = local.databases

  name                        = each.value
  comment                     = local.database_comments[each.key]
  data_retention_time_in_days = var.data_retention_time_in_days
}

resource "snowflake_schema" "ops" {
  database = snowflake_database.this["raw"].name
  name     = "OPS"
  comment  = "The loaders' own bookkeeping: the loads log."
}

# --- roles and warehouses -----------------------------------------------------------------

resource "snowflake_account_role" "this" {
  for_each = local.roles

  name    = each.value
  comment = "DDRC ${var.environment}: ${each.key}."
}

resource "snowflake_grant_account_role" "to_parent" {
  for_each = local.roles

  role_name        = snowflake_account_role.this[each.key].name
  parent_role_name = var.parent_role
}

resource "snowflake_warehouse" "this" {
  for_each = local.warehouses

  name                         = each.value
  comment                      = "DDRC ${var.environment}: the ${each.key} role's warehouse."
  warehouse_size               = var.warehouse_sizes[each.key]
  auto_suspend                 = var.auto_suspend_seconds
  auto_resume                  = "true"
  initially_suspended          = true
  statement_timeout_in_seconds = var.statement_timeout_seconds
}

resource "snowflake_grant_privileges_to_account_role" "warehouse" {
  for_each = local.warehouses

  account_role_name = snowflake_account_role.this[each.key].name
  privileges        = ["USAGE", "OPERATE"]
  on_account_object {
    object_type = "WAREHOUSE"
    object_name = snowflake_warehouse.this[each.key].name
  }
}

# --- LOADER: writes RAW -------------------------------------------------------------------

# The loaders and Fivetran create their own schemas (EPA, USACE, ..., AIRTABLE, ...) and
# own what they create.
resource "snowflake_grant_privileges_to_account_role" "loader_raw" {
  account_role_name = snowflake_account_role.this["loader"].name
  privileges        = ["USAGE", "CREATE SCHEMA"]
  on_account_object {
    object_type = "DATABASE"
    object_name = snowflake_database.this["raw"].name
  }
}

resource "snowflake_grant_privileges_to_account_role" "loader_ops" {
  account_role_name = snowflake_account_role.this["loader"].name
  privileges        = ["USAGE", "CREATE TABLE", "CREATE VIEW", "CREATE STAGE", "CREATE FILE FORMAT"]
  on_schema {
    schema_name = snowflake_schema.ops.fully_qualified_name
  }
}

# --- TRANSFORMER: reads RAW, writes TRANSFORM and ANALYTICS ---------------------------------

resource "snowflake_grant_privileges_to_account_role" "transformer_builds" {
  for_each = toset(["transform", "analytics"])

  account_role_name = snowflake_account_role.this["transformer"].name
  privileges        = ["USAGE", "CREATE SCHEMA"]
  on_account_object {
    object_type = "DATABASE"
    object_name = snowflake_database.this[each.key].name
  }
}

# --- readers: TRANSFORMER on RAW, REPORTER on ANALYTICS -----------------------------------

resource "snowflake_grant_privileges_to_account_role" "reader_database" {
  for_each = local.readers

  account_role_name = snowflake_account_role.this[each.value.role].name
  privileges        = ["USAGE"]
  on_account_object {
    object_type = "DATABASE"
    object_name = snowflake_database.this[each.value.database].name
  }
}

resource "snowflake_grant_privileges_to_account_role" "reader_schemas" {
  for_each = local.readers

  account_role_name = snowflake_account_role.this[each.value.role].name
  privileges        = ["USAGE"]
  on_schema {
    all_schemas_in_database = snowflake_database.this[each.value.database].name
  }
}

resource "snowflake_grant_privileges_to_account_role" "reader_future_schemas" {
  for_each = local.readers

  account_role_name = snowflake_account_role.this[each.value.role].name
  privileges        = ["USAGE"]
  on_schema {
    future_schemas_in_database = snowflake_database.this[each.value.database].name
  }
}

resource "snowflake_grant_privileges_to_account_role" "reader_objects" {
  for_each = local.reader_objects

  account_role_name = snowflake_account_role.this[each.value.role].name
  privileges        = ["SELECT"]
  on_schema_object {
    all {
      object_type_plural = each.value.objects
      in_database        = snowflake_database.this[each.value.database].name
    }
  }
}

resource "snowflake_grant_privileges_to_account_role" "reader_future_objects" {
  for_each = local.reader_objects

  account_role_name = snowflake_account_role.this[each.value.role].name
  privileges        = ["SELECT"]
  on_schema_object {
    future {
      object_type_plural = each.value.objects
      in_database        = snowflake_database.this[each.value.database].name
    }
  }
}

# --- service users (key-pair authentication only: service users have no password) --------

resource "snowflake_service_user" "dagster" {
  name                           = "DDRC_DAGSTER_${local.suffix}"
  comment                        = "DDRC ${var.environment}: the Dagster code location and its runs."
  default_role                   = snowflake_account_role.this["transformer"].name
  default_warehouse              = snowflake_warehouse.this["transformer"].name
  default_secondary_roles_option = "ALL"
  rsa_public_key                 = var.dagster_rsa_public_key
  rsa_public_key_2               = var.dagster_rsa_public_key_2 == "" ? null : var.dagster_rsa_public_key_2
}

resource "snowflake_grant_account_role" "dagster" {
  for_each = toset(local.dagster_roles)

  role_name = snowflake_account_role.this[each.key].name
  user_name = snowflake_service_user.dagster.name
}

resource "snowflake_service_user" "fivetran" {
  count = var.fivetran_rsa_public_key == "" ? 0 : 1

  name              = "FIVETRAN_${local.suffix}"
  comment           = "DDRC ${var.environment}: Fivetran's destination user (Airtable metrics, page feedback)."
  default_role      = snowflake_account_role.this["loader"].name
  default_warehouse = snowflake_warehouse.this["loader"].name
  rsa_public_key    = var.fivetran_rsa_public_key
}

resource "snowflake_grant_account_role" "fivetran" {
  count = length(snowflake_service_user.fivetran)

  role_name = snowflake_account_role.this["loader"].name
  user_name = snowflake_service_user.fivetran[0].name
}

resource "snowflake_service_user" "reporter" {
  count = var.reporter_rsa_public_key == "" ? 0 : 1

  name              = "DDRC_REPORTER_${local.suffix}"
  comment           = "DDRC ${var.environment}: read-only access to the marts (dashboards)."
  default_role      = snowflake_account_role.this["reporter"].name
  default_warehouse = snowflake_warehouse.this["reporter"].name
  rsa_public_key    = var.reporter_rsa_public_key
}

resource "snowflake_grant_account_role" "reporter" {
  count = length(snowflake_service_user.reporter)

  role_name = snowflake_account_role.this["reporter"].name
  user_name = snowflake_service_user.reporter[0].name
}
