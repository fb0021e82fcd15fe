variable "subscription_id" {
  description = "Azure subscription that holds the DDRC resources."
  type        = string
}

variable "location" {
  description = "Azure region of every resource."
  type        = string
  default     = "westus3"
}

variable "prefix" {
  description = "Prefix of resource names (the Dagster Postgres server is <prefix>-dagster-pg, which deploy/helm/values-*.yaml name)."
  type        = string
  default     = "ddrc"
}

variable "resource_group_name" {
  description = "Resource group created for the DDRC platform."
  type        = string
  default     = "ddrc-platform"
}

variable "storage_account_name" {
  description = "Storage account of the published file (globally unique, 3-24 lower-case letters and digits). The website reads https://<name>.blob.core.windows.net/ddrc-metrics-prd/ddrc-metrics.json."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.storage_account_name))
    error_message = "storage_account_name must be 3-24 lower-case letters and digits."
  }
}

variable "website_origins" {
  description = "Origins allowed to read the published file from a browser (CORS), e.g. [\"https://example.ca.gov\"]. The dev container is read by the same origins' staging sites: list them too."
  type        = list(string)

  validation {
    condition     = length(var.website_origins) > 0 && alltrue([for o in var.website_origins : can(regex("^https?://[^/*]+$", o))])
    error_message = "List at least one origin, each scheme://host[:port] with no path and no wildcard."
  }
}

variable "cors_max_age_seconds" {
  description = "How long a browser may cache the CORS preflight answer."
  type        = number
  default     = 3600
}

variable "history_cool_after_days" {
  description = "Days after which a history/ copy of the published file moves to the Cool tier. History copies are never deleted: rollback and audit need them."
  type        = number
  default     = 30
}

variable "soft_delete_retention_days" {
  description = "Days a deleted blob or container can still be restored."
  type        = number
  default     = 30
}

variable "shared_access_key_enabled" {
  description = "Whether the storage account accepts its keys and SAS tokens signed with them. Needed for publisher_sas_window; set false when the publisher authenticates with its managed identity only."
  type        = bool
  default     = true
}

variable "publisher_sas_window" {
  description = "Validity (RFC 3339 start and expiry) of a container-scoped SAS token per environment for the publisher, output as publisher_sas_tokens (null: no SAS; use the managed identity)."
  type = object({
    start  = string
    expiry = string
  })
  default = null
}

variable "aks_oidc_issuer_url" {
  description = "OIDC issuer URL of the AKS cluster that runs Dagster; when set, each environment's publisher identity trusts the cluster's service account (workload identity). Empty: no federation."
  type        = string
  default     = ""
}

variable "kubernetes_namespaces" {
  description = "Kubernetes namespace of each environment's Dagster release."
  type        = map(string)
  default = {
    dev = "ddrc-dev"
    prd = "ddrc-prd"
  }
}

variable "kubernetes_service_account" {
  description = "Service account of the Dagster pods (global.serviceAccountName in deploy/helm/values-*.yaml)."
  type        = string
  default     = "ddrc-dagster"
}

variable "create_postgres" {
  description = "Create the Azure Database for PostgreSQL flexible server that holds Dagster's run, event and schedule storage (databases dagster_dev and dagster_prd)."
  type        = bool
  default     = true
}

variable "postgres_version" {
  description = "PostgreSQL major version of the Dagster database server."
  type        = string
  default     = "16"
}

variable "postgres_sku_name" {
  description = "SKU of the Dagster database server."
  type        = string
  default     = "B_Standard_B1ms"
}

variable "postgres_storage_mb" {
  description = "Storage of the Dagster database server, in MB."
  type        = number
  default     = 32768
}

variable "postgres_allowed_ip_ranges" {
  description = "Public IP ranges allowed to reach the Dagster database (the cluster's egress addresses), by rule name."
  type = map(object({
    start = string
    end   = string
  }))
  default = {}
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default = {
    project = "ddrc-platform"
  }
}
