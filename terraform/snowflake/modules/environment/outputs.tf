output "databases" {
  description = "Database names by layer (raw, transform, analytics)."
  value       = { for k, db in snowflake_database.this : k => db.name }
}

output "ops_schema" {
  description = "Fully qualified name of the OPS schema in RAW (the loads log)."
  value       = snowflake_schema.ops.fully_qualified_name
}

output "roles" {
  description = "Account role names (loader, transformer, reporter)."
  value       = { for k, role in snowflake_account_role.this : k => role.name }
}

output "warehouses" {
  description = "Warehouse names by role (loader, transformer, reporter)."
  value       = { for k, wh in snowflake_warehouse.this : k => wh.name }
}

output "dagster_user" {
  description = "The Dagster service user: SNOWFLAKE_USER of this deployment."
  value       = snowflake_service_user.dagster.name
}

output "fivetran_user" {
  description = "Fivetran's destination user, or null when none was asked for."
  value       = one(snowflake_service_user.fivetran[*].name)
}

output "reporter_user" {
  description = "The read-only reporting user, or null when none was asked for."
  value       = one(snowflake_service_user.reporter[*].name)
}
