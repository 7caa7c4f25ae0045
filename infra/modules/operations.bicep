// What tells an operator to look, and what they see when they do: an action group (e-mail), alerts on
// the app's signals, and a workbook. Every query reads what the app really emits: its metrics
// (shared/telemetry/metrics.py, in `customMetrics` with dimensions in `customDimensions`), the Functions
// host's `requests` (one per invocation, named after the function), and Event Grid's own metrics.
// tests/infra/test_monitoring.py checks the names in these queries against the code, both ways.
//
// Deployed after the Event Grid topics (their dead-letter metrics are alerted on).

param location string
param tags object
param appInsightsId string
param actionGroupName string
param storageTopicName string
param acsTopicName string
@description('Who gets the alerts by e-mail (empty: no action group; the alerts still fire in the portal).')
param alertEmail string = ''
@description('Failed recordings in an hour that raise an alert.')
@minValue(1)
param failedRecordingsPerHour int = 3
@description('Share of HTTP requests answered 5xx, in percent over 15 minutes, that raises an alert.')
@minValue(1)
@maxValue(100)
param http5xxPercent int = 5
@description('The host\'s function timeout in seconds (host.json functionTimeout): a job running 90% of it alerts.')
param functionTimeoutSeconds int = 600

var actionGroups = empty(alertEmail) ? [] : [resourceId('Microsoft.Insights/actionGroups', actionGroupName)]
var topics = [
  storageTopicName
  acsTopicName
]

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'vsignaling'
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// A poisoned job: the host gave up on a queue message and its poison function ran (it fails the
// recording with the reason). The poison queues themselves have no per-queue metric in Storage (queue
// metrics are per account), so the invocation of a poison function is the signal that one held a message.
resource poisonedJob 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-poisoned-job'
  location: location
  tags: tags
  kind: 'LogAlert'
  dependsOn: [
    actionGroup
  ]
  properties: {
    displayName: 'video-signaling: a job message reached a poison queue'
    description: 'A transcription, summary or fetch job was given up on: its recording is failed. README "Operating it".'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: '''
requests
| where name in ("transcription_job_poisoned", "summary_job_poisoned", "recording_fetch_job_poisoned")
| summarize poisoned = count()
'''
          metricMeasureColumn: 'poisoned'
          timeAggregation: 'Total'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

resource failedRecordings 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-failed-recordings'
  location: location
  tags: tags
  kind: 'LogAlert'
  dependsOn: [
    actionGroup
  ]
  properties: {
    displayName: 'video-signaling: recordings failing'
    description: 'More recordings failed in the last hour than the threshold; the workbook shows their error codes, GET /api/operations/recordings?status=failed lists them.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: '''
customMetrics
| where name == "recordings.finished" and tostring(customDimensions.status) == "failed"
| summarize failed = sum(value)
'''
          metricMeasureColumn: 'failed'
          timeAggregation: 'Total'
          operator: 'GreaterThanOrEqual'
          threshold: failedRecordingsPerHour
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// HTTP functions only (their requests carry a URL); at least 10 requests, so one error in two is no rate.
resource http5xx 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-http-5xx'
  location: location
  tags: tags
  kind: 'LogAlert'
  dependsOn: [
    actionGroup
  ]
  properties: {
    displayName: 'video-signaling: HTTP 5xx rate'
    description: 'Too many API requests answered 5xx in 15 minutes; their invocation ids are in the problem+json bodies and the traces.'
    severity: 1
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: '''
requests
| where isnotempty(url)
| summarize total = count(), failed = countif(toint(resultCode) >= 500)
| where total >= 10
| extend failedPercent = 100.0 * failed / total
'''
          metricMeasureColumn: 'failedPercent'
          timeAggregation: 'Maximum'
          operator: 'GreaterThan'
          threshold: http5xxPercent
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// A job close to the host's timeout is about to be killed mid-work (the transcription job continues in a
// new invocation after 8 minutes, between pieces: one slow piece can still carry it past).
resource jobNearTimeout 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-job-near-timeout'
  location: location
  tags: tags
  kind: 'LogAlert'
  dependsOn: [
    actionGroup
  ]
  properties: {
    displayName: 'video-signaling: a job ran close to the function timeout'
    description: 'A pipeline job ran for 90% of functionTimeout or more: pieces too large, or a provider too slow.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: '''
customMetrics
| where name == "stage.duration"
| summarize longest = max(valueMax) by stage = tostring(customDimensions.stage)
'''
          metricMeasureColumn: 'longest'
          timeAggregation: 'Maximum'
          operator: 'GreaterThanOrEqual'
          threshold: functionTimeoutSeconds * 9 / 10
          dimensions: [
            {
              name: 'stage'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// The reconciler healing something means an event or a job went missing: fine once, worth a look when
// it keeps happening (dead-lettered events, crashing instances).
resource reconcilerHealed 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'alert-reconciler-found-stuck-work'
  location: location
  tags: tags
  kind: 'LogAlert'
  dependsOn: [
    actionGroup
  ]
  properties: {
    displayName: 'video-signaling: the reconciler found stuck work'
    description: 'The reconciler queued a missed upload, expired an upload, or queued a job whose instance died; its warnings in traces say which recording.'
    severity: 3
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    criteria: {
      allOf: [
        {
          query: '''
customMetrics
| where name == "reconciler.actions"
| summarize healed = sum(value) by action = tostring(customDimensions.action)
'''
          metricMeasureColumn: 'healed'
          timeAggregation: 'Total'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'action'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: actionGroups
    }
  }
}

// Event Grid's own metric: an event to the app's functions that could not be delivered and went to the
// dead-letter container (the reconciler heals a missed upload; a missed call recording file needs a look).
resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = [for topic in topics: {
  name: 'alert-dead-lettered-${topic}'
  location: 'global'
  tags: tags
  dependsOn: [
    actionGroup
  ]
  properties: {
    description: 'Event Grid dead-lettered events of system topic ${topic}: see the eventgrid-deadletter container.'
    severity: 2
    enabled: true
    scopes: [
      resourceId('Microsoft.EventGrid/systemTopics', topic)
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT1H'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'deadLettered'
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: 'DeadLetteredCount'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    autoMitigate: true
    actions: [for group in actionGroups: {
      actionGroupId: group
    }]
  }
}]

// The picture of the service: recordings, failures, latency, volume, cost, slow requests
// (operations.workbook.json; its queries are checked like the alerts').
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, appInsightsId, 'video-signaling-operations')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'video-signaling operations'
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: loadTextContent('operations.workbook.json')
  }
}

output workbookId string = workbook.id
