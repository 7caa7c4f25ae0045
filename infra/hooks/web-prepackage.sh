#!/usr/bin/env bash
# azd prepackage hook of the `web` service (azure.yaml), run in web/ before azd builds it: writes the
# deployed API's address where Vite reads it at build time (VITE_API_BASE_URL), from main.bicep's
# API_BASE_URL output. `.env.production.local` is read by `vite build` only (never by `npm run dev`, which
# keeps talking to devhost) and is git-ignored (`*.local`). Running it again rewrites the same line.
set -euo pipefail

if [ -z "${API_BASE_URL:-}" ]; then
  echo "API_BASE_URL is not set: run 'azd provision' first (it is an output of infra/main.bicep)" >&2
  exit 1
fi
case "$API_BASE_URL" in
  https://*/api) ;;
  *)
    echo "API_BASE_URL should be https://<function app>/api, not '$API_BASE_URL'" >&2
    exit 1
    ;;
esac

printf 'VITE_API_BASE_URL=%s\n' "$API_BASE_URL" > .env.production.local
echo "web build: VITE_API_BASE_URL=$API_BASE_URL"
