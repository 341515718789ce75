#!/bin/bash
# The executable loads a module only from its own build (auth/module.h): the
# same version and the same layouts of the structs they share, derived by
# the compiler, not bumped by hand. A module from another build is refused
# with a clear message. CARTO_AUTH_MODULE_DIR is honoured (and read with
# secure_getenv, so a setuid or secure-execution process ignores it).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

BUILD=${CARTO_AUTH_BUILD_DIR:?run through ctest}
SRC=${CARTO_AUTH_SOURCE_DIR:?run through ctest}
standin_start
CREDS=$TEST_TMP/creds.json
make_creds_file "$CREDS" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

# get through the network module (no token stored yet: fresh home each time)
net_get() {
  rm -rf "$CARTO_AUTH_HOME"
  run_helper $'\n' "$@" --m2m "$CREDS" get
}

case_module_dir_honoured() {
  mkdir -p "$TEST_TMP/mods"
  cp "$BUILD/carto-auth-net.so" "$TEST_TMP/mods/"
  CARTO_AUTH_MODULE_DIR=$TEST_TMP/mods net_get --debug
  assert_rc 0
  assert_contains "$OUT" "password=" "a token"
  assert_contains "$ERR" "module: loaded $TEST_TMP/mods/carto-auth-net.so" "from the named folder"
  # without it: the one beside the executable
  net_get --debug
  assert_rc 0
  assert_contains "$ERR" "module: loaded $BUILD/carto-auth-net.so"
}

case_other_layout_refused() {
  standin_reset
  CARTO_AUTH_MODULE_DIR=$BUILD/tests/abi-skew-layout net_get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "abi-skew-layout/carto-auth-net.so was built with other data layouts"
  assert_contains "$ERR" "reinstall carto-auth"
  assert_eq 0 "$(standin_requests /oauth/token)" "no request was sent"
}

case_other_version_refused() {
  CARTO_AUTH_MODULE_DIR=$BUILD/tests/abi-skew-version net_get
  assert_rc 1
  assert_empty "$OUT"
  assert_contains "$ERR" "abi-skew-version/carto-auth-net.so is from carto-auth 0.0.0-skew, this is carto-auth"
}

case_foreign_module_refused() {
  # a module from before the head: its entry returns a table starting with an int
  mkdir -p "$TEST_TMP/old"
  printf 'static const struct { int abi; void *f[5]; } t = { 2, { 0 } };\n__attribute__((visibility("default"))) const void *carto_auth_net_entry(void) { return &t; }\n' \
    >"$TEST_TMP/old/old.c"
  cc -shared -fPIC -o "$TEST_TMP/old/carto-auth-net.so" "$TEST_TMP/old/old.c"
  CARTO_AUTH_MODULE_DIR=$TEST_TMP/old net_get
  assert_rc 1
  assert_contains "$ERR" "is from an older or foreign build of carto-auth"
}

case_secure_getenv() {
  # Code check: the loader reads the folder with secure_getenv only.
  grep -q 'secure_getenv("CARTO_AUTH_MODULE_DIR")' "$SRC/helper/module_loader.c"
  ! grep -n '[^_]getenv("CARTO_AUTH_MODULE_DIR")' "$SRC"/helper/*.c "$SRC"/lib/*.c
}

t_case "CARTO_AUTH_MODULE_DIR is honoured" case_module_dir_honoured
t_case "a module with other struct layouts is refused" case_other_layout_refused
t_case "a module from another version is refused" case_other_version_refused
t_case "a module from before the build head is refused unread" case_foreign_module_refused
t_case "CARTO_AUTH_MODULE_DIR is read with secure_getenv" case_secure_getenv
t_done
