// Azure OpenAI with two deployments: speech-to-text (TRANSCRIBER=azure-openai) and the chat model that
// writes summaries (SUMMARIZER=azure-openai). Keys are off: the app calls it with its managed identity.

param name string
param location string
param tags object
param transcribeDeploymentName string
@description('The Azure model behind the transcription deployment, e.g. whisper or gpt-4o-transcribe.')
param transcribeModelName string
param transcribeModelVersion string
param transcribeSku string
@description('Deployment capacity (for whisper: requests per minute).')
param transcribeCapacity int
param chatDeploymentName string
param chatModelName string
param chatModelVersion string
param chatSku string
@description('Deployment capacity in thousands of tokens per minute.')
param chatCapacity int
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against these resources.')
param developerPrincipalId string
param developerPrincipalType string

var openAiUserRoleId = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    // checkov:skip=CKV_AZURE_134: public network access on purpose; Flex Consumption without a VNet has no fixed outbound addresses to allow, and every call needs an Entra token (local auth is off)
    // checkov:skip=CKV_AZURE_238: no identity of its own; the account calls nothing on its own behalf (no customer-managed key, no data sources)
    // Entra ID needs a custom subdomain (the token audience is per resource).
    customSubDomainName: name
    // API keys refused: only Entra tokens.
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
    }
  }
}

resource transcribe 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: transcribeDeploymentName
  sku: {
    name: transcribeSku
    capacity: transcribeCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: transcribeModelName
      version: transcribeModelVersion
    }
  }
}

// One deployment at a time: the service refuses concurrent changes to an account's deployments.
resource chat 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: chatDeploymentName
  sku: {
    name: chatSku
    capacity: chatCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: chatModelName
      version: chatModelVersion
    }
  }
  dependsOn: [
    transcribe
  ]
}

// Role: Cognitive Services OpenAI User (inference only: no deployment or key management), for the
// app's identity, on this account.
resource appOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, openAiUserRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAiUserRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Cognitive Services OpenAI User, for the optional developer, on this account.
resource developerOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(account.id, developerPrincipalId, openAiUserRoleId)
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAiUserRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

output endpoint string = account.properties.endpoint
output name string = account.name
output transcribeDeploymentName string = transcribe.name
output chatDeploymentName string = chat.name
