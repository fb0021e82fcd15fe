output "dev" {
  description = "The dev environment: databases, roles, warehouses and users."
  value = {
    databases     = module.dev.databases
    ops_schema    = module.dev.ops_schema
    roles         = module.dev.roles
    warehouses    = module.dev.warehouses
    dagster_user  = module.dev.dagster_user
    fivetran_user = module.dev.fivetran_user
    reporter_user = module.dev.reporter_user
  }
}

output "prd" {
  description = "The prd environment: databases, roles, warehouses and users."
  value = {
    databases     = module.prd.databases
    ops_schema    = module.prd.ops_schema
    roles         = module.prd.roles
    warehouses    = module.prd.warehouses
    dagster_user  = module.prd.dagster_user
    fivetran_user = module.prd.fivetran_user
    reporter_user = module.prd.reporter_user
  }
}

output "snowflake_account" {
  description = "SNOWFLAKE_ACCOUNT for the Secret ddrc-secrets (ORGNAME-ACCOUNTNAME)."
  value       = "${var.snowflake_organization_name}-${var.snowflake_account_name}"
}
