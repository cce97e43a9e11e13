#!/usr/bin/env bash
# Runs a command with Node >= 22.18 and the project's dependencies installed (npm run dev / npm test
# work on a fresh clone with only an older Node and npm on the machine).
set -euo pipefail
source "$(dirname "$0")/toolchain.sh"
ensure_node
ensure_dependencies
ensure_temporal_cli
if [ -n "${RLS_NEEDS_CHROMIUM:-}" ]; then ensure_chromium; fi
export PATH="$RLS_ROOT/node_modules/.bin:$PATH"
exec "$@"
