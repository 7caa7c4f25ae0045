// The captions service (captions/, azd service `captions`): the WebSocket ACS streams a captioned call's
// real-time transcription to. A Functions app cannot accept inbound WebSockets, so it runs on Azure
// Container Apps: a Consumption environment, one app, scaled to zero when no call is captioned and up by
// the connections ACS holds open (an open WebSocket counts as a request in flight, so the replica that
// holds one stays). It runs as the app's user-assigned identity, which already holds the roles it needs
// (Cosmos DB, Storage, Web PubSub, Key Vault for the signing key): keyless, like the Function App. Its
// image comes from a registry of its own that the identity may only pull from.

param environmentName string
param appName string
param registryName string
param location string
param tags object
@description('azd finds the app to deploy to by this tag value (the service name in azure.yaml).')
param serviceName string
param identityId string
param identityClientId string
param identityPrincipalId string
param workspaceName string
@description('The settings the service reads (shared/config.py), the Function App\'s where they are shared.')
param settings array
@description('Replicas at most: one holds many calls (a caption is a small JSON frame).')
@minValue(1)
param maxReplicas int = 10

var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'
var port = 7072

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: workspaceName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    // checkov:skip=CKV_AZURE_163: vulnerability scanning is Defender for Containers, a subscription-level choice, not this template's
    // checkov:skip=CKV_AZURE_166: quarantine needs Premium; azd pushes the one image it has just built
    name: 'Basic'
  }
  properties: {
    // checkov:skip=CKV_AZURE_139: azd pushes from the developer's machine or CI, and Container Apps pulls without a VNet: public network access, with Entra sign-in only (no admin user)
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
    anonymousPullEnabled: false
  }
}

// Role: AcrPull, for the app's identity, on this registry only: it pulls the image, nothing else.
resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identityPrincipalId, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: environmentName
  location: location
  tags: tags
  properties: {
    // Logs through Azure Monitor (the diagnostic setting below), not the workspace's shared key: no key
    // is read anywhere in this template.
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
  }
}

resource environmentLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: environment
  properties: {
    workspaceId: workspace.id
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  dependsOn: [
    pull
  ]
  properties: {
    environmentId: environment.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        // ACS connects from the internet: the WebSocket is public, and every connection must carry ACS's
        // signed token for this resource (the service refuses any other).
        external: true
        targetPort: port
        transport: 'auto'
        allowInsecure: false
      }
      registries: [
        {
          server: registry.properties.loginServer
          identity: identityId
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'captions'
          // azd replaces it with the image it builds from captions/Dockerfile.
          image: 'mcr.microsoft.com/azuredocs/containerapps-helloworld:latest'
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: concat(settings, [
            { name: 'AZURE_CLIENT_ID', value: identityClientId }
            { name: 'CAPTIONS_PORT', value: string(port) }
          ])
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/health'
                port: port
              }
            }
          ]
        }
      ]
      scale: {
        // Zero while no call is captioned; ACS's connection wakes it. One replica per 100 calls.
        minReplicas: 0
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'open-streams'
            http: {
              metadata: {
                concurrentRequests: '100'
              }
            }
          }
        ]
      }
    }
  }
}

output name string = app.name
output url string = 'wss://${app.properties.configuration.ingress.fqdn}'
output registryEndpoint string = registry.properties.loginServer
