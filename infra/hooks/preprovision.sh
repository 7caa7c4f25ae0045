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

# The web client signs in with its own app registration and asks a token for the API's scope: both, or
# neither (then the API works for callers with their own tokens, and the web client says it cannot sign in).
if [ -n "${AUTH_CLIENT_ID:-}" ] && [ -z "${AUTH_API_SCOPE:-}" ]; then
  echo "AUTH_CLIENT_ID is set but AUTH_API_SCOPE is not: the web client needs the scope it asks a token for:" >&2
  echo "  azd env set AUTH_API_SCOPE 'api://<the API's application id URI>/user_impersonation'" >&2
  exit 1
fi
if [ -z "${AUTH_CLIENT_ID:-}" ] && [ -n "${AUTH_API_SCOPE:-}" ]; then
  echo "AUTH_API_SCOPE is set but AUTH_CLIENT_ID is not: register the web client (a single-page app), then:" >&2
  echo "  azd env set AUTH_CLIENT_ID '<its client id>'" >&2
  exit 1
fi
if [ -z "${AUTH_CLIENT_ID:-}" ]; then
  echo "note: AUTH_CLIENT_ID and AUTH_API_SCOPE are not set; the web client will not be able to sign in" >&2
fi

echo "AUTH_MODE=$auth_mode, AUTH_AUDIENCE set"
