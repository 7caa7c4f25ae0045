// Log Analytics and a workspace-based Application Insights, both with local (key) auth off: telemetry
// is accepted only from Entra identities, so the connection string in the app settings is no credential.

param logAnalyticsName string
param appInsightsName string
param location string
param tags object
@description('Principal id of the app\'s managed identity (it publishes telemetry).')
param appPrincipalId string
@description('Days Log Analytics keeps logs; 30 stays inside the free retention.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      // Only Entra identities may write to or read from the workspace.
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // Ingestion needs an Entra token: APPLICATIONINSIGHTS_AUTHENTICATION_STRING in the app settings.
    DisableLocalAuth: true
  }
}

// Role: Monitoring Metrics Publisher, on this Application Insights only. With local auth off, the
// Functions host and the worker's OpenTelemetry exporter need it to send telemetry at all.
resource metricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '3913510d-42f4-4e42-8a64-420c390055eb')
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
output connectionString string = appInsights.properties.ConnectionString
output workspaceId string = workspace.id
output workspaceName string = workspace.name
