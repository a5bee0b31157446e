#!/bin/sh
# demo.sh LUA LIBDIR SHAREDIR CERTDIR - the example server and client
# exchange one line over TLS 1.2 in two processes.
set -eu
lua=$1 libdir=$2 sharedir=$3 certs=$4
here=$(dirname "$0")
export LUA_CPATH="$libdir/?.so;;" LUA_PATH="$sharedir/?.lua;$sharedir/?/init.lua;;"
tmp=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

"$lua" "$here/server.lua" "$certs" "$tmp/port" &
server_pid=$!
i=0
while [ ! -s "$tmp/port" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "demo: server did not start" >&2; exit 1; }
  sleep 0.05
done
line=$("$lua" "$here/client.lua" "$certs" "$(cat "$tmp/port")")
wait "$server_pid"; server_pid=
echo "client received: $line"
[ "$line" = "one line" ]
