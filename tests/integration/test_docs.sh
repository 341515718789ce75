#!/bin/bash
# The documentation matches the program: the man page renders without
# warnings and covers every command, option, protocol key and environment
# variable the code knows; the docs cover every command; bash completion
# loads and completes; every command has its --help; links between the docs
# resolve; and the recipes of docs/integrations.md run against the stand-in.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
MAN=$SRC/docs/carto-auth.1
COMPLETION=$SRC/helper/completion.bash

# The commands `carto-auth --help` lists ("  name    purpose" lines).
run_helper "" --help
HELP=$OUT
COMMANDS=$(sed -n '/^Commands:/,/^$/p' <<<"$HELP" | sed -n 's/^  \([a-z][a-z]*\)  *.*/\1/p')
# The options of its "Options" section ("  --m2m FILE   ...", "  -h, --help").
OPTIONS=$(sed -n '/^Options/,/^$/p' <<<"$HELP" | grep -oE -- '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*' |
  grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)

case_help_lists_commands() {
  assert_rc 0
  assert_empty "$ERR"
  local c
  assert_contains "$OPTIONS" "--m2m" "the option scan finds options"
  for c in get store erase login token status logout dw; do
    grep -qx "$c" <<<"$COMMANDS" || { echo "--help lacks the command $c" >&2; return 1; }
  done
}
t_case "--help lists every command of SPEC" case_help_lists_commands

# --- the man page -------------------------------------------------------------------

have_groff() { command -v groff >/dev/null && command -v man >/dev/null; }

case_man_renders() {
  local err
  if ! have_groff; then echo "groff or man missing (apt-get install man-db groff-base)" >&2; return 1; fi
  err=$(groff -man -Tutf8 -ww "$MAN" 2>&1 >/dev/null)
  assert_empty "$err" "groff -ww warnings"
  err=$(man -l "$MAN" 2>&1 >/dev/null)
  assert_empty "$err" "man -l warnings"
  for width in 60 100 160; do
    err=$(MANWIDTH=$width man -l "$MAN" 2>&1 >/dev/null)
    assert_empty "$err" "man -l warnings at width $width"
  done
  man -l "$MAN" 2>/dev/null >"$TEST_TMP/man.txt"
  assert_contains "$(head -n 1 "$TEST_TMP/man.txt")" "CARTO-AUTH(1)"
  for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS PROTOCOL ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    grep -q "^$section\$" "$TEST_TMP/man.txt" || { echo "man page lacks section $section" >&2; return 1; }
  done
}
t_case "the man page renders with man and groff -ww, without warnings" case_man_renders

man_text() {
  [ -s "$TEST_TMP/man.txt" ] || man -l "$MAN" 2>/dev/null >"$TEST_TMP/man.txt"
  cat "$TEST_TMP/man.txt"
}

case_man_commands_options() {
  local text c o
  have_groff || return 1
  text=$(man_text)
  for c in $COMMANDS; do
    # Each command is a heading of COMMANDS: "       login  Obtains ..."
    sed -n '/^COMMANDS$/,/^OPTIONS$/p' <<<"$text" | grep -Eq "^       $c( |$)" ||
      { echo "man page: COMMANDS lacks $c" >&2; return 1; }
    grep -q "carto-auth $c" <<<"$text" || grep -Eq "carto-auth( \[OPTIONS\])? .*\b$c\b" <<<"$text" ||
      { echo "man page: SYNOPSIS lacks $c" >&2; return 1; }
  done
  for o in $OPTIONS; do
    sed -n '/^OPTIONS$/,/^PROTOCOL$/p' <<<"$text" | grep -q -- "$o" ||
      { echo "man page: OPTIONS lacks $o" >&2; return 1; }
  done
}
t_case "the man page describes every command and option of --help" case_man_commands_options

case_docs_commands() {
  local c docs
  docs=$(cat "$SRC/docs/protocol.md" "$SRC/docs/user-guide.md")
  for c in $COMMANDS; do
    grep -Eq "carto-auth $c\b|\`$c\`|^## $c\$" <<<"$docs" ||
      { echo "neither protocol.md nor user-guide.md mention the command $c" >&2; return 1; }
  done
}
t_case "every command appears in docs/protocol.md or docs/user-guide.md" case_docs_commands

# The protocol keys the code reads: proto_get(msg, "key"), proto_get_bool,
# proto_list_has(msg, "key[]", ...), get_bool(..., "key"), pick(ENV, msg, "key", ...).
code_keys() {
  cat "$SRC"/auth/config.c "$SRC"/helper/actions.c |
    grep -oE '(proto_(get|get_bool|list_has)\([a-z&>.-]+, "[a-z_]+(\[\])?"|get_bool\(&cfg->[a-z_]+, msg, "[a-z_]+"|pick\("?[A-Z_]*"?,? ?(NULL|msg), "[a-z_]+")' |
    grep -oE '"[a-z_]+(\[\])?"$' | tr -d '"' | sort -u
}

case_keys_documented() {
  local k text proto
  have_groff || return 1
  text=$(man_text)
  proto=$(cat "$SRC/docs/protocol.md")
  keys=$(code_keys)
  assert_contains "$keys" credentials_file "the key scan finds keys"
  assert_contains "$keys" "capability[]" "the key scan finds list keys"
  for k in $keys; do
    grep -qF -- "$k" <<<"$text" || { echo "man page lacks the key $k" >&2; return 1; }
    grep -qF -- "\`$k\`" <<<"$proto" || { echo "protocol.md lacks the key $k" >&2; return 1; }
  done
}
t_case "every protocol key the code reads is in the man page and protocol.md" case_keys_documented

case_env_documented() {
  local v text vars
  have_groff || return 1
  text=$(sed -n '/^ENVIRONMENT$/,/^FILES$/p' <<<"$(man_text)")
  vars=$(cat "$SRC"/auth/*.c "$SRC"/helper/*.c "$SRC"/keyring/*.c "$SRC"/util/*.c |
    grep -oE '"(CARTO_[A-Z_]+|GIT_TERMINAL_PROMPT|DATABRICKS_RUNTIME_VERSION|BROWSER)"' | tr -d '"' | sort -u)
  assert_contains "$vars" CARTO_AUTH_STORE "the scan finds variables"
  for v in $vars; do
    grep -q -- "$v" <<<"$text" || { echo "man page ENVIRONMENT lacks $v" >&2; return 1; }
  done
}
t_case "every environment variable the code reads is in the man page" case_env_documented

# --- per-command help -----------------------------------------------------------------

case_command_help() {
  local c
  for c in $COMMANDS; do
    run_helper "" "$c" --help
    assert_rc 0 "carto-auth $c --help"
    assert_contains "$OUT" "usage: carto-auth $c" "carto-auth $c --help"
    assert_contains "$OUT" "example:" "carto-auth $c --help shows an example"
    assert_empty "$ERR" "carto-auth $c --help writes nothing on stderr"
    run_helper "" --help "$c"
    assert_rc 0 "carto-auth --help $c"
    assert_contains "$OUT" "usage: carto-auth $c"
  done
}
t_case "carto-auth COMMAND --help works for every command" case_command_help

case_version_usage() {
  run_helper "" --version
  assert_rc 0
  assert_match "$OUT" '^carto-auth [0-9]+\.[0-9]+\.[0-9]+$'
  run_helper ""
  assert_rc 2 "no command: usage error"
  assert_contains "$ERR" "usage: carto-auth"
  assert_empty "$OUT"
}
t_case "--version, and usage on stderr (exit 2) without a command" case_version_usage

# --- bash completion ------------------------------------------------------------------------

# complete_words WORD...: what the completion offers for the command line
# "WORD..." (the last word is the one being completed).
complete_words() { bash_complete "$COMPLETION" "$@"; }

case_completion_loads() {
  local out
  out=$(bash --norc --noprofile -c '. "$1" && complete -p carto-auth' _ "$COMPLETION" 2>&1)
  assert_contains "$out" "complete -F"
  assert_eq $'login\nlogout' "$(complete_words carto-auth lo)" "carto-auth lo<TAB>"
  assert_eq "$(printf '%s\n' $COMMANDS | sort)" "$(complete_words carto-auth '')" "every command"
}
t_case "completion.bash loads and completes 'carto-auth lo' to login, logout" case_completion_loads

case_completion_values() {
  mkdir -p "$TEST_TMP/files"
  : >"$TEST_TMP/files/creds-a.json"
  : >"$TEST_TMP/files/creds-b.json"
  assert_eq $'env\nheader\njson\nplain' "$(complete_words carto-auth token --format '')" "--format values"
  assert_eq $'env\njson\nplain' "$(complete_words carto-auth dw --format '')" "dw --format values"
  assert_eq "json" "$(complete_words carto-auth token --format = j)" "--format=j"
  assert_eq $'--all' "$(complete_words carto-auth logout --a)" "logout --a"
  assert_eq "$(printf '%s\n' "$TEST_TMP/files/creds-a.json" "$TEST_TMP/files/creds-b.json")" \
    "$(complete_words carto-auth token --m2m "$TEST_TMP/files/cr")" "--m2m completes files"
  assert_eq "token" "$(complete_words carto-auth --m2m x.json tok)" "the command after --m2m FILE"
}
t_case "completion: --format values, files after --m2m, command options" case_completion_values

case_completion_options() {
  local o offered
  offered=$(complete_words carto-auth --)
  for o in $OPTIONS; do
    grep -qx -- "$o" <<<"$offered" || { echo "completion lacks $o" >&2; return 1; }
  done
}
t_case "completion offers every option of --help" case_completion_options

# --- the documents ----------------------------------------------------------------------------

case_docs_index() {
  local f
  for f in "$SRC"/docs/*.md "$SRC/docs/carto-auth.1"; do
    f=$(basename "$f")
    [ "$f" = README.md ] && continue
    grep -q "($f)" "$SRC/docs/README.md" || { echo "docs/README.md does not list $f" >&2; return 1; }
  done
}
t_case "docs/README.md indexes every document" case_docs_index

case_docs_links() {
  "$PYTHON" - "$SRC/docs" "$SRC/README.md" <<'EOF'
import os, re, sys

docs = sys.argv[1]
files = [os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md")] + [sys.argv[2]]

def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")

def anchors(path):
    out = set()
    in_code = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            out.add(slug(line.lstrip("#")))
    return out

bad = []
for path in files:
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(dest):
            bad.append(f"{os.path.basename(path)}: {target}: no such file")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            bad.append(f"{os.path.basename(path)}: {target}: no such heading")
for b in bad:
    print(b, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}
t_case "links between the documents resolve (files and headings)" case_docs_links

# --- the recipes of docs/integrations.md ------------------------------------------------------

PREFIX=$TEST_TMP/prefix
RECIPES=$TEST_TMP/recipes
mkdir -p "$RECIPES"
# Each recipe: a ```sh block right after <!-- test: NAME expect="TEXT" -->.
"$PYTHON" - "$SRC/docs/integrations.md" "$RECIPES" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
for name, expect, body in re.findall(
        r'<!-- test: ([\w-]+) expect="([^"]*)" -->\n```sh\n(.*?)```', text, re.S):
    with open(f"{sys.argv[2]}/{name}.sh", "w") as f:
        f.write(body)
    with open(f"{sys.argv[2]}/{name}.expect", "w") as f:
        f.write(expect)
    with open(f"{sys.argv[2]}/order", "a") as f:
        f.write(name + "\n")
EOF

RECIPES_READY=
if [ -n "${CARTO_AUTH_BUILD_DIR:-}" ] &&
   cmake --install "$CARTO_AUTH_BUILD_DIR" --prefix "$PREFIX" >"$TEST_TMP/install.log" 2>&1; then
  standin_start
  make_creds_file "$HOME/carto-credentials.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"
  git config --global user.name test
  RECIPES_READY=1
fi

case_recipes_found() {
  local n
  n=$(ls "$RECIPES"/*.sh 2>/dev/null | wc -l)
  [ "$n" -ge 6 ] || { echo "only $n tested recipes found in integrations.md" >&2; return 1; }
  [ -n "$RECIPES_READY" ] || { echo "cmake --install failed:" >&2; cat "$TEST_TMP/install.log" >&2; return 1; }
}
t_case "integrations.md has tested recipes; the build installs" case_recipes_found

run_recipe() {
  local name=$1 script
  script=$(sed "s#/usr/local#$PREFIX#g" "$RECIPES/$name.sh")
  _t_capture "" env PATH="$PREFIX/bin:$PATH" bash -euo pipefail -c "$script"
  assert_rc 0 "recipe $name"
  assert_contains "$OUT" "$(cat "$RECIPES/$name.expect")" "recipe $name output"
}

# In the document's order: later recipes build on earlier ones (git).
touch "$RECIPES/order"
while read -r name; do
  if [ "$name" = node-ide ] && ! command -v node >/dev/null; then
    t_skip "recipe $name" "node is not installed"
    continue
  fi
  [ -n "$RECIPES_READY" ] || continue
  t_case "integrations.md recipe: $name" run_recipe "$name"
done <"$RECIPES/order"

case_recipes_token_reuse() {
  [ -n "$RECIPES_READY" ] || return 1
  # All the M2M recipes share one stored token; git reject dropped it once.
  assert_eq 2 "$(standin_requests /oauth/token client_credentials)" "two token requests for all recipes"
}
t_case "the recipes shared the stored token (one renewal after git reject)" case_recipes_token_reuse

t_done
