# tests/integration/reliability_lib.sh -- shared by the hardening tests
# (test_concurrency.sh, test_crash.sh, test_faults.sh, test_tampering.sh).
# Source it after tests/lib.sh.  Not a test itself (ctest runs test_*.sh).
#
#   run STDIN [ARGS...]     run_helper, keeping stdout and stderr for the
#                           final secrets check (case_no_secret_anywhere)
#   now_ms                  milliseconds since the epoch
#   elapsed_since T0        milliseconds since T0 (from now_ms)
#   assert_between LO HI V MSG
#   assert_failure MSG      RC 1, nothing on stdout, one line on stderr
#                           containing MSG, no known secret in it
#   store_digest DIR        one line per token file: name, mode, md5
#   token_files_whole DIR   every token file is a whole token, mode 600
#   case_no_secret_anywhere every stderr this script collected, checked
#                           for every secret it used (see below)

KEPT=$TEST_TMP/kept
mkdir -p "$KEPT"

now_ms() { date +%s%3N; }
elapsed_since() { echo $(($(now_ms) - $1)); }

run() {
  run_helper "$@"
  cp "$OUT_FILE" "$(mktemp "$KEPT/out.XXXXXX")"
  cp "$ERR_FILE" "$(mktemp "$KEPT/err.XXXXXX")"
}

# keep_output OUT_FILE ERR_FILE: keep the streams of a run made another way.
keep_output() {
  [ ! -f "$1" ] || cp "$1" "$(mktemp "$KEPT/out.XXXXXX")"
  [ ! -f "$2" ] || cp "$2" "$(mktemp "$KEPT/err.XXXXXX")"
}

# keep_bg: keep the streams of every background run (run_helper_bg).
keep_bg() {
  local f
  for f in "$TEST_TMP"/bg/*.out; do
    [ -f "$f" ] && keep_output "$f" "${f%.out}.err"
  done
  rm -rf "$TEST_TMP/bg"
}

assert_between() {
  local lo=$1 hi=$2 value=$3
  [ "$value" -ge "$lo" ] && [ "$value" -le "$hi" ] && return 0
  _t_assert_failed "${4:-value out of range}" "expected: $lo..$hi" "actual:   $value"
}

# The secrets every script knows: the stand-in's client secrets.
_known_secrets() {
  printf '%s\n' "$STANDIN_SECRET_1" "$STANDIN_SECRET_2"
  [ ! -f "$TEST_TMP/extra_secrets" ] || cat "$TEST_TMP/extra_secrets"
}

# note_secret VALUE: a secret the script made up (another client's secret).
note_secret() { printf '%s\n' "$1" >>"$TEST_TMP/extra_secrets"; }

assert_no_known_secret() {
  local s
  while IFS= read -r s; do
    [ -n "$s" ] || continue
    [[ $1 != *"$s"* ]] || { _t_assert_failed "a secret appears in the output" \
      "secret starting with: ${s:0:8}"; return 1; }
  done < <(_known_secrets)
}

assert_failure() {
  assert_rc 1 "exit status 1"
  assert_empty "$OUT" "nothing on stdout"
  assert_eq 1 "$(printf '%s\n' "$ERR" | wc -l)" "one line on stderr: $ERR"
  assert_contains "$ERR" "$1"
  assert_no_known_secret "$ERR"
}

store_digest() {
  local dir=$1 f
  for f in "$dir"/token_m2m.json "$dir"/token_oauth.json "$dir"/tokens/*.json; do
    [ -e "$f" ] || continue
    printf '%s %s %s\n' "${f#"$dir"/}" "$(stat -c %a "$f")" "$(md5sum <"$f" | cut -d' ' -f1)"
  done
}

# token_files_whole DIR [API_URL]: each token file in DIR parses as a whole
# token (access_token a JWT from the stand-in, a numeric expiration), is a
# regular file of mode 600; prints the access tokens found.
token_files_whole() {
  "$PYTHON" - "$1" <<'PY'
import json, os, stat, sys
home = sys.argv[1]
paths = [os.path.join(home, n) for n in ("token_m2m.json", "token_oauth.json")]
tokens = os.path.join(home, "tokens")
if os.path.isdir(tokens):
    paths += [os.path.join(tokens, n) for n in os.listdir(tokens) if n.endswith(".json")]
bad = []
for p in paths:
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        continue
    if not stat.S_ISREG(st.st_mode):
        bad.append(f"{p}: not a regular file"); continue
    if stat.S_IMODE(st.st_mode) != 0o600:
        bad.append(f"{p}: mode {stat.S_IMODE(st.st_mode):o}"); continue
    try:
        d = json.load(open(p))
        tok = d["access_token"]
        assert isinstance(tok, str) and tok.startswith("eyJ") and tok.count(".") == 2
        assert isinstance(d["expiration"], (int, float)) and isinstance(d["api_base_url"], str)
    except Exception as e:  # noqa: BLE001 (any failure is the finding)
        bad.append(f"{p}: not a whole token ({type(e).__name__})"); continue
    print(tok)
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
PY
}

# case_no_secret_anywhere: gathers every secret this script's runs used or
# received -- the client secrets, and from the stand-ins' request logs the
# client secrets, refresh tokens, authorization codes, PKCE verifiers and
# bearer tokens sent, from every kept stdout the tokens handed out, from
# every token file under $TEST_TMP the access and refresh tokens -- and
# checks that none appears in any kept stderr.
case_no_secret_anywhere() {
  keep_bg
  _known_secrets >"$TEST_TMP/secrets.known"
  "$PYTHON" - "$TEST_TMP" <<'PY'
import glob, json, os, sys
root = sys.argv[1]
secrets = {s.strip() for s in open(os.path.join(root, "secrets.known")) if s.strip()}
for log in glob.glob(os.path.join(root, "standin.*", "requests.jsonl")):
    for line in open(log):
        r = json.loads(line)
        for k in ("client_secret", "refresh_token", "code", "code_verifier"):
            v = r.get("form", {}).get(k)
            if v:
                secrets.add(v)
        auth = r.get("headers", {}).get("authorization", "")
        if auth.lower().startswith("bearer "):
            secrets.add(auth[7:].strip())
outs = glob.glob(os.path.join(root, "kept", "out.*"))
for path in outs:
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        key, _, value = line.partition("=")
        if key in ("password", "access_token", "credential", "carto_dw_token", "oauth_refresh_token"):
            secrets.add(value)
        elif line.startswith("eyJ"):
            secrets.add(line)
for dirpath, _, files in os.walk(root):
    for name in files:
        path = os.path.join(dirpath, name)
        if not name.endswith(".json") or os.path.islink(path) or not os.path.isfile(path):
            continue  # planted links, FIFOs (never opened), folders
        try:
            d = json.load(open(path))
        except Exception:  # noqa: BLE001 (planted garbage)
            continue
        if isinstance(d, dict):
            for k in ("access_token", "refresh_token", "client_secret"):
                if isinstance(d.get(k), str):
                    secrets.add(d[k])
secrets = {s for s in secrets if len(s) >= 12}
errs = glob.glob(os.path.join(root, "kept", "err.*"))
leaks = []
for path in errs:
    text = open(path, errors="replace").read()
    for s in secrets:
        if s in text:
            leaks.append(f"{os.path.basename(path)}: secret starting {s[:8]}")
print(f"  checked {len(errs)} stderr captures ({sum(os.path.getsize(p) for p in errs)} bytes) "
      f"for {len(secrets)} secrets")
if leaks:
    print("  FAIL: secrets on stderr:\n    " + "\n    ".join(sorted(set(leaks))[:20]), file=sys.stderr)
    sys.exit(1)
if len(secrets) < 3 or not errs:
    print("  FAIL: too few secrets or captures to mean anything", file=sys.stderr)
    sys.exit(1)
PY
}
