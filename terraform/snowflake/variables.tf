variable "snowflake_organization_name" {
  description = "Snowflake organization name (the ORGNAME of ORGNAME-ACCOUNTNAME)."
  type        = string
}

variable "snowflake_account_name" {
  description = "Snowflake account name (the ACCOUNTNAME of ORGNAME-ACCOUNTNAME)."
  type        = string
}

variable "terraform_user" {
  description = "The Snowflake user Terraform connects as (key-pair authentication)."
  type        = string
}

variable "terraform_role" {
  description = "Role Terraform uses: it creates databases, warehouses, roles and users and manages grants, hence ACCOUNTADMIN by default (a custom role with CREATE DATABASE, CREATE WAREHOUSE, CREATE ROLE, CREATE USER and MANAGE GRANTS also works)."
  type        = string
  default     = "ACCOUNTADMIN"
}

variable "terraform_private_key_path" {
  description = "Path of the PEM private key of terraform_user (read on the machine that runs terraform; never committed)."
  type        = string
}

variable "terraform_private_key_passphrase" {
  description = "Passphrase of terraform_user's private key, if it is encrypted (null: not encrypted)."
  type        = string
  default     = null
  sensitive   = true
}

variable "dagster_rsa_public_keys" {
  description = "RSA public key (base64 body, no BEGIN/END lines) of each environment's Dagster service user DDRC_DAGSTER_<ENV>, by environment: { dev = \"...\", prd = \"...\" }."
  type        = map(string)

  validation {
    condition     = alltrue([for env in ["dev", "prd"] : contains(keys(var.dagster_rsa_public_keys), env)])
    error_message = "dagster_rsa_public_keys needs a key for dev and for prd."
  }
}

variable "fivetran_rsa_public_keys" {
  description = "RSA public key of each environment's Fivetran destination user FIVETRAN_<ENV>, by environment; an environment left out gets no Fivetran user."
  type        = map(string)
  default     = {}
}

variable "reporter_rsa_public_keys" {
  description = "RSA public key of each environment's read-only user DDRC_REPORTER_<ENV>, by environment; an environment left out gets no reporting user."
  type        = map(string)
  default     = {}
}

variable "warehouse_sizes" {
  description = "Warehouse sizes by environment, then by role (loader, transformer, reporter)."
  type        = map(map(string))
  default = {
    dev = { loader = "XSMALL", transformer = "XSMALL", reporter = "XSMALL" }
    prd = { loader = "XSMALL", transformer = "XSMALL", reporter = "XSMALL" }
  }
}

variable "data_retention_days" {
  description = "Time Travel retention of each environment's databases, in days."
  type        = map(number)
  default = {
    dev = 1
    prd = 7
  }
}
