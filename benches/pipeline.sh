#!/usr/bin/env bash
# hozon's pipeline benchmark, side by side with the tools users would otherwise run.
#
# usage: benches/pipeline.sh [-n N] [--quick] [--big M] [--rows R] [--install-peers] [--work DIR] [--keep]
#
#   -n N             pages to generate (A4, 300 dpi, colour JPEG q85, a few hundred KB each; default 200)
#   --quick          small peer samples, no large-batch memory run (a smoke run: -n 40 --quick)
#   --big M          pages of the large-batch memory run (default 5000; 0 = skip)
#   --rows R         catalog rows of the "renew with nothing due" run (default 100000)
#   --install-peers  `cargo install pdf_signer --features cli` when missing (takes minutes)
#   --work DIR       working folder (default: a new folder under /tmp); --keep keeps it
#
# One run measures: hozon check, ingest (built-in TSA at --jobs 1/2/default; the demo signer's key
# on a SoftHSM2 token (PKCS#11) vs the same key as a file; HTTP TSA: `hozon tsa
# serve` and the project's OpenSSL TSA, tests/support/tsa_server.py), verify and renew when those
# subcommands exist, a no-op renew over a large catalog and a large ingest for peak RSS; and the
# peers on the same pages: img2pdf + pyHanko (CLI and one-process library loop), img2pdf +
# pdf_signer, pdfsig / pdf_signer / pyHanko as verifiers, pyHanko ltaupdate as renewal,
# `openssl dgst -sha256` as the hashing floor and the bare capacity of each TSA. Wall time from
# the clock around each command, peak RSS from /usr/bin/time. Missing peers are reported as such.
# All traffic stays on 127.0.0.1. Results: the markdown table on stdout (benches/report.py), raw
# numbers in WORK/results.txt.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
N=200 QUICK=0 BIG=5000 ROWS=100000 INSTALL=0 WORK="" KEEP=0 BIG_SET=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift ;;
    --quick) QUICK=1 ;;
    --big) BIG=$2; BIG_SET=1; shift ;;
    --rows) ROWS=$2; shift ;;
    --install-peers) INSTALL=1 ;;
    --work) WORK=$2; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "pipeline.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ "$QUICK" = 1 ] && [ "$BIG_SET" = 0 ] && BIG=0
# Slow peers run on a sample (their per-file rate does not depend on the batch size).
if [ "$QUICK" = 1 ]; then SAMPLE_CLI=5; SAMPLE_LIB=10; else SAMPLE_CLI=20; SAMPLE_LIB=40; fi
[ "$SAMPLE_CLI" -gt "$N" ] && SAMPLE_CLI=$N
[ "$SAMPLE_LIB" -gt "$N" ] && SAMPLE_LIB=$N

if [ -z "$WORK" ]; then WORK=$(mktemp -d /tmp/hozon-bench.XXXXXX); fi
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
RES="$WORK/results.txt"
: > "$RES"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; else echo "work folder kept: $WORK" >&2; fi
}
trap cleanup EXIT
say() { echo "== $*" >&2; }
put() { echo "$1 $2" >> "$RES"; }        # key value
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- prerequisites
if [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq time >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq time; }; fi
  [ -x /usr/bin/time ] || { echo "pipeline.sh: /usr/bin/time (GNU time) is needed" >&2; exit 2; }
fi
for t in python3 openssl; do have $t || { echo "pipeline.sh: $t is needed" >&2; exit 2; }; done
python3 -c "import PIL" 2>/dev/null || { echo "pipeline.sh: Python Pillow is needed (pip install pillow)" >&2; exit 2; }

# timed KEY CMD...: wall seconds (clock around the command), peak RSS (KB, largest process of
# the command's tree), CPU seconds (user + system, the whole tree) and exit code, recorded as
# KEY.secs / KEY.rss_kb / KEY.cpu_secs / KEY.rc. CPU time shows how much a loaded machine skewed
# the wall time.
timed() {
  local key=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M %U %S" -o "$WORK/$key.rss" "$@" > "$WORK/$key.out" 2> "$WORK/$key.err"
  local rc=$?
  t1=$(date +%s.%N)
  put "$key.secs" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}')"
  put "$key.rss_kb" "$(tail -1 "$WORK/$key.rss" 2>/dev/null | awk '{print $1+0}')"
  put "$key.cpu_secs" "$(tail -1 "$WORK/$key.rss" 2>/dev/null | awk '{printf "%.2f", $2+$3}')"
  put "$key.rc" "$rc"
  [ "$rc" = 0 ] || echo "   ($key exited $rc: $(tail -c 300 "$WORK/$key.err" | tr '\n' ' '))" >&2
  return $rc
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # wait_port PORT: until something accepts on 127.0.0.1:PORT (10 s at most)
  python3 - "$1" <<'PY'
import socket, sys, time
end = time.time() + 10
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.5).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# ---------------------------------------------------------------- build and machine
say "building hozon (release)"
(cd "$ROOT" && cargo build --release --quiet) || { echo "pipeline.sh: cargo build --release failed" >&2; exit 2; }
HOZON="$ROOT/target/release/hozon"
put machine.cpus "$(nproc)"
put machine.model "$(lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/,"",$2); gsub(/ /,"_",$2); print $2; exit}')"
put hozon.version "$("$HOZON" --version | tr ' ' '_')"
put run.n "$N"
put run.quick "$QUICK"
put machine.load "$(awk '{print $1}' /proc/loadavg)"

# ---------------------------------------------------------------- pages
say "generating $N pages"
python3 "$HERE/make_pages.py" "$WORK/pages" "$N" > "$WORK/pages.bytes" || exit 2
PAGE_BYTES=$(cat "$WORK/pages.bytes")
put pages.n "$N"
put pages.bytes "$PAGE_BYTES"
PAGES=("$WORK"/pages/*.jpg)

# ---------------------------------------------------------------- configs, demo PKI, TSAs
HPORT=$(free_port)
mkconfig() {  # mkconfig OUT TSA_URL
  python3 - "$ROOT/config/hozon.toml" "$1" "$2" "$WORK" "$HPORT" <<'PY'
import re, sys
src, out, tsa, work, port = sys.argv[1:]
t = open(src, encoding="utf-8").read()
subs = [(r'(?m)^archive = .*$', 'archive = "%s/archive-default"' % work),
        (r'(?m)^dir = "\.\./\.hozon/demo"$', 'dir = "%s/demo"' % work),
        (r'(?m)^base_url = .*$', 'base_url = "http://127.0.0.1:%s"' % port),
        (r'(?m)^url = "builtin:demo"$', 'url = "%s"' % tsa),
        (r'(?m)^pkcs12 = "\.\./\.hozon/demo/signer\.p12"$', 'pkcs12 = "%s/demo/signer.p12"' % work),
        (r'(?m)^password_file = "\.\./\.hozon/demo/signer\.pass"$', 'password_file = "%s/demo/signer.pass"' % work)]
for pat, rep in subs:
    t, n = re.subn(pat, rep, t)
    if n != 1:
        sys.exit("config/hozon.toml changed shape: %s" % pat)
open(out, "w", encoding="utf-8").write(t)
PY
}
mkconfig "$WORK/builtin.toml" "builtin:demo" || exit 2
mkconfig "$WORK/http-hozon.toml" "http://127.0.0.1:$HPORT/tsa" || exit 2

say "hozon tsa serve on 127.0.0.1:$HPORT (creates the demo PKI)"
"$HOZON" --config "$WORK/builtin.toml" tsa serve --listen "127.0.0.1:$HPORT" > "$WORK/tsa-serve.log" 2>&1 &
PIDS+=($!)
wait_port "$HPORT" || { echo "pipeline.sh: hozon tsa serve did not start: $(tail -5 "$WORK/tsa-serve.log")" >&2; exit 2; }
DEMO="$WORK/demo"
ROOT_PEM="$DEMO/root.pem"

# The OpenSSL TSA (one `openssl ts -reply` per request), with the demo TSA's key: the kind of
# TSA the issue's reference numbers were taken with.
OPORT=""
if [ -f "$ROOT/tests/support/tsa_server.py" ]; then
  mkdir -p "$WORK/openssl-tsa"
  cp "$DEMO/tsa.pem" "$DEMO/tsa.key" "$WORK/openssl-tsa/"
  cp "$ROOT_PEM" "$WORK/openssl-tsa/inter.pem"
  mkfifo "$WORK/openssl-tsa.stdin"
  python3 "$ROOT/tests/support/tsa_server.py" --pki "$WORK/openssl-tsa" --port 0 --lifetime 14400 \
    < "$WORK/openssl-tsa.stdin" > "$WORK/openssl-tsa.port" 2> "$WORK/openssl-tsa.log" &
  PIDS+=($!)
  exec 9> "$WORK/openssl-tsa.stdin"   # held open: the server lives until this script ends
  for _ in $(seq 50); do grep -q PORT "$WORK/openssl-tsa.port" 2>/dev/null && break; sleep 0.1; done
  OPORT=$(awk '/PORT/{print $2}' "$WORK/openssl-tsa.port")
fi
if [ -n "$OPORT" ]; then
  mkconfig "$WORK/http-openssl.toml" "http://127.0.0.1:$OPORT/tsa" || exit 2
  PEER_TSA="http://127.0.0.1:$OPORT/tsa"; PEER_TSA_NAME=openssl
else
  PEER_TSA="http://127.0.0.1:$HPORT/tsa"; PEER_TSA_NAME=hozon
fi
put peer_tsa "$PEER_TSA_NAME"
REF_CFG="$WORK/http-$PEER_TSA_NAME.toml"

# ---------------------------------------------------------------- TSA bare capacity
say "TSA bare capacity"
mkdir -p "$WORK/queries"
for i in $(seq 32); do
  openssl ts -query -digest "$(openssl rand -hex 32)" -sha256 -cert -out "$WORK/queries/q$i.tsq" 2>/dev/null
done
CONC=$(awk -F= '/^concurrency *=/{gsub(/ /,"",$2); print $2; exit}' "$WORK/builtin.toml"); CONC=${CONC:-4}
put tsa.concurrency "$CONC"
for t in hozon openssl; do
  port=$HPORT; [ $t = openssl ] && port=$OPORT
  [ -n "$port" ] || continue
  python3 "$HERE/tsa_load.py" "http://127.0.0.1:$port/tsa" --queries "$WORK/queries" \
    --concurrency "$CONC" --seconds 3 > "$WORK/tsa-$t.json" \
    && put "tsa_$t.per_sec" "$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["per_sec"],2))' "$WORK/tsa-$t.json")"
done

# ---------------------------------------------------------------- hashing floor
# The page list repeated up to >= 200 MB, so that process start-up does not dominate.
REPS=$(( (200000000 + PAGE_BYTES - 1) / PAGE_BYTES ))
DGST_ARGS=(); for _ in $(seq "$REPS"); do DGST_ARGS+=("${PAGES[@]}"); done
put dgst.reps "$REPS"
say "openssl dgst -sha256 over the pages ×$REPS (best of 3)"
for k in 1 2 3; do timed "dgst$k" openssl dgst -sha256 "${DGST_ARGS[@]}"; done
put dgst.secs "$(for k in 1 2 3; do awk -v k="dgst$k.secs" '$1==k{print $2}' "$RES"; done | sort -g | head -1)"
put dgst.rss_kb "$(awk '$1=="dgst1.rss_kb"{print $2}' "$RES")"

# ---------------------------------------------------------------- hozon
summary_field() {  # summary_field JSON FIELD
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"][sys.argv[2]])' "$1" "$2" 2>/dev/null || echo 0
}

say "hozon check"
timed check "$HOZON" --config "$WORK/builtin.toml" check "$WORK/pages"

ingest() {  # ingest KEY CONFIG ARCHIVE INPUT [ARGS...]
  local key=$1 cfg=$2 arch=$3 input=$4; shift 4
  say "hozon ingest ($key)"
  timed "$key" "$HOZON" --config "$cfg" ingest "$input" --out "$arch" --json "$WORK/$key.json" "$@"
  put "$key.archived" "$(summary_field "$WORK/$key.json" archived)"
  put "$key.pages" "$(summary_field "$WORK/$key.json" pages)"
  put "$key.bytes" "$(summary_field "$WORK/$key.json" source_bytes)"
}
ingest ingest_builtin "$WORK/builtin.toml" "$WORK/archive" "$WORK/pages"
ingest ingest_j1 "$WORK/builtin.toml" "$WORK/archive-j1" "$WORK/pages" --jobs 1
ingest ingest_j2 "$WORK/builtin.toml" "$WORK/archive-j2" "$WORK/pages" --jobs 2
ingest ingest_http_hozon "$WORK/http-hozon.toml" "$WORK/archive-http-hozon" "$WORK/pages"
[ -n "$OPORT" ] && ingest ingest_http_openssl "$WORK/http-openssl.toml" "$WORK/archive-http-openssl" "$WORK/pages"

# The same key on a PKCS#11 token: SoftHSM2 holding the demo signer's own key and certificate,
# against that key as a file (ingest_builtin above): same pages, same TSA, same run.
SOFTHSM_MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so; do
  [ -f "$m" ] && { SOFTHSM_MODULE=$m; break; }
done
if [ -n "$SOFTHSM_MODULE" ] && have softhsm2-util && have pkcs11-tool; then
  say "hozon ingest through a SoftHSM2 token (the demo signer's key)"
  HSM="$WORK/softhsm"
  mkdir -p "$HSM/tokens"
  printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$HSM/tokens" > "$HSM/softhsm2.conf"
  export SOFTHSM2_CONF="$HSM/softhsm2.conf"
  HSM_PIN=$(openssl rand -hex 8)
  ( umask 077; printf '%s\n' "$HSM_PIN" > "$HSM/pin" )
  p11() { pkcs11-tool --module "$SOFTHSM_MODULE" --token-label hozon-bench --login --pin "$HSM_PIN" "$@" >/dev/null 2>&1; }
  if softhsm2-util --init-token --free --label hozon-bench --pin "$HSM_PIN" --so-pin "$(openssl rand -hex 8)" >/dev/null \
     && ( umask 077; openssl pkcs12 -in "$DEMO/signer.p12" -passin "file:$DEMO/signer.pass" -nocerts -nodes 2>/dev/null \
          | openssl pkey -outform DER -out "$HSM/key.der" ) \
     && openssl x509 -in "$DEMO/signer.pem" -outform DER -out "$HSM/cert.der" \
     && p11 --write-object "$HSM/key.der" --type privkey --label signer --id 01 \
     && p11 --write-object "$HSM/cert.der" --type cert --label signer --id 01; then
    rm -f "$HSM/key.der"
    python3 - "$WORK/builtin.toml" "$WORK/softhsm.toml" "$SOFTHSM_MODULE" "$HSM/pin" <<'PY'
import re, sys
src, out, module, pin = sys.argv[1:]
t = open(src, encoding="utf-8").read()
t, n = re.subn(r'(?m)^default_signer = .*$', 'default_signer = "hsm"', t)
if n != 1:
    sys.exit("config/hozon.toml changed shape: default_signer")
t += '\n[signers.hsm]\nname = "デモ 作業責任者 (NOT LEGALLY VALID)"\npkcs11 = { module = "%s", token = "hozon-bench", key_id = "01", pin_file = "%s" }\n' % (module, pin)
open(out, "w", encoding="utf-8").write(t)
PY
    ingest ingest_softhsm "$WORK/softhsm.toml" "$WORK/archive-softhsm" "$WORK/pages"
  else
    rm -f "$HSM/key.der"
    echo "   (could not put the demo signer's key on the SoftHSM2 token)" >&2
    put ingest_softhsm.rc 2
  fi
  rm -rf "$WORK/archive-softhsm"
else
  put ingest_softhsm.na 1
fi
rm -rf "$WORK/archive-j1" "$WORK/archive-j2" "$WORK/archive-http-hozon"

mapfile -t ARCHIVED < <(find "$WORK/archive" -name '*.pdf' -type f | sort)
put archive.files "${#ARCHIVED[@]}"
SAMPLE_FILES=("${ARCHIVED[@]:0:$SAMPLE_LIB}")
CLI_FILES=("${ARCHIVED[@]:0:$SAMPLE_CLI}")

if "$HOZON" verify --help >/dev/null 2>&1; then
  say "hozon verify"
  timed verify "$HOZON" --config "$WORK/builtin.toml" verify "$WORK/archive"
  put verify.files "${#ARCHIVED[@]}"
else
  put verify.na 1
fi

if "$HOZON" renew --help >/dev/null 2>&1; then
  say "hozon renew (every file due, TSA: $PEER_TSA_NAME)"
  cp -a "$WORK/archive" "$WORK/archive-renew"
  timed renew "$HOZON" --config "$REF_CFG" renew "$WORK/archive-renew" --within 100000 --json "$WORK/renew.json"
  put renew.renewed "$(summary_field "$WORK/renew.json" renewed)"
  rm -rf "$WORK/archive-renew"
  say "hozon renew with nothing due on a $ROWS-row catalog"
  cp -a "$WORK/archive" "$WORK/archive-rows"
  CAT=$(find "$WORK/archive-rows" -maxdepth 2 -name 'catalog.sqlite' | head -1)
  if [ -n "$CAT" ] && python3 "$HERE/grow_catalog.py" "$CAT" "$ROWS" > "$WORK/rows.count"; then
    put renew_noop.rows "$(cat "$WORK/rows.count")"
    timed renew_noop "$HOZON" --config "$REF_CFG" renew "$WORK/archive-rows" --json "$WORK/renew-noop.json"
    put renew_noop.due "$(summary_field "$WORK/renew-noop.json" due)"
  fi
  rm -rf "$WORK/archive-rows"
else
  put renew.na 1
fi

if [ "$BIG" -gt 0 ]; then
  say "large batch: $BIG pages (peak RSS)"
  python3 "$HERE/clone_pages.py" "$WORK/pages" "$WORK/big" "$BIG"
  ingest ingest_big "$WORK/builtin.toml" "$WORK/archive-big" "$WORK/big"
  rm -rf "$WORK/big" "$WORK/archive-big"
  # A fifth of the batch: "does memory grow with the batch?" compares two runs long enough to
  # reach their working set (a 200-page run ends within a second, before the catalog's page
  # cache and the workers' buffers are filled).
  MID=$(( BIG / 5 ))
  if [ "$MID" -ge 200 ]; then
    python3 "$HERE/clone_pages.py" "$WORK/pages" "$WORK/mid" "$MID"
    ingest ingest_mid "$WORK/builtin.toml" "$WORK/archive-mid" "$WORK/mid"
    rm -rf "$WORK/mid" "$WORK/archive-mid"
  fi
fi

# ---------------------------------------------------------------- peers
say "peers"
if have img2pdf; then
  mkdir -p "$WORK/img2pdf"
  timed img2pdf bash -c 'for f in "$@"; do img2pdf "$f" -o "'"$WORK"'/img2pdf/$(basename "$f" .jpg).pdf" || exit 1; done' _ "${PAGES[@]:0:$SAMPLE_CLI}"
  put img2pdf.files "$SAMPLE_CLI"
  # inputs for pdf_signer: every page (in one process: not timed, the CLI rate above counts)
  python3 -c '
import img2pdf, os, sys
out = sys.argv[1]
for p in sys.argv[2:]:
    open(os.path.join(out, os.path.basename(p)[:-4] + ".pdf"), "wb").write(img2pdf.convert(open(p, "rb").read()))
' "$WORK/img2pdf" "${PAGES[@]}"
else
  put img2pdf.na 1
fi

PY_HANKO=0
python3 -c "import pyhanko, img2pdf, pyhanko_certvalidator" 2>/dev/null && PY_HANKO=1
if [ "$PY_HANKO" = 1 ] && [ -d "$WORK/img2pdf" ]; then
  say "pyHanko library loop: sign $SAMPLE_LIB"
  timed pyhanko_lib python3 "$HERE/peer_pyhanko_loop.py" sign --p12 "$DEMO/signer.p12" \
    --pass-file "$DEMO/signer.pass" --tsa "$PEER_TSA" --out "$WORK/pyhanko-lib" "${PAGES[@]:0:$SAMPLE_LIB}"
  put pyhanko_lib.files "$SAMPLE_LIB"
  put pyhanko_lib.loop_secs "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["secs"])' "$WORK/pyhanko_lib.out" 2>/dev/null || echo 0)"
  say "pyHanko library loop: validate $SAMPLE_LIB"
  timed pyhanko_val python3 "$HERE/peer_pyhanko_loop.py" validate --root "$ROOT_PEM" "${SAMPLE_FILES[@]}"
  put pyhanko_val.files "${#SAMPLE_FILES[@]}"
  put pyhanko_val.loop_secs "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read())["secs"])' "$WORK/pyhanko_val.out" 2>/dev/null || echo 0)"
else
  put pyhanko_lib.na 1; put pyhanko_val.na 1
fi
if have pyhanko && [ -d "$WORK/img2pdf" ]; then
  say "pyHanko CLI: sign $SAMPLE_CLI, ltaupdate $SAMPLE_CLI"
  mkdir -p "$WORK/pyhanko-cli"
  timed pyhanko_cli bash -c 'out=$1; tsa=$2; p12=$3; pass=$4; shift 4
    for f in "$@"; do pyhanko sign addsig --field Signature1 --use-pades --timestamp-url "$tsa" \
      pkcs12 --passfile "$pass" "$f" "$out/$(basename "$f")" "$p12" >/dev/null || exit 1; done' _ \
    "$WORK/pyhanko-cli" "$PEER_TSA" "$DEMO/signer.p12" "$DEMO/signer.pass" \
    $(for f in "${PAGES[@]:0:$SAMPLE_CLI}"; do echo "$WORK/img2pdf/$(basename "$f" .jpg).pdf"; done)
  put pyhanko_cli.files "$SAMPLE_CLI"
  mkdir -p "$WORK/lta"
  cp "${CLI_FILES[@]}" "$WORK/lta/"
  timed pyhanko_lta bash -c 'tsa=$1; root=$2; shift 2
    for f in "$@"; do pyhanko sign ltaupdate --timestamp-url "$tsa" --trust "$root" --trust-replace "$f" >/dev/null || exit 1; done' _ \
    "$PEER_TSA" "$ROOT_PEM" "$WORK"/lta/*.pdf
  put pyhanko_lta.files "$SAMPLE_CLI"
else
  put pyhanko_cli.na 1; put pyhanko_lta.na 1
fi

if ! have pdf_signer && [ "$INSTALL" = 1 ]; then
  say "installing pdf_signer (cargo install pdf_signer --features cli)"
  cargo install pdf_signer --features cli --quiet >&2 || true
fi
if have pdf_signer && [ -d "$WORK/img2pdf" ]; then
  say "pdf_signer: sign $N, verify ${#ARCHIVED[@]}"
  mkdir -p "$WORK/pdf-signer"
  timed pdf_signer bash -c 'out=$1; tsa=$2; p12=$3; pass=$4; shift 4
    for f in "$@"; do pdf_signer sign "$f" "$out/$(basename "$f")" "$p12" --password-file "$pass" \
      --level bt --tsa-url "$tsa" >/dev/null || exit 1; done' _ \
    "$WORK/pdf-signer" "$PEER_TSA" "$DEMO/signer.p12" "$DEMO/signer.pass" "$WORK"/img2pdf/*.pdf
  put pdf_signer.files "$N"
  timed pdf_signer_verify bash -c 'root=$1; shift
    for f in "$@"; do pdf_signer verify "$f" --roots "$root" >/dev/null || exit 1; done' _ "$ROOT_PEM" "${ARCHIVED[@]}"
  put pdf_signer_verify.files "${#ARCHIVED[@]}"
else
  put pdf_signer.na 1; put pdf_signer_verify.na 1
fi

if have pdfsig; then
  say "pdfsig: verify ${#ARCHIVED[@]} (without, then with certificate checks)"
  timed pdfsig_nocert bash -c 'for f in "$@"; do pdfsig -nocert "$f" >/dev/null || exit 1; done' _ "${ARCHIVED[@]}"
  put pdfsig_nocert.files "${#ARCHIVED[@]}"
  if have certutil; then
    mkdir -p "$WORK/nss"
    certutil -N -d "sql:$WORK/nss" --empty-password >/dev/null 2>&1
    certutil -A -d "sql:$WORK/nss" -n hozon-demo-root -t "CT,C,C" -i "$ROOT_PEM" >/dev/null 2>&1
    timed pdfsig_cert bash -c 'nss=$1; shift; for f in "$@"; do pdfsig -nssdir "sql:$nss" "$f" >/dev/null || exit 1; done' _ "$WORK/nss" "${ARCHIVED[@]}"
    put pdfsig_cert.files "${#ARCHIVED[@]}"
  fi
else
  put pdfsig_nocert.na 1
fi

put machine.load_end "$(awk '{print $1}' /proc/loadavg)"
python3 "$HERE/report.py" "$RES"
