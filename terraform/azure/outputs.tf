output "resource_group" {
  description = "The DDRC resource group."
  value       = azurerm_resource_group.ddrc.name
}

output "storage_account_url" {
  description = "AZURE_STORAGE_ACCOUNT_URL for the Secret ddrc-secrets."
  value       = trimsuffix(azurerm_storage_account.metrics.primary_blob_endpoint, "/")
}

output "containers" {
  description = "DDRC_AZURE_CONTAINER of each deployment."
  value       = { for env, c in azurerm_storage_container.metrics : env => c.name }
}

output "published_file_urls" {
  description = "Public URL of ddrc-metrics.json per deployment (what the website reads)."
  value       = { for env, c in azurerm_storage_container.metrics : env => "${azurerm_storage_account.metrics.primary_blob_endpoint}${c.name}/ddrc-metrics.json" }
}

output "publisher_identity_client_ids" {
  description = "Client id of each deployment's publisher identity (azure.workload.identity/client-id on the Dagster service account)."
  value       = { for env, id in azurerm_user_assigned_identity.publisher : env => id.client_id }
}

output "publisher_sas_tokens" {
  description = "Container-scoped SAS token per deployment (AZURE_STORAGE_SAS_TOKEN), when publisher_sas_window is set."
  value       = { for env, sas in data.azurerm_storage_account_blob_container_sas.publisher : env => sas.sas }
  sensitive   = true
}

output "postgres_host" {
  description = "Host of the Dagster database server (postgresql.postgresqlHost in deploy/helm/values-*.yaml)."
  value       = one(azurerm_postgresql_flexible_server.dagster[*].fqdn)
}

output "postgres_databases" {
  description = "Dagster database of each deployment (postgresql.postgresqlDatabase)."
  value       = { for env, db in azurerm_postgresql_flexible_server_database.dagster : env => db.name }
}

output "postgres_password" {
  description = "Password of the Dagster database user: the key postgresql-password of the Secret dagster-postgresql-secret."
  value       = one(random_password.postgres[*].result)
  sensitive   = true
}
