// The app's one user-assigned managed identity. User-assigned rather than the site's system identity:
// it exists before the Function App, so every role assignment (storage for the deployment package
// included) is in place when the app first starts, and it survives the app being recreated.

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
