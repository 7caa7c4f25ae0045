// The first value of SIGNING_KEY (`keyvault:signing-key`): deployed by infra/hooks/postprovision.sh
// only while the vault has no such secret, so the key is never rotated by a later deployment (running
// instances cache it, and continuation tokens already handed out would stop verifying). A separate
// template rather than part of main.bicep: ARM has no "create if missing", and a secret in main.bicep
// would be rewritten with a new random value by every `azd provision`.

param vaultName string

@secure()
@description('Leave it to the default: two fresh random GUIDs, which never leave Azure Resource Manager and the vault.')
// checkov:skip=CKV_AZURE_131: not a hardcoded value; newGuid() draws a fresh random one per deployment, and the hook deploys this only when the vault has no key yet
param value string = '${newGuid()}${newGuid()}'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: vaultName
}

resource signingKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'signing-key'
  properties: {
    // checkov:skip=CKV_AZURE_41: no expiry on purpose; the app would stop signing continuation tokens the moment it passed, and rotation is a deliberate new version (README)
    value: value
    contentType: 'text/plain'
    attributes: {
      enabled: true
    }
  }
}
