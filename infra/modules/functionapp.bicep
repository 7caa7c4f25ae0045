// The Function App on Flex Consumption (Linux, Python 3.11), running as the user-assigned identity,
// and its app settings: one for one with shared/config.py (tests/infra/test_app_settings.py keeps them
// in step), identity-based connections only.

param planName string
param appName string
param location string
param tags object
@description('azd finds the app to deploy to by this tag value (the service name in azure.yaml).')
param serviceName string
param identityId string
param identityClientId string
param storageBlobEndpoint string
param storageQueueEndpoint string
param deploymentContainerUrl string
param appInsightsConnectionString string
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
@description('Instances kept warm for the HTTP functions (0: scale to zero; each one is billed while idle).')
@minValue(0)
param alwaysReadyHttpInstances int
@allowed([
  'entra'
  'easyauth'
])
param authMode string
param authTenantId string
param authAudience string
param authScopes string
param authRoles string
param authAuthority string
@description('The web client\'s Entra app registration (AUTH_CLIENT_ID); empty: none.')
param authClientId string
@description('The API scope the web client asks a token for (AUTH_API_SCOPE); empty: none.')
param authApiScope string
@description('Exact browser origins allowed to call the API (the web client\'s first).')
param allowedOrigins array
param cosmosEndpoint string
param cosmosDatabase string
param acsEndpoint string
param openAiEndpoint string
param openAiApiVersion string
param transcribeDeployment string
param transcribeModel string
param transcribeConcurrency int
param chatDeployment string
param summaryModel string
param summaryTokenBudget int
param keyVaultUri string
param webPubSubEndpoint string
param eventGridTopicEndpoint string
param searchEndpoint string
@description('RETAIN_RECORDINGS_DAYS: the reconciler deletes a source this long after its transcript; 0 keeps it.')
@minValue(0)
param recordingRetentionDays int
@description('RETAIN_NOTES_DAYS: the reconciler deletes a recording with its notes this long after its transcript; 0 keeps it.')
@minValue(0)
param notesRetentionDays int
@description('REDACT_PII: mask e-mail addresses, phone numbers, card and account numbers in transcripts.')
param redactPii bool
@description('The captions service\'s wss:// base URL (infra/modules/captions.bicep): where ACS streams captions.')
param captionsUrl string
@description('The ACS resource\'s immutable id: the audience of the tokens ACS signs its WebSocket connections with.')
param acsResourceId string

// Every setting the app reads in Azure (shared/config.py) and the platform's own, in the site itself so
// the host's first start already has them. The Flex-deprecated ones (FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE...) are left out: functionAppConfig carries the
// runtime and the package location instead. tests/infra/test_app_settings.py reads this list.
var appSettings = [
  // The host's storage, identity-based; the app writes its jobs through the same settings.
  { name: 'AzureWebJobsStorage__blobServiceUri', value: storageBlobEndpoint }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: storageQueueEndpoint }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  // DefaultAzureCredential picks the user-assigned identity by this.
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  // App Insights refuses keys: the host and the worker's exporter sign in as the identity.
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD;ClientId=${identityClientId}' }
  { name: 'AUTH_MODE', value: authMode }
  { name: 'AUTH_TENANT_ID', value: authTenantId }
  { name: 'AUTH_AUDIENCE', value: authAudience }
  { name: 'AUTH_SCOPES', value: authScopes }
  { name: 'AUTH_ROLES', value: authRoles }
  { name: 'AUTH_AUTHORITY', value: authAuthority }
  { name: 'AUTH_CLIENT_ID', value: authClientId }
  { name: 'AUTH_API_SCOPE', value: authApiScope }
  // The platform's CORS (siteConfig.cors below) answers browsers; the app reads the same list, so that a
  // bad origin fails the start loudly and the code and the platform cannot disagree.
  { name: 'ALLOWED_ORIGINS', value: join(allowedOrigins, ',') }
  { name: 'STORE', value: 'cosmos' }
  { name: 'COSMOS_ENDPOINT', value: cosmosEndpoint }
  { name: 'COSMOS_DATABASE', value: cosmosDatabase }
  { name: 'STORAGE', value: 'azure' }
  { name: 'COMMUNICATION', value: 'acs' }
  { name: 'ACS_ENDPOINT', value: acsEndpoint }
  { name: 'ACS_RESOURCE_ID', value: acsResourceId }
  { name: 'CAPTIONS_URL', value: captionsUrl }
  { name: 'TRANSCRIBER', value: 'azure-openai' }
  { name: 'SUMMARIZER', value: 'azure-openai' }
  { name: 'AZURE_OPENAI_ENDPOINT', value: openAiEndpoint }
  { name: 'AZURE_OPENAI_API_VERSION', value: openAiApiVersion }
  { name: 'AZURE_OPENAI_TRANSCRIBE_DEPLOYMENT', value: transcribeDeployment }
  { name: 'TRANSCRIBE_MODEL', value: transcribeModel }
  { name: 'TRANSCRIBE_CONCURRENCY', value: string(transcribeConcurrency) }
  // The longest recording transcribed (minutes): longer ones fail as too_long, billed no further.
  { name: 'MAX_RECORDING_MINUTES', value: '480' }
  { name: 'AZURE_OPENAI_CHAT_DEPLOYMENT', value: chatDeployment }
  { name: 'SUMMARY_MODEL', value: summaryModel }
  { name: 'SUMMARY_TOKEN_BUDGET', value: string(summaryTokenBudget) }
  // Participants read draft summaries too; 'approved' shows them only what the organizer approved.
  { name: 'SUMMARY_VISIBILITY', value: 'drafts' }
  // The list prices the estimated cost per meeting hour is reckoned at (a metric; README "Operators").
  { name: 'PRICE_TRANSCRIBE_PER_MINUTE', value: '0.006' }
  { name: 'PRICE_SUMMARY_INPUT_PER_MILLION', value: '0.15' }
  { name: 'PRICE_SUMMARY_OUTPUT_PER_MILLION', value: '0.60' }
  // Retention, enforced by the reconciler (storage.bicep's lifecycle rule is the sources' backstop).
  { name: 'RETAIN_RECORDINGS_DAYS', value: string(recordingRetentionDays) }
  { name: 'RETAIN_NOTES_DAYS', value: string(notesRetentionDays) }
  { name: 'REDACT_PII', value: string(redactPii) }
  { name: 'KEY_VAULT_URL', value: keyVaultUri }
  // Live events, keyless: Web PubSub to the web client, the Event Grid topic to other systems.
  { name: 'REALTIME', value: 'webpubsub' }
  { name: 'WEBPUBSUB_ENDPOINT', value: webPubSubEndpoint }
  { name: 'EVENTS', value: 'eventgrid' }
  { name: 'EVENTGRID_TOPIC_ENDPOINT', value: eventGridTopicEndpoint }
  // Search across meetings, keyless; the app creates its index when it is missing.
  { name: 'SEARCH', value: 'azure' }
  { name: 'SEARCH_ENDPOINT', value: searchEndpoint }
  { name: 'SEARCH_INDEX', value: 'notes' }
  // Read from Key Vault at first use (shared/secrets.py), so that every instance signs alike.
  { name: 'SIGNING_KEY', value: 'keyvault:signing-key' }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    // checkov:skip=CKV_AZURE_225: not zone redundant; it needs always-ready instances in every zone, a standing cost this scale-to-zero app avoids (the data services keep state)
    // Linux: Flex Consumption has no Windows workers.
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    // checkov:skip=CKV_AZURE_17: no client certificates; callers authenticate with Entra ID bearer tokens, and Flex Consumption has no platform certificate features
    // checkov:skip=CKV_AZURE_222: public network access on purpose; the API is called from browsers and Event Grid, and Flex without a VNet has no private ingress
    // checkov:skip=CKV_AZURE_212: Flex Consumption decides the instance count itself (numberOfWorkers does not apply); alwaysReadyHttpInstances keeps warm ones
    // checkov:skip=CKV_AZURE_213: no platform health check; its pings would keep a scale-to-zero app awake, and GET /api/health is there for external probes
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: appSettings
      // The web client on Static Web Apps calls from its own origin. Exact origins, no credentials: it
      // sends a bearer token, never a cookie.
      cors: {
        allowedOrigins: allowedOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      // Flex pulls the package azd uploads from this container, as the app's identity (no keys).
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [
          {
            name: 'http'
            instanceCount: alwaysReadyHttpInstances
          }
        ] : []
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// FTP and Kudu basic-auth publishing off: azd deploys with Entra tokens, nobody needs a password.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// App Service Authentication, on only with AUTH_MODE=easyauth: it validates Entra tokens before the app
// sees a request and sets X-MS-CLIENT-PRINCIPAL, which the app then trusts (without it the header would
// come from the caller). Always declared, enabled or not, so that switching modes switches it too.
resource easyAuth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    // checkov:skip=CKV_AZURE_13: reads the legacy authsettings `enabled` flag; here platform.enabled is on with AUTH_MODE=easyauth, and off with entra because the app validates Entra ID tokens itself
    // checkov:skip=CKV_AZURE_63: checkov reads this authsettingsV2 resource as the site's `web` config; HTTP logs are in Application Insights
    // checkov:skip=CKV_AZURE_65: the same misreading; detailed errors are App Service file logs, which Flex Consumption does not keep
    // checkov:skip=CKV_AZURE_66: the same misreading; failed request tracing is an App Service file log too
    // checkov:skip=CKV_AZURE_80: the same misreading; .NET Framework does not apply to a Python app
    // checkov:skip=CKV_AZURE_88: the same misreading; the app keeps nothing on a file share (Blob storage and Cosmos DB)
    // checkov:skip=CKV_AZURE_222: the same misreading; public access is decided (and justified) on the site above
    platform: {
      enabled: authMode == 'easyauth'
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      // Anonymous by design (health, the OpenAPI document, the web client's configuration); Event Grid's
      // delivery carries a system key.
      excludedPaths: [
        '/api/health'
        '/api/openapi.json'
        '/api/client-config'
        '/runtime/webhooks/EventGrid'
      ]
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: authMode == 'easyauth'
        registration: {
          clientId: first(split(authAudience, ','))
          openIdIssuer: '${authAuthority}${authTenantId}/v2.0'
        }
        validation: {
          allowedAudiences: split(authAudience, ',')
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
    httpSettings: {
      requireHttps: true
    }
  }
}

output id string = site.id
output name string = site.name
output defaultHostName string = site.properties.defaultHostName
