// The one storage account: the Functions host's own storage (AzureWebJobsStorage), the recordings and
// their artifacts, the job queues with their poison queues, the Flex deployment package, and the
// container Event Grid dead-letters into. Keyless: shared-key access is off, so every caller (the app,
// the host, Flex's package download, Event Grid) authenticates with Entra ID.

param name string
param location string
param tags object
@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string
@description('Blob container Event Grid writes undeliverable events to.')
param deadLetterContainerName string
@description('RETAIN_RECORDINGS_DAYS: the app deletes a source this many days after its transcript; the lifecycle rule deletes any source a day after that (from its upload); 0 keeps them.')
@minValue(0)
param recordingRetentionDays int
@description('Browser origins (the web client\'s first) allowed to upload to SAS URLs and to play recordings back; empty: none.')
param corsOrigins array
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against these resources.')
param developerPrincipalId string
param developerPrincipalType string

// The app's containers and queues (DESIGN.md "Data"); the -poison queues are created up front so
// their triggers start listening at once and operators see them before the first failure.
var appContainers = [
  'recordings'
  'artifacts'
]
var queues = [
  'transcription-jobs'
  'transcription-jobs-poison'
  'summary-jobs'
  'summary-jobs-poison'
  'recording-fetch-jobs'
  'recording-fetch-jobs-poison'
  'erasure-jobs'
  'erasure-jobs-poison'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    // checkov:skip=CKV_AZURE_206: LRS on purpose; recordings can be uploaded again and artifacts regenerated, so GRS would double the storage bill for little
    // checkov:skip=CKV_AZURE_59: public endpoint on purpose; browsers PUT recordings straight to SAS URLs and Flex without a VNet reaches storage over it
    // checkov:skip=CKV_AZURE_35: default action Allow for the same reason (callers come from anywhere); every request still needs Entra ID or a user-delegation SAS
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      // A second layer of encryption at rest, free on new accounts.
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // A deleted recording or artifact can be restored for a week (an operator's mistake, a bad
    // release); DELETE through the API still removes it for good after that.
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
    // The web client talks to Blob storage directly, through the SAS URLs the API hands out: it uploads
    // with a plain PUT (x-ms-blob-type, Content-Type), and plays recordings back with GET and HEAD, in
    // byte ranges. Without a CORS rule for its origin the browser refuses both. No rule without origins.
    cors: {
      corsRules: empty(corsOrigins) ? [] : [
        {
          allowedOrigins: corsOrigins
          allowedMethods: [
            'PUT'
            'GET'
            'HEAD'
            'OPTIONS'
          ]
          allowedHeaders: [
            'content-type'
            'x-ms-blob-type'
            'x-ms-version'
            'x-ms-client-request-id'
            'range'
          ]
          exposedHeaders: [
            'etag'
            'content-length'
            'content-range'
            'accept-ranges'
            'x-ms-request-id'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in appContainers: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource jobQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queues: {
  parent: queueService
  name: queue
}]

// Old recordings are the bulk of the storage bill; their transcripts and summaries (in `artifacts`)
// stay. A recording deleted this way can no longer be re-transcribed, only re-summarized. The app's
// reconciler deletes a source `recordingRetentionDays` after its transcript was written and marks the
// recording (`sourceDeletedAt`); this rule is the backstop, a day later, counted from the upload (the
// last change, as lifecycle rules count), for sources the app never transcribed or missed.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = if (recordingRetentionDays > 0) {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-old-recordings'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'recordings/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: recordingRetentionDays + 1
                }
              }
            }
          }
        }
      ]
    }
  }
}

// Role: Storage Blob Data Owner, for the app's identity, on this account. The Functions host needs it
// for its own storage (it creates its containers and takes blob leases); it also covers the app's
// recordings and artifacts, Flex's package download, and user-delegation keys for upload SAS URLs
// (so no separate Storage Blob Delegator role is needed).
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Storage Queue Data Contributor, for the app's identity, on this account: the queue triggers
// read and delete job messages, the host moves them to the -poison queues, the app enqueues jobs.
resource appQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appPrincipalId, '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Storage Blob Data Contributor, for the optional developer, on this account: `make run` with
// STORAGE=azure reads and writes blobs and signs upload URLs with a user-delegation key.
resource developerBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(account.id, developerPrincipalId, 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'ba92f5b4-2d11-453d-a403-e96b0029c9fe')
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

// Role: Storage Queue Data Contributor, for the optional developer, on this account (devhost's queue
// runner reads the same job queues).
resource developerQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(account.id, developerPrincipalId, '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
  scope: account
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '974c5e8b-45b9-4653-ba55-5f855dd0fb88')
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output deploymentContainerUrl string = '${account.properties.primaryEndpoints.blob}${deploymentContainer.name}'
output deadLetterContainerName string = deadLetterContainer.name
