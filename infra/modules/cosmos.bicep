// Cosmos DB for NoSQL, serverless (billed per request unit used, nothing when idle), keyless. The database
// and both containers are created here because the app's data-plane role cannot create them: the
// layout mirrors shared/adapters/cosmos_store.py (partition keys and the users container's indexing
// policy), and the app checks both at first use.

param name string
param location string
param tags object
param databaseName string
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against these resources.')
param developerPrincipalId string

// Cosmos DB Built-in Data Contributor: read and write items, no control-plane rights (it cannot
// create or delete databases or containers, nor read keys).
var dataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: name
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    // checkov:skip=CKV_AZURE_99: public endpoint on purpose; Flex Consumption without a VNet reaches Cosmos DB over it, and every request needs an Entra token (local auth is off)
    // checkov:skip=CKV_AZURE_101: public network access for the same reason
    databaseAccountOfferType: 'Standard'
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    // Entra ID only: account keys and resource tokens are refused.
    disableLocalAuth: true
    // Keys could otherwise change databases and containers behind Bicep's back.
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    // Every write is guarded by an ETag (cosmos_store.py), so Session consistency is enough.
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

// The meeting document and its recording documents, one partition per meeting. Recordings by status are
// listed ORDER BY updatedAt, id across meetings (the reconciler, the operators' list), which Cosmos DB
// serves only from this composite index; the policy is cosmos_store.MEETINGS_INDEXING_POLICY.
resource meetings 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'meetings'
  properties: {
    resource: {
      id: 'meetings'
      partitionKey: {
        paths: [
          '/meetingId'
        ]
        kind: 'Hash'
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/"_etag"/?'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/updatedAt'
              order: 'ascending'
            }
            {
              path: '/id'
              order: 'ascending'
            }
          ]
        ]
      }
    }
  }
}

// The user's ACS identity and one membership entry per meeting. "My meetings" is ORDER BY startsAt,
// meetingId in one partition, which Cosmos DB serves only from this composite index; the policy is
// cosmos_store.USERS_INDEXING_POLICY, the one the app creates outside Azure.
resource users 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'users'
  properties: {
    resource: {
      id: 'users'
      partitionKey: {
        paths: [
          '/userId'
        ]
        kind: 'Hash'
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/*'
          }
        ]
        excludedPaths: [
          {
            path: '/"_etag"/?'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/startsAt'
              order: 'ascending'
            }
            {
              path: '/meetingId'
              order: 'ascending'
            }
          ]
        ]
      }
    }
  }
}

// Role: Cosmos DB Built-in Data Contributor, for the app's identity, scoped to this database only.
resource appDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(database.id, appPrincipalId, dataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: appPrincipalId
    scope: '${account.id}/dbs/${databaseName}'
  }
}

// Role: Cosmos DB Built-in Data Contributor, for the optional developer, scoped to this database only.
resource developerDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = if (!empty(developerPrincipalId)) {
  parent: account
  name: guid(database.id, developerPrincipalId, dataContributorRoleId)
  properties: {
    roleDefinitionId: '${account.id}/sqlRoleDefinitions/${dataContributorRoleId}'
    principalId: developerPrincipalId
    scope: '${account.id}/dbs/${databaseName}'
  }
  dependsOn: [
    appDataContributor
  ]
}

output endpoint string = account.properties.documentEndpoint
output name string = account.name
output databaseName string = database.name
