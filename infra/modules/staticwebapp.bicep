// The web client (web/, Vite's build in web/dist) on Azure Static Web Apps, Free: static files on a
// global CDN, no server code. It calls the Function App cross-origin (CORS), not as a linked backend:
// linking a backend needs the Standard plan, and the Function Apps it links are on the Consumption,
// Premium or Dedicated plans (README, "Deploying to Azure").

param name string
@description('Static Web Apps runs in few regions: centralus, eastus2, eastasia, westeurope, westus2.')
@allowed([
  'centralus'
  'eastus2'
  'eastasia'
  'westeurope'
  'westus2'
])
param location string
param tags object
@description('azd finds the app to deploy the web client to by this tag value (the service name in azure.yaml).')
param serviceName string

resource web 'Microsoft.Web/staticSites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': serviceName
  })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    // azd uploads the built files (its deployment token, fetched at deploy time); no repository is linked.
    provider: 'Custom'
    // Preview environments are made for pull requests of a linked repository; there is none.
    stagingEnvironmentPolicy: 'Disabled'
    allowConfigFileUpdates: true
  }
}

output name string = web.name
output defaultHostName string = web.properties.defaultHostname
// The origin the browser sends (`Origin`), which the Function App and Blob storage allow (CORS).
output origin string = 'https://${web.properties.defaultHostname}'
