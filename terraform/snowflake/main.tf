# The DDRC Snowflake account: one environment module per deployment (dev, prd).

provider "snowflake" {
  organization_name      = var.snowflake_organization_name
  account_name           = var.snowflake_account_name
  user                   = var.terraform_user
  role                   = var.terraform_role
  authenticator          = "SNOWFLAKE_JWT"
  private_key            = file(pathexpand(var.terraform_private_key_path))
  private_key_passphrase = var.terraform_private_key_passphrase
}

module "dev" {
  source = "./modules/environment"

  environment                 = "dev"
  dagster_rsa_public_key      = var.dagster_rsa_public_keys["dev"]
  fivetran_rsa_public_key     = lookup(var.fivetran_rsa_public_keys, "dev", "")
  reporter_rsa_public_key     = lookup(var.reporter_rsa_public_keys, "dev", "")
  warehouse_sizes             = var.warehouse_sizes["dev"]
  data_retention_time_in_days = var.data_retention_days["dev"]
}

module "prd" {
  source = "./modules/environment"

  environment                 = "prd"
  dagster_rsa_public_key      = var.dagster_rsa_public_keys["prd"]
  fivetran_rsa_public_key     = lookup(var.fivetran_rsa_public_keys, "prd", "")
  reporter_rsa_public_key     = lookup(var.reporter_rsa_public_keys, "prd", "")
  warehouse_sizes             = var.warehouse_sizes["prd"]
  data_retention_time_in_days = var.data_retention_days["prd"]
}
