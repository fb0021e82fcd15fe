terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    # The Snowflake provider, formerly published as Snowflake-Labs/snowflake (same project,
    # renamed namespace; 2.x releases are published as snowflakedb/snowflake).
    snowflake = {
      source  = "snowflakedb/snowflake"
      version = "~> 2.12"
    }
  }

  # State: see ../README.md ("State"). Uncomment and fill in to keep it in Azure Storage:
  # backend "azurerm" {
  #   resource_group_name  = "ddrc-tfstate"
  #   storage_account_name = "ddrctfstate"
  #   container_name       = "tfstate"
  #   key                  = "snowflake.tfstate"
  # }
}
