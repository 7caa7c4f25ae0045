#!/usr/bin/env bash
# azd postdeploy hook: subscribes the app's Event Grid triggered functions to their system topics.
#
# An Event Grid subscription with an AzureFunction endpoint names the function, and the functions exist
# only once `azd deploy` has put the code there (and the host has indexed it), so this cannot be part of
# main.bicep. It deploys infra/events/subscriptions.bicep: the same definition every time, so running it
# again changes nothing. call_recording_ready gets its subscription once that function is deployed.
#
# Needs `az login` (the Azure CLI's own sign-in) besides `azd auth login`.
set -euo pipefail

for name in AZURE_SUBSCRIPTION_ID AZURE_RESOURCE_GROUP FUNCTION_APP_ID STORAGE_SYSTEM_TOPIC ACS_SYSTEM_TOPIC \
  STORAGE_ACCOUNT_NAME DEAD_LETTER_CONTAINER; do
  if [ -z "${!name:-}" ]; then
    echo "$name is not set: run \`azd provision\` first (it is one of main.bicep's outputs)" >&2
    exit 1
  fi
done

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

function_exists() {
  az resource show --ids "${FUNCTION_APP_ID}/functions/$1" --api-version 2024-04-01 \
    --query id -o tsv >/dev/null 2>&1
}

# The host indexes the new package a little after the deployment returns.
for attempt in $(seq 1 30); do
  if function_exists recording_uploaded; then
    break
  fi
  if [ "$attempt" -eq 30 ]; then
    echo "recording_uploaded did not appear on the Function App within 5 minutes; see its logs" >&2
    exit 1
  fi
  echo "waiting for the deployed functions to be indexed ($attempt/30)..."
  sleep 10
done

call_recording_ready=false
if function_exists call_recording_ready; then
  call_recording_ready=true
else
  echo "call_recording_ready is not deployed yet: its ACS subscription waits for a later deployment"
fi

az deployment group create \
  --subscription "$AZURE_SUBSCRIPTION_ID" \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name event-subscriptions \
  --template-file "$here/../events/subscriptions.bicep" \
  --parameters \
    functionAppId="$FUNCTION_APP_ID" \
    storageTopicName="$STORAGE_SYSTEM_TOPIC" \
    acsTopicName="$ACS_SYSTEM_TOPIC" \
    storageAccountName="$STORAGE_ACCOUNT_NAME" \
    deadLetterContainerName="$DEAD_LETTER_CONTAINER" \
    callRecordingReadyDeployed="$call_recording_ready" \
  --only-show-errors --output none

echo "Event Grid subscriptions are in place (recording_uploaded; call_recording_ready: $call_recording_ready)"
