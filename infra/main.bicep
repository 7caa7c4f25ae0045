// Everything video-signaling needs in Azure, in one resource group, keyless: the app reaches Storage,
// Cosmos DB, ACS, Key Vault, Azure OpenAI and Application Insights with one user-assigned managed
// identity, and every resource that can refuse keys does. `azd up` deploys it (README, "Deploying to
// Azure"); infra/hooks/ do what Bicep cannot do in one pass.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region for everything except ACS (global); must offer Flex Consumption.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Region for Azure OpenAI when the models are not offered in `location` (empty: the same).')
param openAiLocation string = ''

@description('How callers are authenticated: entra (the app validates Entra ID tokens) or easyauth (App Service Authentication does, the app trusts it). dev is refused in Azure.')
@allowed([
  'entra'
  'easyauth'
])
param authMode string = 'entra'

@description('Entra tenant whose tokens are accepted (empty: this subscription\'s tenant).')
param authTenantId string = ''

@description('Accepted token audiences, comma-separated: the API app registration\'s client id and/or its api:// URI. For easyauth the first one must be the client id.')
param authAudience string = ''

@description('Delegated scopes (scp) a user\'s token must grant, one of, comma-separated: the scope the API app registration exposes.')
param authScopes string = 'user_impersonation'

@description('App roles (roles) assigned to users that are accepted instead of a scope, comma-separated; empty: none.')
param authRoles string = ''

@description('Optional object id of a developer (or group) given the same data roles as the app, to run it locally against these resources.')
param developerPrincipalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param developerPrincipalType string = 'User'

@description('Web PubSub tier: Standard_S1 (1,000 connections per unit, with an SLA: the default) or Free_F1 (20 connections, no SLA: trying it out).')
@allowed([
  'Free_F1'
  'Standard_S1'
])
param webPubSubSku string = 'Standard_S1'

@description('Azure AI Search tier: basic (the default) or free (50 MB, no SLA, one per subscription: trying it out).')
@allowed([
  'free'
  'basic'
])
param searchSku string = 'basic'

@description('Azure AI Search public network access: enabled (the Flex Consumption app has no VNet; Entra tokens only) or disabled (a private endpoint you add).')
@allowed([
  'enabled'
  'disabled'
])
param searchPublicNetworkAccess string = 'enabled'

@description('Memory of each Flex Consumption instance, MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Most instances Flex Consumption may scale out to (its lowest allowed cap is 40).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Instances kept warm for the HTTP functions (0 scales to zero; each is billed while idle).')
@minValue(0)
@maxValue(20)
param alwaysReadyHttpInstances int = 0

@description('Delete a recording\'s audio this many days after its transcript was written (RETAIN_RECORDINGS_DAYS; transcripts and summaries stay); a Blob lifecycle rule deletes sources a day after that as a backstop. 0 keeps them forever.')
@minValue(0)
param recordingRetentionDays int = 30

@description('Delete a recording with its transcript and summary this many days after the transcript was written (RETAIN_NOTES_DAYS); 0 keeps them forever.')
@minValue(0)
param notesRetentionDays int = 0

@description('Mask e-mail addresses, phone numbers, card and account numbers in transcripts before summaries and search see them (REDACT_PII).')
param redactPii bool = false

@description('Who gets the operations alerts by e-mail (empty: no action group; the alerts still show in the portal).')
param alertEmail string = ''

@description('Failed recordings in an hour that raise an alert.')
@minValue(1)
param failedRecordingsPerHour int = 3

@description('Browser origins allowed besides the web client\'s own (e.g. http://localhost:5173 for a local web dev server against this API), comma-separated exact origins (empty: none).')
param allowedOrigins string = ''

@description('Region of the Static Web App that serves the web client (it runs in few regions).')
@allowed([
  'centralus'
  'eastus2'
  'eastasia'
  'westeurope'
  'westus2'
])
param webLocation string = 'westeurope'

@description('The web client\'s own Entra app registration (a single-page application): its client id (AUTH_CLIENT_ID). Empty: the web client cannot sign in, the API still works.')
param authClientId string = ''

@description('The API scope the web client asks a token for, e.g. api://<API application id>/user_impersonation (AUTH_API_SCOPE).')
param authApiScope string = ''

@description('Where ACS keeps its data at rest.')
param acsDataLocation string = 'United States'

@description('The speech-to-text model (TRANSCRIBE_MODEL). whisper-1 is deployed as Azure\'s `whisper`.')
@allowed([
  'whisper-1'
  'gpt-4o-transcribe'
  'gpt-4o-mini-transcribe'
  'gpt-4o-transcribe-diarize'
])
param transcribeModel string = 'whisper-1'

@description('Version of the speech-to-text model in Azure (whisper: 001).')
param transcribeModelVersion string = '001'

@description('Deployment type of the speech-to-text model (whisper: Standard; the gpt-4o ones: GlobalStandard).')
param transcribeDeploymentSku string = 'Standard'

@description('Capacity of the speech-to-text deployment (whisper: requests per minute; each recording hour is about 115 requests).')
@minValue(1)
param transcribeCapacity int = 3

@description('Pieces of one recording transcribed at once (TRANSCRIBE_CONCURRENCY).')
@minValue(1)
@maxValue(32)
param transcribeConcurrency int = 4

@description('The chat model that writes summaries (SUMMARY_MODEL; it picks the tokenizer).')
param chatModel string = 'gpt-4o-mini'

param chatModelVersion string = '2024-07-18'

param chatDeploymentSku string = 'GlobalStandard'

@description('Chat capacity in thousands of tokens per minute; keep it above SUMMARY_TOKEN_BUDGET, or a full-size request is throttled for ever.')
@minValue(1)
param chatCapacity int = 50

@description('Most tokens one summary request carries (SUMMARY_TOKEN_BUDGET).')
@minValue(16000)
@maxValue(128000)
param summaryTokenBudget int = 32000

@description('Azure OpenAI data-plane API version the app calls (AZURE_OPENAI_API_VERSION).')
param openAiApiVersion string = '2025-04-01-preview'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var serviceName = 'api'
var databaseName = 'video-signaling'
var deadLetterContainerName = 'eventgrid-deadletter'
var deploymentContainerName = 'app-package-${resourceToken}'
var effectiveTenantId = empty(authTenantId) ? tenant().tenantId : authTenantId
var effectiveOpenAiLocation = empty(openAiLocation) ? location : openAiLocation
// The app says whisper-1 (OpenAI's name, which also picks the response shape); Azure calls it whisper.
var azureTranscribeModel = transcribeModel == 'whisper-1' ? 'whisper' : transcribeModel
var webServiceName = 'web'
var captionsServiceName = 'captions'
// The web client's origin first, then any other allowed ones: the Function App (its CORS setting and
// ALLOWED_ORIGINS) and Blob storage (uploads, playback) allow the same list.
// (No lambdas: checkov's Bicep parser does not read them.) Spaces are dropped; an origin has none.
var extraOrigins = empty(allowedOrigins) ? [] : split(replace(allowedOrigins, ' ', ''), ',')
var corsOrigins = union([web.outputs.origin], extraOrigins)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

module web 'modules/staticwebapp.bicep' = {
  name: 'staticwebapp'
  scope: rg
  params: {
    name: 'swa-${resourceToken}'
    location: webLocation
    tags: tags
    serviceName: webServiceName
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    deadLetterContainerName: deadLetterContainerName
    recordingRetentionDays: recordingRetentionDays
    corsOrigins: corsOrigins
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
    developerPrincipalType: developerPrincipalType
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    name: 'cosmos-${resourceToken}'
    location: location
    tags: tags
    databaseName: databaseName
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
  }
}

module communication 'modules/communication.bicep' = {
  name: 'communication'
  scope: rg
  params: {
    name: 'acs-${resourceToken}'
    tags: tags
    dataLocation: acsDataLocation
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
    developerPrincipalType: developerPrincipalType
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
    developerPrincipalType: developerPrincipalType
  }
}

module openAi 'modules/openai.bicep' = {
  name: 'openai'
  scope: rg
  params: {
    name: 'oai-${resourceToken}'
    location: effectiveOpenAiLocation
    tags: tags
    transcribeDeploymentName: azureTranscribeModel
    transcribeModelName: azureTranscribeModel
    transcribeModelVersion: transcribeModelVersion
    transcribeSku: transcribeDeploymentSku
    transcribeCapacity: transcribeCapacity
    chatDeploymentName: chatModel
    chatModelName: chatModel
    chatModelVersion: chatModelVersion
    chatSku: chatDeploymentSku
    chatCapacity: chatCapacity
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
    developerPrincipalType: developerPrincipalType
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  scope: rg
  params: {
    storageTopicName: 'evgt-st-${resourceToken}'
    acsTopicName: 'evgt-acs-${resourceToken}'
    location: location
    tags: tags
    storageAccountName: storage.outputs.name
    deadLetterContainerName: storage.outputs.deadLetterContainerName
    acsName: communication.outputs.name
  }
}

// Alerts (e-mailed to alertEmail), and the operations workbook, on the app's telemetry and the topics.
module operations 'modules/operations.bicep' = {
  name: 'operations'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsId: monitoring.outputs.appInsightsId
    actionGroupName: 'ag-${resourceToken}'
    storageTopicName: eventGrid.outputs.storageTopicName
    acsTopicName: eventGrid.outputs.acsTopicName
    alertEmail: alertEmail
    failedRecordingsPerHour: failedRecordingsPerHour
  }
}

module live 'modules/live.bicep' = {
  name: 'live'
  scope: rg
  params: {
    webPubSubName: 'wps-${resourceToken}'
    topicName: 'evgt-events-${resourceToken}'
    location: location
    tags: tags
    webPubSubSku: webPubSubSku
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
    developerPrincipalType: developerPrincipalType
  }
}

module search 'modules/search.bicep' = {
  name: 'search'
  scope: rg
  params: {
    name: 'srch-${resourceToken}'
    location: location
    tags: tags
    sku: searchSku
    publicNetworkAccess: searchPublicNetworkAccess
    appPrincipalId: identity.outputs.principalId
    developerPrincipalId: developerPrincipalId
    developerPrincipalType: developerPrincipalType
  }
}

// The captions service on Container Apps (azd service `captions`), as the same identity. Its settings are
// the Function App's that it reads (shared/config.py): it builds the same services.
module captions 'modules/captions.bicep' = {
  name: 'captions'
  scope: rg
  params: {
    environmentName: 'cae-${resourceToken}'
    appName: 'ca-captions-${resourceToken}'
    registryName: 'cr${resourceToken}'
    location: location
    tags: tags
    serviceName: captionsServiceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    workspaceName: monitoring.outputs.workspaceName
    settings: [
      { name: 'AUTH_MODE', value: authMode }
      { name: 'AUTH_TENANT_ID', value: effectiveTenantId }
      { name: 'AUTH_AUDIENCE', value: authAudience }
      { name: 'AUTH_SCOPES', value: authScopes }
      { name: 'AUTH_ROLES', value: authRoles }
      { name: 'STORE', value: 'cosmos' }
      { name: 'COSMOS_ENDPOINT', value: cosmos.outputs.endpoint }
      { name: 'COSMOS_DATABASE', value: cosmos.outputs.databaseName }
      { name: 'STORAGE', value: 'azure' }
      { name: 'AzureWebJobsStorage__blobServiceUri', value: storage.outputs.blobEndpoint }
      { name: 'AzureWebJobsStorage__queueServiceUri', value: storage.outputs.queueEndpoint }
      { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
      { name: 'AzureWebJobsStorage__clientId', value: identity.outputs.clientId }
      { name: 'COMMUNICATION', value: 'acs' }
      { name: 'ACS_ENDPOINT', value: communication.outputs.endpoint }
      { name: 'ACS_RESOURCE_ID', value: communication.outputs.immutableResourceId }
      { name: 'REALTIME', value: 'webpubsub' }
      { name: 'WEBPUBSUB_ENDPOINT', value: live.outputs.webPubSubEndpoint }
      { name: 'EVENTS', value: 'eventgrid' }
      { name: 'EVENTGRID_TOPIC_ENDPOINT', value: live.outputs.topicEndpoint }
      { name: 'KEY_VAULT_URL', value: keyVault.outputs.uri }
      { name: 'SIGNING_KEY', value: 'keyvault:signing-key' }
      { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: monitoring.outputs.connectionString }
    ]
  }
}

// The app starts as soon as it exists, so it comes last: it takes outputs from every other module, and
// a module's outputs exist only once all of it (its role assignments included) has been deployed.
module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    planName: 'plan-${resourceToken}'
    appName: 'func-${resourceToken}'
    location: location
    tags: tags
    serviceName: serviceName
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
    authMode: authMode
    authTenantId: effectiveTenantId
    authAudience: authAudience
    authScopes: authScopes
    authRoles: authRoles
    authAuthority: environment().authentication.loginEndpoint
    authClientId: authClientId
    authApiScope: authApiScope
    allowedOrigins: corsOrigins
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabase: cosmos.outputs.databaseName
    acsEndpoint: communication.outputs.endpoint
    openAiEndpoint: openAi.outputs.endpoint
    openAiApiVersion: openAiApiVersion
    transcribeDeployment: openAi.outputs.transcribeDeploymentName
    transcribeModel: transcribeModel
    transcribeConcurrency: transcribeConcurrency
    chatDeployment: openAi.outputs.chatDeploymentName
    summaryModel: chatModel
    summaryTokenBudget: summaryTokenBudget
    keyVaultUri: keyVault.outputs.uri
    webPubSubEndpoint: live.outputs.webPubSubEndpoint
    eventGridTopicEndpoint: live.outputs.topicEndpoint
    searchEndpoint: search.outputs.endpoint
    recordingRetentionDays: recordingRetentionDays
    notesRetentionDays: notesRetentionDays
    redactPii: redactPii
    captionsUrl: captions.outputs.url
    acsResourceId: communication.outputs.immutableResourceId
  }
}

// azd stores these in .azure/<env>/.env: the hooks read them, and a local run against the deployed
// resources can export them (README). No secret is among them.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_ID string = functionApp.outputs.id
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
// The web client: where it is served, and the API it calls (azd passes it to the build as
// VITE_API_BASE_URL, azure.yaml's web prepackage hook).
output WEB_URL string = web.outputs.origin
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}/api'
output STATIC_WEB_APP_NAME string = web.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output DEAD_LETTER_CONTAINER string = storage.outputs.deadLetterContainerName
output STORAGE_SYSTEM_TOPIC string = eventGrid.outputs.storageTopicName
output ACS_SYSTEM_TOPIC string = eventGrid.outputs.acsTopicName
output CAPTIONS_URL string = captions.outputs.url
// azd pushes the captions service's image here.
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = captions.outputs.registryEndpoint
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output LOG_ANALYTICS_WORKSPACE_NAME string = monitoring.outputs.workspaceName
// The app's own setting names, for a local run against these resources.
output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmos.outputs.databaseName
output ACS_ENDPOINT string = communication.outputs.endpoint
output AZURE_OPENAI_ENDPOINT string = openAi.outputs.endpoint
output WEBPUBSUB_ENDPOINT string = live.outputs.webPubSubEndpoint
output EVENTGRID_TOPIC_ENDPOINT string = live.outputs.topicEndpoint
output SEARCH_ENDPOINT string = search.outputs.endpoint
output SEARCH_SERVICE_NAME string = search.outputs.name
output AZURE_OPENAI_API_VERSION string = openAiApiVersion
output AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT string = openAi.outputs.transcribeDeploymentName
output AZURE_OPENAI_CHAT_DEPLOYMENT string = openAi.outputs.chatDeploymentName
output TRANSCRIBE_MODEL string = transcribeModel
output SUMMARY_MODEL string = chatModel
output KEY_VAULT_URL string = keyVault.outputs.uri
output AzureWebJobsStorage__blobServiceUri string = storage.outputs.blobEndpoint
output AzureWebJobsStorage__queueServiceUri string = storage.outputs.queueEndpoint
