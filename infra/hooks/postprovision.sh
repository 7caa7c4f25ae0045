#!/usr/bin/env bash
# azd postprovision hook: writes the first SIGNING_KEY into Key Vault, once.
#
# Every instance must sign continuation tokens with the same key, so it lives in Key Vault as
# `signing-key` (the app reads `keyvault:signing-key`). It is written only while the vault has none:
# rewriting it on every `azd provision` would rotate it under running instances. ARM has no "create if
# missing", so the check is here and the write is infra/secrets/signing-key.bicep, whose random value
# (newGuid) never leaves Azure Resource Manager and the vault. Both go through the control plane: the
# deploying identity needs no data role on the vault. Running it again changes nothing.
#
# It runs before `azd deploy` puts code on the app, so the key is there before the app first reads it.
# Needs `az login` (the Azure CLI's own sign-in) besides `azd auth login`.
set -euo pipefail

for name in AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP AZURE_KEY_VAULT_NAME; do
  if [ -z "${!name:-}" ]; then
    echo "$name is not set: it is one of main.bicep's outputs, which azd stores after provisioning" >&2
    exit 1
  fi
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
secret_id="/subscriptions/${AZURE_SUBSCRIPTION_ID}/resourceGroups/${AZURE_RESOURCE_GROUP}/providers/Microsoft.KeyVault/vaults/${AZURE_KEY_VAULT_NAME}/secrets/signing-key"

# Shows that the secret exists, never its value.
if output="$(az resource show --ids "$secret_id" --api-version 2023-07-01 --query id -o tsv 2>&1)"; then
  echo "signing-key is already in $AZURE_KEY_VAULT_NAME: left as it is"
  exit 0
fi
if ! printf '%s' "$output" | grep -qiE 'not ?found|could not be found|was not found'; then
  # Unknown is not "absent": writing now could replace (rotate) a key that exists.
  echo "Could not tell whether $AZURE_KEY_VAULT_NAME holds signing-key:" >&2
  printf '%s\n' "$output" >&2
  exit 1
fi

az deployment group create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name signing-key \
  --template-file "$here/../secrets/signing-key.bicep" \
  --parameters vaultName="$AZURE_KEY_VAULT_NAME" \
  --only-show-errors --output none
echo "signing-key written to $AZURE_KEY_VAULT_NAME"
