// Live events: Azure Web PubSub carries them to the web client (a group per meeting), an Event Grid custom
// topic to other systems (CloudEvents 1.0). Both keyless: local auth is disabled, and the app's identity
// holds the data-plane roles it needs, scoped to the one resource each.

param webPubSubName string
param topicName string
param location string
param tags object
@description('Standard_S1 (1,000 connections per unit, with an SLA) or Free_F1 (20 connections, 20k messages a day, no SLA: trying it out).')
@allowed([
  'Free_F1'
  'Standard_S1'
])
param webPubSubSku string
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against these resources.')
param developerPrincipalId string
param developerPrincipalType string

var webPubSubOwnerRoleId = '12cf5a90-567b-43ae-8102-96cf46c7d9b4'
var eventGridSenderRoleId = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: webPubSubName
  location: location
  tags: tags
  sku: {
    name: webPubSubSku
    capacity: 1
  }
  properties: {
    // checkov:skip=CKV_AZURE_176: no managed identity on purpose; this hub has no upstream event handler, so the service calls nothing and an identity would hold no role
    // Entra ID only: no access key can sign a client token or call the REST API.
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
    tls: {
      clientCertEnabled: false
    }
  }
}

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: topicName
  location: location
  tags: tags
  properties: {
    // checkov:skip=CKV_AZURE_193: public endpoint on purpose; the Flex Consumption app publishes without a VNet, and every request needs an Entra token (local auth is off)
    // checkov:skip=CKV_AZURE_191: no managed identity on purpose; subscriptions deliver to webhooks the integrators own, with no Azure destination to sign in to
    inputSchema: 'CloudEventSchemaV1_0'
    // Entra ID only: no aeg-sas-key, no SAS token.
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

// Role: Web PubSub Service Owner, for the app's identity, on this Web PubSub only: it sends to groups and
// users, moves users between groups and has the service sign client tokens (:generateToken).
resource appWebPubSubOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(webPubSub.id, appPrincipalId, webPubSubOwnerRoleId)
  scope: webPubSub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', webPubSubOwnerRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: EventGrid Data Sender, for the app's identity, on this topic only: it publishes, nothing else.
resource appTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(topic.id, appPrincipalId, eventGridSenderRoleId)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridSenderRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Web PubSub Service Owner, for the optional developer, on this Web PubSub only.
resource developerWebPubSubOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(webPubSub.id, developerPrincipalId, webPubSubOwnerRoleId)
  scope: webPubSub
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', webPubSubOwnerRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

// Role: EventGrid Data Sender, for the optional developer, on this topic only.
resource developerTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(topic.id, developerPrincipalId, eventGridSenderRoleId)
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridSenderRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

output webPubSubName string = webPubSub.name
output webPubSubEndpoint string = 'https://${webPubSub.properties.hostName}'
output topicName string = topic.name
output topicEndpoint string = topic.properties.endpoint
