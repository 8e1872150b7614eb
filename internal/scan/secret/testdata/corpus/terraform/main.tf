resource "azurerm_mssql_server" "main" {
  name                         = "phoenix-sql-2024"
  administrator_login          = "phoenixadmin"
  administrator_login_password = var.sql_admin_password
}

resource "azurerm_postgresql_flexible_server" "db" {
  name                   = "phoenix-pg-2024"
  administrator_password = "Tf#9xLq!2mZw"
}

data "azurerm_key_vault_secret" "api_key" {
  name         = "api-key-2"
  key_vault_id = azurerm_key_vault.main.id
}

resource "azurerm_key_vault_secret" "db" {
  name         = "db-password-2"
  value        = random_password.db.result
  key_vault_id = azurerm_key_vault.main.id
}

locals {
  sas_token   = "${data.azurerm_storage_account_sas.logs.sas}"
  secret_name = "db-password-v2"
}

provider "github" {
  token = "@@ghp@@"
}
