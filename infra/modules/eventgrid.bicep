// The Event Grid system topics the app's two Event Grid triggered functions subscribe to: the storage
// account's (BlobCreated in `recordings`, to recording_uploaded) and ACS's (RecordingFileStatusUpdated,
// to call_recording_ready). The subscriptions themselves point at deployed functions, so they are made
// after `azd deploy` by infra/hooks/postdeploy.sh (infra/events/subscriptions.bicep).
//
// Each topic has a system-assigned identity that dead-letters undeliverable events into the storage
// account's dead-letter container: shared-key access is off, so Event Grid must use Entra ID too.

param storageTopicName string
param acsTopicName string
param location string
param tags object
param storageAccountName string
param deadLetterContainerName string
param acsName string

var blobContributorRoleId = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: storage
  name: 'default'
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: deadLetterContainerName
}

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' existing = {
  name: acsName
}

// A storage account's system topic lives in the account's region.
resource storageTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: storageTopicName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: storage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

// ACS is global, and so is its system topic.
resource acsTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: acsTopicName
  location: 'global'
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    source: acs.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

// Role: Storage Blob Data Contributor, for the storage topic's identity, on the dead-letter container
// only: Event Grid writes undeliverable BlobCreated events there.
resource storageTopicDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, storageTopic.id, blobContributorRoleId)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobContributorRoleId)
    principalId: storageTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Storage Blob Data Contributor, for the ACS topic's identity, on the dead-letter container only.
resource acsTopicDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetterContainer.id, acsTopic.id, blobContributorRoleId)
  scope: deadLetterContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobContributorRoleId)
    principalId: acsTopic.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output storageTopicName string = storageTopic.name
output acsTopicName string = acsTopic.name
