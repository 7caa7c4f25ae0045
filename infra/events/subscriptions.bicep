// The Event Grid subscriptions that deliver to the app's Event Grid triggered functions. Deployed by
// infra/hooks/postdeploy.sh after `azd deploy`, not with main.bicep: an AzureFunction endpoint must name
// a function that exists, and the functions exist only once the code is deployed. A deployment is a PUT
// of the same definition, so running the hook again changes nothing.

@description('Resource id of the Function App.')
param functionAppId string
param storageTopicName string
param acsTopicName string
param storageAccountName string
param deadLetterContainerName string
@description('Whether call_recording_ready is deployed yet (the hook looks); its subscription waits for it.')
@allowed([
  'true'
  'false'
])
param callRecordingReadyDeployed string

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource storageTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: storageTopicName
}

resource acsTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: acsTopicName
}

// Uploads of recordings, the way a `source=EventGrid` blob trigger would get them, but the function
// reads only the blob's name (README: "Why an Event Grid trigger and not a blob trigger").
resource recordingUploaded 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: storageTopic
  name: 'recording-uploaded'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/recording_uploaded'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/recordings/'
    }
    eventDeliverySchema: 'EventGridSchema'
    // Event Grid's longest schedule: a day of retries covers an outage of the app or of Cosmos DB.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    // What still fails lands in the dead-letter container, written with the topic's own identity.
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

// Call recordings ACS has finished writing; call_recording_ready fetches and queues them.
resource callRecordingReady 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (callRecordingReadyDeployed == 'true') {
  parent: acsTopic
  name: 'call-recording-ready'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/call_recording_ready'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.RecordingFileStatusUpdated'
      ]
    }
    eventDeliverySchema: 'EventGridSchema'
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output recordingUploadedId string = recordingUploaded.id
