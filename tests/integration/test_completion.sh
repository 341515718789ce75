#!/bin/bash
# Completion for bash, zsh and fish follows the program: each shell, asked
# as a user's TAB asks it, offers exactly the commands and options of
# `carto-auth --help`, each command's options of `carto-auth COMMAND --help`,
# the --format values, and file names after --m2m; git-credential-carto
# completes like carto-auth; the zsh and fish files parse. zsh is driven in
# a pseudo-terminal (tests/completion/zsh_complete.zsh), fish through
# `complete -C`, bash through its completion function. A shell that is not
# installed is skipped (scripts/deps.sh installs zsh and fish).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
BASH_FILE=$SRC/helper/completion.bash
ZSH_FILE=$SRC/helper/completion.zsh
FISH_FILE=$SRC/helper/completion.fish

# --- what the program says -----------------------------------------------------

run_helper "" --help
HELP=$OUT
# "  name    purpose" lines of the Commands section.
COMMANDS=$(sed -n '/^Commands:/,/^$/p' <<<"$HELP" | sed -n 's/^  \([a-z][a-z]*\)  *.*/\1/p' | sort)
# "  --m2m FILE ...", "  -h, --help ..." lines of the Options section.
OPTIONS=$(sed -n '/^Options/,/^$/p' <<<"$HELP" | grep -oE -- '^  (-[a-zA-Z], )?--[a-z][a-z0-9-]*' |
  grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
# "  --format F   token/dw output: plain, json, env, header"
FORMATS=$(grep -E -- '^  --format ' <<<"$HELP" | sed 's/.*: //; s/, */\n/g' | sort)
[ -n "$COMMANDS" ] && [ -n "$OPTIONS" ] && [ -n "$FORMATS" ] || {
  echo "cannot read commands, options and formats from carto-auth --help" >&2
  exit 1
}

# The usage line of `carto-auth CMD --help`: "usage: carto-auth token [--m2m FILE] ...".
usage_line() { "$CARTO_AUTH" "$1" --help | sed -n 's/^usage: //p'; }
# A command's options: its usage line's, and the common --debug and --help.
command_options() {
  { usage_line "$1" | grep -oE -- '--[a-z][a-z0-9-]*'; printf '%s\n' --debug --help; } | sort -u
}
# A command's --format values ("--format plain|json|env"), if it has any.
command_formats() {
  { usage_line "$1" | grep -oE -- '--format [a-z|]+' || true; } | sed 's/^--format //; s/|/\n/g' | sort
}

mkdir -p "$TEST_TMP/files"
: >"$TEST_TMP/files/creds-a.json"
: >"$TEST_TMP/files/creds-b.json"
# Completion of file names is asked in that directory.
cd "$TEST_TMP/files"
FILES_PREFIX=cr

# Every line the cases ask about (zsh answers them in one session).
QUERIES=("carto-auth " "carto-auth --" "git-credential-carto " "git-credential-carto --"
  "carto-auth --format " "carto-auth --m2m $FILES_PREFIX")
for c in $COMMANDS; do
  QUERIES+=("carto-auth $c --" "carto-auth $c --format ")
done

# --- each shell, as TAB asks it ------------------------------------------------

# offered SHELL LINE: what SHELL's completion offers for LINE (the word being
# completed is the end of LINE), sorted, one per line.
offered() {
  local shell=$1 line=$2
  case $shell in
    bash)
      local -a words
      read -ra words <<<"$line"
      [[ $line != *' ' ]] || words+=("")
      bash_complete "$BASH_FILE" "${words[@]}" | sort -u
      ;;
    fish)
      fish --no-config -c 'source $argv[1]; complete -C $argv[2]' "$FISH_FILE" "$line" | cut -f1 | sort -u
      ;;
    zsh)
      awk -v q="== $line" '$0 == q { on = 1; next } /^== / { on = 0 } on' "$TEST_TMP/zsh.out" | sort -u
      ;;
  esac
}

have_shell() {
  case $1 in
    bash) return 0 ;;
    *) command -v "$1" >/dev/null ;;
  esac
}

if have_shell zsh; then
  mkdir -p "$TEST_TMP/zfunc"
  cp "$ZSH_FILE" "$TEST_TMP/zfunc/_carto-auth"
  timeout 60 zsh -f "$TESTS_DIR/completion/zsh_complete.zsh" \
    "$TEST_TMP/zfunc" "$TEST_TMP/zsh.out" "${QUERIES[@]}" || true
fi

# assert_same WHAT EXPECTED ACTUAL: equal sets (sorted lines).
assert_same() {
  [ "$2" = "$3" ] && return 0
  echo "FAIL: $1" >&2
  diff <(echo "$2") <(echo "$3") | sed -n 's/^</  missing:/p; s/^>/  extra:  /p' >&2
  return 1
}

case_parses() {
  case $1 in
    bash) bash --norc --noprofile -c '. "$1" && complete -p carto-auth git-credential-carto' _ "$BASH_FILE" >/dev/null ;;
    zsh)
      zsh -n "$ZSH_FILE"
      assert_eq "#compdef carto-auth git-credential-carto" "$(head -n 1 "$ZSH_FILE")" "the #compdef line"
      ;;
    fish) fish -n "$FISH_FILE" ;;
  esac
}

case_commands() {
  assert_same "carto-auth <TAB>: the commands of --help" "$COMMANDS" "$(offered "$1" "carto-auth ")"
  assert_same "git-credential-carto <TAB>" "$COMMANDS" "$(offered "$1" "git-credential-carto ")"
}

case_options() {
  assert_same "carto-auth --<TAB>: the options of --help" "$OPTIONS" "$(offered "$1" "carto-auth --")"
  assert_same "git-credential-carto --<TAB>" "$OPTIONS" "$(offered "$1" "git-credential-carto --")"
}

case_command_options() {
  local c got want missing extra
  for c in $COMMANDS; do
    got=$(offered "$1" "carto-auth $c --")
    want=$(command_options "$c")
    # Every option of the command's usage; none that --help does not know.
    missing=$(comm -23 <(echo "$want") <(echo "$got"))
    extra=$(comm -13 <(echo "$OPTIONS") <(echo "$got"))
    [ -z "$missing" ] || { echo "FAIL: carto-auth $c --<TAB> lacks: $missing" >&2; return 1; }
    [ -z "$extra" ] || { echo "FAIL: carto-auth $c --<TAB> offers unknown: $extra" >&2; return 1; }
  done
}

case_formats() {
  local c want
  assert_same "carto-auth --format <TAB>" "$FORMATS" "$(offered "$1" "carto-auth --format ")"
  for c in $COMMANDS; do
    want=$(command_formats "$c")
    [ -n "$want" ] || continue
    assert_same "carto-auth $c --format <TAB>" "$want" "$(offered "$1" "carto-auth $c --format ")"
  done
}

case_m2m_files() {
  assert_same "--m2m cr<TAB> offers the files" $'creds-a.json\ncreds-b.json' \
    "$(offered "$1" "carto-auth --m2m $FILES_PREFIX")"
}

for shell in bash zsh fish; do
  if ! have_shell "$shell"; then
    t_skip "$shell completion" "$shell is not installed (scripts/deps.sh)"
    continue
  fi
  t_case "$shell: the completion file parses and loads" case_parses "$shell"
  t_case "$shell: offers exactly the commands of --help" case_commands "$shell"
  t_case "$shell: offers exactly the options of --help" case_options "$shell"
  t_case "$shell: each command offers its usage's options, none unknown" case_command_options "$shell"
  t_case "$shell: --format values of --help and of each command" case_formats "$shell"
  t_case "$shell: --m2m completes file names" case_m2m_files "$shell"
done

t_done
