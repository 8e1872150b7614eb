#!/bin/sh
# Break-glass access to Vault, pasted into the runbook while debugging
export VAULT_ADDR=https://vault.phoenix.example.net
export VAULT_TOKEN=@@vault-legacy@@
vault kv get -field=password secret/phoenix/db
curl -H "X-Vault-Token: @@vault-recover@@" "$VAULT_ADDR/v1/sys/raw/logical"
BATCH_TOKEN=@@vault-batch@@ ./reencrypt.sh
# s.vaultClientConfiguration in the Go client is a field, not a token
vault token lookup -accessor "$ACCESSOR"
# before the upgrade to 1.10 the batch and recovery tokens were b. and r.
export VAULT_TOKEN=@@vault-legacy-batch@@
vault login @@vault-legacy-recover@@
