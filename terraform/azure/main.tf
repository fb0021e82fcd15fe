# The Azure side of DDRC: the storage account whose containers hold the public file
# ddrc-metrics.json (and its history/), the publisher's identity, and Dagster's Postgres.

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

locals {
  # the published containers, one per deployment (DDRC_AZURE_CONTAINER in deploy/helm/)
  containers = {
    dev = "ddrc-metrics-dev"
    prd = "ddrc-metrics-prd"
  }
}

resource "azurerm_resource_group" "ddrc" {
  name     = var.resource_group_name
  location = var.location
  tags     = var.tags
}

# --- the published file ------------------------------------------------------------------

resource "azurerm_storage_account" "metrics" {
  # The account exists to serve one public file to a public website (checkov findings
  # that contradict that are skipped here, each with its reason; see ../README.md):
  #checkov:skip=CKV_AZURE_59:Public network access is how the website's visitors download ddrc-metrics.json.
  #checkov:skip=CKV2_AZURE_33:A private endpoint would not serve the public website; the publisher authenticates over HTTPS.
  #checkov:skip=CKV_AZURE_190:Lets the two published containers opt in to anonymous blob read; other containers stay private.
  #checkov:skip=CKV2_AZURE_47:Same setting as CKV_AZURE_190: the website reads ddrc-metrics.json anonymously by design.
  #checkov:skip=CKV2_AZURE_40:Container-scoped SAS tokens (publisher_sas_window) are signed with the account key; set shared_access_key_enabled=false with workload identity.
  #checkov:skip=CKV2_AZURE_1:The data is published to everyone; a customer-managed key would protect no secret and add a Key Vault to run.
  #checkov:skip=CKV_AZURE_33:The account has no queues: classic logging for the unused queue service would record nothing.
  name                     = var.storage_account_name
  resource_group_name      = azurerm_resource_group.ddrc.name
  location                 = azurerm_resource_group.ddrc.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = "GZRS" # history/ is kept forever; a failover keeps the URL
  access_tier              = "Hot"

  min_tls_version               = "TLS1_2"
  https_traffic_only_enabled    = true
  public_network_access_enabled = true
  shared_access_key_enabled     = var.shared_access_key_enabled
  # Anonymous read is allowed at the account level only so that a container can opt in:
  # the two published containers do (blob level, no listing); nothing else is public.
  allow_nested_items_to_be_public = true

  # A SAS token valid for longer than a year (terraform.tfvars.example issues one-year
  # tokens) is flagged in the account's logs; "Log" audits, it refuses nothing.
  sas_policy {
    expiration_period = "365.00:00:00"
    expiration_action = "Log"
  }

  blob_properties {
    delete_retention_policy {
      days = var.soft_delete_retention_days
    }
    container_delete_retention_policy {
      days = var.soft_delete_retention_days
    }

    # the website fetches the file from the browser
    cors_rule {
      allowed_origins    = var.website_origins
      allowed_methods    = ["GET", "HEAD", "OPTIONS"]
      allowed_headers    = ["*"]
      exposed_headers    = ["Content-Length", "Content-Type", "ETag", "Last-Modified", "Cache-Control"]
      max_age_in_seconds = var.cors_max_age_seconds
    }
  }

  tags = var.tags
}

resource "azurerm_storage_container" "metrics" {
  #checkov:skip=CKV_AZURE_34:The public website reads ddrc-metrics.json anonymously from the browser: blob-level read by URL, no listing.
  #checkov:skip=CKV2_AZURE_21:Reads are anonymous downloads of a public file by the website's visitors: nothing to audit, a log record per page view.
  for_each = local.containers

  name               = each.value
  storage_account_id = azurerm_storage_account.metrics.id
  # anonymous read of blobs by their URL (ddrc-metrics.json, history/...), no listing
  container_access_type = "blob"
}

# History copies are kept forever (rollback, audit): the only lifecycle action on history/
# is a cheaper tier once a copy is a month old. The live file is never touched.
resource "azurerm_storage_management_policy" "metrics" {
  storage_account_id = azurerm_storage_account.metrics.id

  rule {
    name    = "keep-history-in-cool-tier"
    enabled = true

    filters {
      blob_types   = ["blockBlob"]
      prefix_match = [for name in values(local.containers) : "${name}/history/"]
    }

    actions {
      base_blob {
        tier_to_cool_after_days_since_modification_greater_than = var.history_cool_after_days
      }
    }
  }
}

# --- the publisher's identity: Storage Blob Data Contributor on its own container only -------

resource "azurerm_user_assigned_identity" "publisher" {
  for_each = local.containers

  name                = "${var.prefix}-publisher-${each.key}"
  resource_group_name = azurerm_resource_group.ddrc.name
  location            = azurerm_resource_group.ddrc.location
  tags                = var.tags
}

resource "azurerm_role_assignment" "publisher" {
  for_each = local.containers

  scope                = "${azurerm_storage_account.metrics.id}/blobServices/default/containers/${azurerm_storage_container.metrics[each.key].name}"
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = azurerm_user_assigned_identity.publisher[each.key].principal_id
  principal_type       = "ServicePrincipal"
}

# AKS workload identity: the pods of the environment's Dagster release (service account
# kubernetes_service_account in its namespace) obtain tokens for the publisher identity.
resource "azurerm_federated_identity_credential" "publisher" {
  for_each = var.aks_oidc_issuer_url == "" ? {} : local.containers

  name                = "${var.prefix}-dagster-${each.key}"
  resource_group_name = azurerm_resource_group.ddrc.name
  parent_id           = azurerm_user_assigned_identity.publisher[each.key].id
  audience            = ["api://AzureADTokenExchange"]
  issuer              = var.aks_oidc_issuer_url
  subject             = "system:serviceaccount:${var.kubernetes_namespaces[each.key]}:${var.kubernetes_service_account}"
}

# Where there is no workload identity: a SAS token limited to the environment's container
# (read, list, create, write, delete: what the publisher and its rollback do).
data "azurerm_storage_account_blob_container_sas" "publisher" {
  for_each = var.publisher_sas_window == null ? {} : local.containers

  connection_string = azurerm_storage_account.metrics.primary_connection_string
  container_name    = azurerm_storage_container.metrics[each.key].name
  https_only        = true
  start             = var.publisher_sas_window.start
  expiry            = var.publisher_sas_window.expiry

  permissions {
    read   = true
    add    = true
    create = true
    write  = true
    delete = true
    list   = true
  }
}

# --- Dagster's instance database -----------------------------------------------------------

resource "random_password" "postgres" {
  count = var.create_postgres ? 1 : 0

  length  = 32
  special = false
}

resource "azurerm_postgresql_flexible_server" "dagster" {
  #checkov:skip=CKV_AZURE_136:Holds Dagster's run history only (the data lives in Snowflake and Blob Storage); 14 days of in-region backups suffice.
  #checkov:skip=CKV2_AZURE_57:The AKS cluster's network is not managed here; firewall rules admit only its egress addresses.
  count = var.create_postgres ? 1 : 0

  name                          = "${var.prefix}-dagster-pg"
  resource_group_name           = azurerm_resource_group.ddrc.name
  location                      = azurerm_resource_group.ddrc.location
  version                       = var.postgres_version
  sku_name                      = var.postgres_sku_name
  storage_mb                    = var.postgres_storage_mb
  backup_retention_days         = 14
  administrator_login           = "dagster"
  administrator_password        = random_password.postgres[0].result
  public_network_access_enabled = true
  tags                          = var.tags

  lifecycle {
    # Azure picks the zone when none is given; do not move the server afterwards
    ignore_changes = [zone]
  }
}

resource "azurerm_postgresql_flexible_server_database" "dagster" {
  for_each = var.create_postgres ? local.containers : {}

  name      = "dagster_${each.key}"
  server_id = azurerm_postgresql_flexible_server.dagster[0].id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

resource "azurerm_postgresql_flexible_server_firewall_rule" "allowed" {
  for_each = var.create_postgres ? var.postgres_allowed_ip_ranges : {}

  name             = each.key
  server_id        = azurerm_postgresql_flexible_server.dagster[0].id
  start_ip_address = each.value.start
  end_ip_address   = each.value.end
}
