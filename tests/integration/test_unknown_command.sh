#!/bin/bash
# An unknown command (git may add actions) prints nothing on standard
# output and exits 0; when standard error is a terminal, a person is told
# the command is unknown and, for a typo, the nearest command.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

command -v script >/dev/null || t_skip_all "script (util-linux) is missing"

# on_tty ARGS...: the helper with standard error on a pseudo-terminal and
# standard output in a file. Sets OUT (the file), TTY (what the terminal
# showed) and RC. script(1) runs the command with $SHELL, and %q may quote
# as $'...', which only bash reads: so the shell is bash, whatever the
# caller's login shell is.
on_tty() {
  local cmd
  printf -v cmd '%q ' "$CARTO_AUTH" "$@"
  TTY=$(SHELL=/bin/bash script -qec "$cmd >$(printf '%q' "$TEST_TMP/tty.out") </dev/null" /dev/null | tr -d '\r') && RC=0 || RC=$?
  OUT=$(cat "$TEST_TMP/tty.out")
}

case_silent_for_programs() {
  local cmd
  for cmd in frobnicate logn capability; do
    run_helper $'protocol=https\nhost=example.com\n\n' "$cmd"
    assert_rc 0
    assert_empty "$OUT" "standard output for '$cmd'"
    assert_empty "$ERR" "standard error (not a terminal) for '$cmd'"
  done
}

case_typo_suggested() {
  local pair typo want
  for pair in gte:get logn:login statsu:status erse:erase logot:logout tokne:token sotre:store; do
    typo=${pair%%:*} want=${pair#*:}
    on_tty "$typo"
    assert_eq 0 "$RC" "exit status for '$typo'"
    assert_empty "$OUT" "standard output for '$typo'"
    assert_eq "carto-auth: '$typo' is not a carto-auth command; did you mean '$want'?" "$TTY"
  done
}

case_far_off_named() {
  on_tty frobnicate
  assert_eq 0 "$RC"
  assert_empty "$OUT"
  assert_eq "carto-auth: 'frobnicate' is not a carto-auth command; see carto-auth --help" "$TTY"
}

case_escaped() {
  on_tty $'x\e]0;title\a'
  assert_eq 0 "$RC"
  assert_not_contains "$TTY" $'\e' "a raw escape reached the terminal"
  assert_contains "$TTY" "'x\\x1b]0;title\\x07' is not a carto-auth command"
}

case_known_commands_quiet() {
  on_tty --version
  assert_eq 0 "$RC"
  assert_contains "$OUT" "carto-auth "
  assert_not_contains "$TTY" "not a carto-auth command"
}

t_case "an unknown command: nothing on stdout, exit 0, silent for programs" case_silent_for_programs
t_case "a typo at a terminal: the nearest command is suggested" case_typo_suggested
t_case "an unknown command far from any: named, with --help" case_far_off_named
t_case "the command is shown escaped on the terminal" case_escaped
t_case "a known command prints no such notice" case_known_commands_quiet
t_done
