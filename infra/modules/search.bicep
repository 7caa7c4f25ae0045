// Search across meetings: Azure AI Search holds one index of transcript segments and summary items, each
// with its meeting's member ids, which every query filters on (shared/adapters/azure_search.py). Keyless:
// local auth (admin and query keys) is disabled, and the app's identity holds the roles it needs on this
// one service.

param name string
param location string
param tags object
@description('basic (15 indexes, 2 GB, replicas for an SLA) or free (3 indexes, 50 MB, shared, no SLA: trying it out; one per subscription).')
@allowed([
  'free'
  'basic'
])
param sku string
@description('Enabled: reachable from the Flex Consumption app without a VNet (every request still needs an Entra token). Disabled: only through a private endpoint, which this template does not make.')
@allowed([
  'enabled'
  'disabled'
])
param publicNetworkAccess string
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against this service.')
param developerPrincipalId string
param developerPrincipalType string

var indexDataContributorRoleId = '8ebe5a00-799e-43f5-93ac-243d3dce84a7'
var serviceContributorRoleId = '7ca78c08-252a-4471-8644-bb5ff32d4ba0'

resource search 'Microsoft.Search/searchServices@2025-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    // checkov:skip=CKV_AZURE_208: one replica by default, for cost; the index is rebuilt from the stored transcripts and summaries, and searching is not the app's critical path (raise replicaCount to 3 for the index-update SLA)
    // checkov:skip=CKV_AZURE_209: one replica by default, for cost (raise replicaCount to 2 for the query SLA)
    replicaCount: 1
    partitionCount: 1
    hostingMode: 'default'
    // Entra ID only: no admin or query key works; authOptions must then be absent.
    disableLocalAuth: true
    authOptions: null
    publicNetworkAccess: publicNetworkAccess
    // Keyword search with bm25 is what the app asks for; the semantic ranker is billed separately.
    semanticSearch: 'disabled'
  }
}

// Role: Search Index Data Contributor, for the app's identity, on this service only: it writes and
// queries documents.
resource appIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, appPrincipalId, indexDataContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', indexDataContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Search Service Contributor, for the app's identity, on this service only: it creates the index
// when it is missing (the first start after a deployment), and nothing outside this service.
resource appServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(search.id, appPrincipalId, serviceContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceContributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Search Index Data Contributor, for the optional developer, on this service only.
resource developerIndexDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(search.id, developerPrincipalId, indexDataContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', indexDataContributorRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

// Role: Search Service Contributor, for the optional developer, on this service only.
resource developerServiceContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(search.id, developerPrincipalId, serviceContributorRoleId)
  scope: search
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', serviceContributorRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

output name string = search.name
output endpoint string = 'https://${search.name}.search.windows.net'
