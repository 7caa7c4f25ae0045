// Azure Communication Services: rooms, user identities and the tokens the join route issues. The app
// signs in with its managed identity (ACS_ENDPOINT, no connection string); nothing here reads the
// resource's access keys.

param name string
param tags object
@description('Where ACS keeps data at rest (a geography such as \'United States\' or \'Europe\'); fixed at creation.')
param dataLocation string
param appPrincipalId string
@description('Optional: a developer or group that runs the app locally against these resources.')
param developerPrincipalId string
param developerPrincipalType string

var contributorRoleId = 'b24988ac-6180-42a0-ab88-20f7382dd24c'

resource acs 'Microsoft.Communication/communicationServices@2023-04-01' = {
  name: name
  // ACS is a global resource; dataLocation decides where its data lives.
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

// Role: Contributor, for the app's identity, scoped to this ACS resource only. ACS's Entra ID
// guidance for identities, rooms and tokens grants Contributor; scoping it to the one resource keeps
// it from reaching anything else in the group.
resource appContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(acs.id, appPrincipalId, contributorRoleId)
  scope: acs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributorRoleId)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Role: Contributor, for the optional developer, scoped to this ACS resource only.
resource developerContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(developerPrincipalId)) {
  name: guid(acs.id, developerPrincipalId, contributorRoleId)
  scope: acs
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', contributorRoleId)
    principalId: developerPrincipalId
    principalType: developerPrincipalType
  }
}

output id string = acs.id
output name string = acs.name
// The audience of the tokens ACS signs its WebSocket connections with (the captions service checks it).
output immutableResourceId string = acs.properties.immutableResourceId
output endpoint string = 'https://${acs.properties.hostName}/'
