terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.20"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State: see ../README.md ("State"). Uncomment and fill in to keep it in Azure Storage:
  # backend "azurerm" {
  #   resource_group_name  = "ddrc-tfstate"
  #   storage_account_name = "ddrctfstate"
  #   container_name       = "tfstate"
  #   key                  = "azure.tfstate"
  # }
}
