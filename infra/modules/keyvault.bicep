// Key Vault for the few secrets that have no Entra option. Today that is SIGNING_KEY: every instance
// must sign continuation tokens with the same key, so it cannot be generated per worker. The app reads
// `keyvault:signing-key` with its managed identity at first use. The secret itself is written once, by
// infra/hooks/postprovision.sh (infra/secrets/signing-key.bicep), not here: a secret in this template
// would be rewritten, so rotated under the running app, by every `azd provision`.

param name string
param location string
param tags object
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against these resources.')
param developerPrincipalId string
param developerPrincipalType string
var secretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    // checkov:skip=CKV_AZURE_109: default action Allow on purpose; Flex Consumption without a VNet has no fixed outbound addresses to allow, and every read needs an Entra token with a data role
    // checkov:skip=CKV_AZURE_189: public network access for the same reason
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Access through Azure RBAC only: no access policies to drift.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // A deleted vault and its secrets stay recoverable for 90 days and cannot be purged early.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

// Role: Key Vault Secrets User (read secret values), for the app's identity, on this vault. Vault
// scope rather than the one secret: the app resolves any `keyvault:` setting an operator adds (an
// OpenAI.com key, say), and this vault holds nothing but the app's own secrets.
resource appSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Key Vault Secrets User, for the optional developer, on this vault (a local run can use the
// deployed SIGNING_KEY reference).
resource developerSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(vault.id, developerPrincipalId, secretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsUserRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

output id string = vault.id
output name string = vault.name
output uri string = vault.properties.vaultUri
