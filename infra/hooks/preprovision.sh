#!/usr/bin/env bash
# azd preprovision hook: refuses settings the app would refuse, before anything is deployed.
#
# AUTH_MODE=entra needs AUTH_AUDIENCE (the app does not start without it), and easyauth needs the API's
# client id there: fail here, with the command that fixes it, rather than after a deployment whose app
# cannot start. Reads nothing but the azd environment, so running it again changes nothing.
set -euo pipefail

auth_mode="${AUTH_MODE:-entra}"
case "$auth_mode" in
  entra)
    if [ -z "${AUTH_AUDIENCE:-}" ]; then
      echo "AUTH_MODE=entra needs the API's token audience. Register an app for the API in Entra ID, then:" >&2
      echo "  azd env set AUTH_AUDIENCE '<its client id>,api://<its application id URI>'" >&2
      exit 1
    fi
    ;;
  easyauth)
    if [ -z "${AUTH_AUDIENCE:-}" ]; then
      echo "AUTH_MODE=easyauth needs the API app registration's client id as the first AUTH_AUDIENCE:" >&2
      echo "  azd env set AUTH_AUDIENCE '<its client id>'" >&2
      exit 1
    fi
    ;;
  *)
    echo "AUTH_MODE must be entra or easyauth in Azure (dev trusts any caller and is refused there), not '$auth_mode'" >&2
    exit 1
    ;;
esac

echo "AUTH_MODE=$auth_mode, AUTH_AUDIENCE set"
