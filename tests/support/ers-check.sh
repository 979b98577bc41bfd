#!/usr/bin/env bash
# ers-check.sh: hozon's BouncyCastle peer for RFC 4998 evidence records (see ers/ErsCheck.java).
# Compiles ErsCheck.java into $ERS_CHECK_BUILD (default: target/ers-check under the repo) when
# the class is missing or older than the source. BC_JARS overrides the BouncyCastle class path.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC="$HERE/ers/ErsCheck.java"
BUILD=${ERS_CHECK_BUILD:-$HERE/../../target/ers-check}
BC=${BC_JARS:-/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar}
if [ ! -f "$BUILD/ErsCheck.class" ] || [ "$SRC" -nt "$BUILD/ErsCheck.class" ]; then
  mkdir -p "$BUILD"
  tmp=$(mktemp -d "$BUILD/.javac.XXXXXX")
  if ! javac -nowarn -encoding UTF-8 -cp "$BC" -d "$tmp" "$SRC" >"$tmp/log" 2>&1; then
    cat "$tmp/log" >&2; rm -rf "$tmp"; echo "ers-check: compilation failed" >&2; exit 2
  fi
  mv -f "$tmp"/*.class "$BUILD"/ && rm -rf "$tmp"
fi
exec java -cp "$BUILD:$BC" ErsCheck "$@"
