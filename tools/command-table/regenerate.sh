#!/usr/bin/env bash
# Regenerates analysis/src/redis_calls/command_table.rs from every server that can be run here:
# Redis 7.0 (redis-server on PATH, from Debian), Redis 8.2, Valkey 8.1, 9.0 and 9.1 (pinned
# PyPI packages, see tools/servers/install.sh). Versions in between are covered by each
# server's COMMAND DOCS (`since`, `history`).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${SERVERS_DIR:-target/servers}
mapfile -t servers < <(tools/servers/install.sh "$dir" redis-8.2 valkey-8.1 valkey-9.0 valkey-9.1)
cargo run -p redis-script-command-table -- "$(command -v redis-server)" "${servers[@]}"
