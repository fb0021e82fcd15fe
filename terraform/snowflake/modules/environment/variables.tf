variable "environment" {
  description = "The deployment this environment serves: dev or prd (upper-cased into every object name, e.g. RAW_DDRC_PRD)."
  type        = string

  validation {
    condition     = contains(["dev", "prd"], var.environment)
    error_message = "environment must be dev or prd."
  }
}

variable "dagster_rsa_public_key" {
  description = "RSA public key of the Dagster service user DDRC_DAGSTER_<ENV>: the base64 body of the PEM public key, without the BEGIN/END lines. Its private key goes into the Kubernetes Secret ddrc-secrets (SNOWFLAKE_PRIVATE_KEY)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+/=\\s]{200,}$", var.dagster_rsa_public_key))
    error_message = "Give the base64 body of an RSA public key, without the -----BEGIN/END----- lines."
  }
}

variable "dagster_rsa_public_key_2" {
  description = "Second RSA public key of the Dagster service user, for rotating its key pair without downtime (empty: none)."
  type        = string
  default     = ""
}

variable "fivetran_rsa_public_key" {
  description = "RSA public key of the Fivetran destination user FIVETRAN_<ENV>, which lands the Airtable and page-feedback connectors in RAW (empty: no Fivetran user in this environment)."
  type        = string
  default     = ""
}

variable "reporter_rsa_public_key" {
  description = "RSA public key of the read-only user DDRC_REPORTER_<ENV> for dashboards (empty: no reporting user)."
  type        = string
  default     = ""
}

variable "warehouse_sizes" {
  description = "Size of each warehouse, by role: loader (LOADING_<ENV>), transformer (TRANSFORMING_<ENV>), reporter (REPORTING_<ENV>)."
  type        = map(string)
  default = {
    loader      = "XSMALL"
    transformer = "XSMALL"
    reporter    = "XSMALL"
  }

  validation {
    condition     = alltrue([for k in ["loader", "transformer", "reporter"] : contains(keys(var.warehouse_sizes), k)])
    error_message = "warehouse_sizes needs the keys loader, transformer and reporter."
  }
}

variable "auto_suspend_seconds" {
  description = "Seconds of inactivity after which a warehouse suspends (the hourly pipeline keeps them busy a few minutes an hour)."
  type        = number
  default     = 60
}

variable "statement_timeout_seconds" {
  description = "Longest a single statement may run on the environment's warehouses before Snowflake cancels it."
  type        = number
  default     = 1800
}

variable "data_retention_time_in_days" {
  description = "Time Travel retention of the environment's databases, in days."
  type        = number
  default     = 1
}

variable "parent_role" {
  description = "Account role that is granted the environment's roles, so that administrators keep access to what the service roles create."
  type        = string
  default     = "SYSADMIN"
}
