# ci/common.sh - shared by the ci/ scripts: paths for a build of the module
# and the busted command for a given Lua.
# usage: . ci/common.sh; use_build DIR LUA_BINARY

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Points LUA_PATH/LUA_CPATH at build DIR and sets BUSTED for interpreter $2.
use_build() {
  export LUA_CPATH="$1/lib/?.so;;"
  export LUA_PATH="$1/share/?.lua;$1/share/?/init.lua;;"
  export SSLUA_LUA="$2"
  BUSTED="$2 /usr/bin/busted"
}

# Prints "label: N passed, N failed" from a run-specs log (its last line).
summary_of() {
  tail -n 1 "$1" | grep -E '^[0-9]+ passed, [0-9]+ failed' || echo "0 passed, 1 failed (no summary: see $1)"
}

# copy_tree DIR: the repository's files (tracked, and new ones not ignored)
# copied into DIR, for a build that must not see build/ or touch the tree.
copy_tree() {
  mkdir -p "$1" &&
    git ls-files -z --cached --others --exclude-standard |
    xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
    tar --null -T - -cf - | tar -xf - -C "$1"
}

# check NAME COMMAND...: one counted check (passed, failed). Its output goes
# to the file $log, and is shown when it fails; $tmp is a scratch directory.
passed=0 failed=0
check() {
  name=$1; shift
  echo "== $name" >>"$log"
  if "$@" >"$tmp/out" 2>&1; then
    passed=$((passed + 1)); echo "ok   $name"
  else
    failed=$((failed + 1)); echo "FAIL $name"; tail -n 20 "$tmp/out" | sed 's/^/     | /'
  fi
  cat "$tmp/out" >>"$log"
}
