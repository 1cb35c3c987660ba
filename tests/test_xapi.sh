#!/bin/sh
# test_xapi: mesosim export --format xapi writes statements that Learning Locker's
# xapi-validation (npm, pinned in tests/xapi/package-lock.json) accepts, one by one; the CSV
# export of the same sessions has the documented header. Skipped (77) only when node is missing.
# Usage: test_xapi.sh MESOSIM SOURCE_DIR BINARY_DIR
set -eu
exe=$1
src=$2
bin=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "SKIP: node and npm are missing (apt-get install nodejs npm): the xAPI statements are not validated"
    exit 77
fi
tmp=$(mktemp -d)
lrs_pid=
trap '[ -n "$lrs_pid" ] && kill "$lrs_pid" 2>/dev/null; rm -rf "$tmp"' EXIT

# The validator, installed once into the build tree from the lock file.
check=$bin/xapi-check
if [ ! -f "$check/node_modules/xapi-validation/package.json" ] ||
   ! cmp -s "$src/tests/xapi/package-lock.json" "$check/package-lock.json"; then
    mkdir -p "$check"
    cp "$src/tests/xapi/package.json" "$src/tests/xapi/package-lock.json" "$check/"
    (cd "$check" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
        fail "npm ci in $check could not install xapi-validation (the npm registry or its cache is needed once)"
fi
cp "$src/tests/xapi/validate.js" "$check/"

db=$tmp/records.db
for s in adult_back.novice adult_back.expert tutorial.novice; do
    sc=${s%.*}
    "$exe" run --scenario "$src/scenarios/$sc.json" --actions "$src/scenarios/sessions/$s.log" \
        --report "$tmp/$s.json" --trainee "Dr Ada, \"A\"" --db "$db" >/dev/null
done
"$exe" export --format xapi --db "$db" --trainee "Dr Ada, \"A\"" --out "$tmp/st.json"
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/st.json")
[ "$n" = 6 ] || fail "3 finished sessions should give 6 statements, not $n"
node "$check/validate.js" "$tmp/st.json" || fail "xapi-validation rejected a statement"
# Same sessions, same statement ids.
"$exe" export --format xapi --db "$db" --out "$tmp/st2.json"
cmp -s "$tmp/st.json" "$tmp/st2.json" || fail "exporting twice changed the statements"
# Report files too.
"$exe" export --format xapi --from "$tmp/adult_back.expert.json" --trainee Bob --out "$tmp/f.json"
node "$check/validate.js" "$tmp/f.json" || fail "xapi-validation rejected a statement from --from"
# CSV: header, 3 session rows, one injection row per injection.
"$exe" export --format csv --db "$db" --out "$tmp/s.csv"
head -1 "$tmp/s.csv" | grep -q '^kind,session_id,trainee,scenario,scenario_hash,started_utc,finished,' || fail "csv header"
[ "$(grep -c '^session,' "$tmp/s.csv")" = 3 ] || fail "csv: not 3 session rows"
grep -q '^injection,.*,"Dr Ada, ""A""",' "$tmp/s.csv" || fail "csv: the trainee is not RFC 4180 quoted"
# --lrs: POSTed to a local stand-in LRS (python3 http.server) that keeps what it got; the
# password goes in the Authorization header and never to stdout or stderr.
cat > "$tmp/lrs.py" <<'PY'
import base64, http.server, json, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        auth = base64.b64decode(self.headers.get('Authorization', 'Basic ')[6:]).decode()
        ok = self.path == '/xapi/statements' and self.headers.get('X-Experience-API-Version') == '1.0.3'
        with open(sys.argv[2], 'w') as f:
            json.dump({'path': self.path, 'auth': auth, 'n': len(json.loads(body))}, f)
        self.send_response(200 if ok and auth == 'lab:s3cret-pw' else 401)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
with open(sys.argv[1] + '.tmp', 'w') as f:
    f.write(str(s.server_address[1]))
os.rename(sys.argv[1] + '.tmp', sys.argv[1])
s.handle_request()
s.handle_request()
PY
python3 "$tmp/lrs.py" "$tmp/port" "$tmp/got.json" &
lrs_pid=$!
for i in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.2; done
port=$(cat "$tmp/port")
MESOSIM_LRS_USER=lab MESOSIM_LRS_PASSWORD=s3cret-pw "$exe" export --format xapi --db "$db" \
    --out "$tmp/sent.json" --lrs "http://127.0.0.1:$port/xapi/" >"$tmp/out" 2>&1 || fail "--lrs: $(cat "$tmp/out")"
grep -q '"n": 6' "$tmp/got.json" || fail "the LRS got $(cat "$tmp/got.json")"
if MESOSIM_LRS_USER=lab MESOSIM_LRS_PASSWORD=wrong-pw "$exe" export --format xapi --db "$db" \
    --out "$tmp/sent.json" --lrs "http://127.0.0.1:$port/xapi" >"$tmp/out" 2>&1; then fail "a refused post exited 0"; fi
grep -q "refused the statements (HTTP 401)" "$tmp/out" || fail "refused post: $(cat "$tmp/out")"
if grep -q "pw" "$tmp/out"; then fail "a password was printed"; fi
wait "$lrs_pid"
lrs_pid=
# Bad input.
if "$exe" export --format yaml --db "$db" 2>"$tmp/err"; then fail "--format yaml accepted"; fi
grep -q "csv or xapi" "$tmp/err" || fail "bad format: $(cat "$tmp/err")"
echo "test_xapi: ok"
