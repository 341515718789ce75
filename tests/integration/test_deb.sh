#!/bin/bash
# The Debian packages: `cpack -G DEB` on a tree configured for /usr
# (cmake/Packaging.cmake, as scripts/deb.sh does it) gives
# carto-auth_<version>_<arch>.deb and carto-auth-dev_<version>_<arch>.deb;
# their control fields declare the run-time libraries; the files sit at
# Debian's places with Debian's modes, stripped, without RPATH, the manual
# page and changelog gzipped; lintian finds no error; the executable of the
# unpacked package finds its modules at /usr/lib/<multiarch>/carto-auth
# (relative to itself), gets an M2M token from the stand-in and loads the
# keyring module in a private keyring session. As root,
# where a private mount namespace with overlays can be made, the package is
# installed for real with apt (all writes land in the overlays), used
# (carto-auth, git credential-carto, man, pkg-config, dpkg -L) and removed.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

SRC=${CARTO_AUTH_SOURCE_DIR:-$(cd "$TESTS_DIR/.." && pwd)}
for tool in cmake cpack dpkg-deb dpkg-shlibdeps dpkg readelf; do
  command -v "$tool" >/dev/null || t_skip_all "no $tool (apt-get install dpkg-dev cmake binutils)"
done
ARCH=$(dpkg --print-architecture)
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)

# --- build the packages ------------------------------------------------------

BUILD=$TEST_TMP/build
if ! { cmake -S "$SRC" -B "$BUILD" -DCMAKE_INSTALL_PREFIX=/usr -DCARTO_AUTH_DEB=ON \
         -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$BUILD" -j2 &&
       (cd "$BUILD" && cpack -G DEB); } >"$TEST_TMP/build.log" 2>&1; then
  tail -n 40 "$TEST_TMP/build.log" >&2
  echo "building the packages failed" >&2
  exit 1
fi
VERSION=$("$BUILD/carto-auth" --version | sed -n 's/^carto-auth //p')
DEB=$BUILD/carto-auth_${VERSION}-1_${ARCH}.deb
DEV=$BUILD/carto-auth-dev_${VERSION}-1_${ARCH}.deb
LIB=usr/lib/$MULTIARCH

case_built() {
  assert_match "$VERSION" '^[0-9]+\.[0-9]+\.[0-9]+$' "the version"
  assert_file_exists "$DEB"
  assert_file_exists "$DEV"
  echo "$(basename "$DEB"): $(stat -c %s "$DEB") bytes; $(basename "$DEV"): $(stat -c %s "$DEV") bytes"
}
t_case "cpack -G DEB builds carto-auth_<version>_<arch>.deb and carto-auth-dev" case_built

# field DEB NAME: one field of the package's control file.
field() { dpkg-deb -f "$1" "$2"; }
# listing DEB: "mode owner path[ -> target]" lines of the package's files.
listing() { dpkg-deb -c "$1" | awk '{ $3 = $4 = $5 = ""; sub(/^\.\//, "", $6); print }' | sed 's/   */ /g; s| \./| /|'; }

case_control() {
  local depends lib
  assert_eq carto-auth "$(field "$DEB" Package)"
  assert_eq "$VERSION-1" "$(field "$DEB" Version)"
  assert_eq "$ARCH" "$(field "$DEB" Architecture)"
  assert_match "$(field "$DEB" Maintainer)" '^[^<>]+ <[^@<>]+@[^@<>]+>$' "a Maintainer name and address"
  assert_eq utils "$(field "$DEB" Section)"
  assert_eq optional "$(field "$DEB" Priority)"
  # A synopsis, then a long text (several lines).
  assert_match "$(field "$DEB" Description | head -n 1)" '^credential helper for CARTO' "the synopsis"
  [ "$(field "$DEB" Description | wc -l)" -ge 5 ] || { echo "no long description" >&2; return 1; }
  # dpkg-shlibdeps: every library the executable and its modules load.
  depends=$(field "$DEB" Depends)
  echo "Depends: $depends"
  for lib in libc6 libcurl4 libcjson1 libsecret-1-0 libyaml-0-2 libgcrypt20 libglib2.0-0; do
    assert_match "$depends" "(^|, )$lib( |,|$)" "Depends names $lib"
  done
  assert_eq carto-auth-dev "$(field "$DEV" Package)"
  assert_eq libdevel "$(field "$DEV" Section)"
  # carto-auth of the same version, and the -dev packages whose .pc files
  # carto-auth.pc requires (pkg-config --cflags reads them).
  depends=$(field "$DEV" Depends)
  for lib in "carto-auth (= $VERSION-1)" "libcurl4-openssl-dev | libcurl-dev" libcjson-dev \
      libsecret-1-dev libgcrypt20-dev libyaml-dev; do
    sed 's/, /\n/g' <<<"$depends" | grep -qxF -- "$lib" ||
      { echo "FAIL: carto-auth-dev does not depend on $lib: $depends" >&2; return 1; }
  done
  assert_contains "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./shlibs)" "libcarto-auth 0 carto-auth"
  assert_eq "activate-noawait ldconfig" "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./triggers)"
}
t_case "control: name, version, arch, maintainer, section, description, shlibs Depends" case_control

case_runtime_files() {
  local files
  files=$(listing "$DEB")
  printf '%s\n' "$files" >"$TEST_TMP/runtime.list"
  for want in \
      "-rwxr-xr-x root/root usr/bin/carto-auth" \
      "lrwxrwxrwx root/root usr/bin/git-credential-carto -> carto-auth" \
      "lrwxrwxrwx root/root $LIB/libcarto-auth.so.0 -> libcarto-auth.so.$VERSION" \
      "-rw-r--r-- root/root $LIB/libcarto-auth.so.$VERSION" \
      "-rw-r--r-- root/root $LIB/carto-auth/carto-auth-net.so" \
      "-rw-r--r-- root/root $LIB/carto-auth/carto-auth-keyring.so" \
      "-rw-r--r-- root/root usr/share/man/man1/carto-auth.1.gz" \
      "lrwxrwxrwx root/root usr/share/man/man1/git-credential-carto.1.gz -> carto-auth.1.gz" \
      "-rw-r--r-- root/root usr/share/bash-completion/completions/carto-auth" \
      "lrwxrwxrwx root/root usr/share/bash-completion/completions/git-credential-carto -> carto-auth" \
      "-rw-r--r-- root/root usr/share/zsh/vendor-completions/_carto-auth" \
      "-rw-r--r-- root/root usr/share/fish/vendor_completions.d/carto-auth.fish" \
      "lrwxrwxrwx root/root usr/share/fish/vendor_completions.d/git-credential-carto.fish -> carto-auth.fish" \
      "-rw-r--r-- root/root usr/share/doc/carto-auth/copyright" \
      "-rw-r--r-- root/root usr/share/doc/carto-auth/changelog.Debian.gz" \
      "-rw-r--r-- root/root usr/share/carto-auth/python/carto_auth/__init__.py"; do
    grep -qxF -- "$want" <<<"$files" || { echo "FAIL: carto-auth lacks: $want" >&2; return 1; }
  done
  # Nothing of the -dev package, nothing outside /usr, every file root's,
  # nothing writable by others.
  assert_not_contains "$files" "include/" "no header"
  assert_not_contains "$files" "pkgconfig" "no .pc"
  assert_not_contains "$files" "libcarto-auth.so -> " "no .so link"
  assert_not_contains "$files" "libcarto-auth.a" "no static library"
  [ -z "$(grep -v ' usr/' <<<"$files")" ] || { echo "FAIL: files outside /usr" >&2; return 1; }
  [ -z "$(grep -v ' root/root ' <<<"$files")" ] || { echo "FAIL: a file not root's" >&2; return 1; }
  [ -z "$(grep -E '^[-d].......w' <<<"$files")" ] || { echo "FAIL: a file writable by others" >&2; return 1; }
}
t_case "carto-auth: the executable, link, library, modules, man page, completions, docs" case_runtime_files

case_dev_files() {
  local files
  files=$(listing "$DEV")
  for want in \
      "-rw-r--r-- root/root usr/include/carto-auth/carto_auth.h" \
      "-rw-r--r-- root/root $LIB/pkgconfig/carto-auth.pc" \
      "-rw-r--r-- root/root $LIB/libcarto-auth.a" \
      "lrwxrwxrwx root/root $LIB/libcarto-auth.so -> libcarto-auth.so.0" \
      "-rw-r--r-- root/root usr/share/doc/carto-auth-dev/copyright" \
      "-rw-r--r-- root/root usr/share/doc/carto-auth-dev/changelog.Debian.gz"; do
    grep -qxF -- "$want" <<<"$files" || { echo "FAIL: carto-auth-dev lacks: $want" >&2; return 1; }
  done
  assert_not_contains "$files" "usr/bin/" "no executable in -dev"
}
t_case "carto-auth-dev: header, pkg-config file, static library, .so link" case_dev_files

ROOT=$TEST_TMP/root
dpkg-deb -x "$DEB" "$ROOT"
dpkg-deb -x "$DEV" "$ROOT"

case_binaries() {
  local f
  for f in usr/bin/carto-auth "$LIB/libcarto-auth.so.$VERSION" "$LIB"/carto-auth/carto-auth-{net,keyring}.so; do
    assert_file_exists "$ROOT/$f"
    if readelf -S "$ROOT/$f" | grep -q ' \.symtab '; then echo "FAIL: $f is not stripped" >&2; return 1; fi
    if readelf -S "$ROOT/$f" | grep -q ' \.debug_'; then echo "FAIL: $f has debug sections" >&2; return 1; fi
    if readelf -d "$ROOT/$f" | grep -qE 'RPATH|RUNPATH'; then echo "FAIL: $f has an RPATH" >&2; return 1; fi
  done
  # gzip -9n: no file name, no time stamp (bytes 4-7 of the header).
  for f in usr/share/man/man1/carto-auth.1.gz usr/share/doc/carto-auth/changelog.Debian.gz; do
    assert_eq "0 0 0 0" "$(od -An -tu1 -j4 -N4 "$ROOT/$f" | xargs)" "$f has no time stamp"
    assert_eq "0" "$(( $(od -An -tu1 -j3 -N1 "$ROOT/$f") & 8 ))" "$f has no file name"
  done
  assert_contains "$(zcat "$ROOT/usr/share/doc/carto-auth/changelog.Debian.gz" | head -n 1)" \
    "carto-auth ($VERSION-1)" "the changelog names this version"
}
t_case "stripped, no RPATH; manual page and changelog gzip -9n" case_binaries

case_lintian() {
  local out
  out=$(lintian --no-cfg --tag-display-limit 0 "$DEB" "$DEV" 2>&1 | grep -v 'running with root privileges') || true
  printf '%s\n' "$out" | grep -E '^[EW]: ' >&2 || true
  echo "lintian: $(grep -c '^E: ' <<<"$out" || true) errors, $(grep -c '^W: ' <<<"$out" || true) warnings"
  [ -z "$(grep '^E: ' <<<"$out")" ] || { echo "FAIL: lintian reports errors" >&2; return 1; }
}
if command -v lintian >/dev/null; then
  t_case "lintian reports no error" case_lintian
else
  t_skip "lintian reports no error" "lintian is not installed (scripts/deps.sh)"
fi

# --- the unpacked package works --------------------------------------------------

standin_start
make_creds_file "$TEST_TMP/creds.json" "$STANDIN_CLIENT_1" "$STANDIN_SECRET_1" "$STANDIN_URL"

case_unpacked_runs() {
  local exe=$ROOT/usr/bin/carto-auth
  _t_capture "" "$exe" --version
  assert_rc 0
  assert_eq "carto-auth $VERSION" "$OUT"
  # No module beside the executable: it must find them at ../lib/<multiarch>/carto-auth.
  _t_capture "" "$exe" --debug token --m2m "$TEST_TMP/creds.json"
  assert_rc 0
  assert_match "$OUT" '^eyJ' "a token"
  assert_contains "$ERR" "module: loaded $ROOT/usr/bin/../lib/$MULTIARCH/carto-auth/carto-auth-net.so" \
    "the network module from the package's libdir"
  _t_capture "" "$ROOT/usr/bin/git-credential-carto" --version
  assert_eq "carto-auth $VERSION" "$OUT" "git-credential-carto runs"
}
t_case "unpacked: carto-auth finds its modules under /usr/lib/<multiarch>/carto-auth, gets a token" \
  case_unpacked_runs

# The keyring module, in a private D-Bus session with a fresh gnome-keyring
# (tests/keyring_session.sh; 77 when its tools are missing).
_t_capture "" "$TESTS_DIR/keyring_session.sh" env CARTO_AUTH_STORE=keyring \
  "$ROOT/usr/bin/carto-auth" --debug status
KEYRING_RC=$RC KEYRING_ERR=$ERR
case_unpacked_keyring() {
  RC=$KEYRING_RC ERR=$KEYRING_ERR
  assert_rc 0
  assert_contains "$ERR" "module: loaded $ROOT/usr/bin/../lib/$MULTIARCH/carto-auth/carto-auth-keyring.so" \
    "the keyring module from the package's libdir"
}
if [ "$KEYRING_RC" -eq 77 ]; then
  t_skip "unpacked: the keyring module" "no keyring session: $KEYRING_ERR"
else
  t_case "unpacked: carto-auth loads its keyring module from /usr/lib/<multiarch>/carto-auth" \
    case_unpacked_keyring
fi

case_unpacked_docs() {
  local pc
  man -l "$ROOT/usr/share/man/man1/carto-auth.1.gz" 2>/dev/null | head -n 1 >"$TEST_TMP/man.head"
  assert_contains "$(cat "$TEST_TMP/man.head")" "CARTO-AUTH(1)" "man -l renders the gzipped page"
  local inc
  pc=$ROOT/$LIB/pkgconfig
  assert_eq "$VERSION" "$(PKG_CONFIG_PATH=$pc pkg-config --modversion carto-auth)"
  # The .pc names its prefix relative to itself: the unpacked tree's.
  inc=$(PKG_CONFIG_PATH=$pc pkg-config --variable=includedir carto-auth)
  assert_eq "$ROOT/usr/include" "$(realpath "$inc")" "pkg-config's includedir"
  assert_contains "$(PKG_CONFIG_PATH=$pc pkg-config --cflags carto-auth)" "-I$inc" "pkg-config --cflags"
  assert_file_exists "$inc/carto-auth/carto_auth.h"
}
t_case "unpacked: man -l renders the manual page; pkg-config finds the .pc" case_unpacked_docs

# --- installed for real, in a throwaway overlay ---------------------------------

# As root with unshare and overlayfs: /usr, /etc and /var get overlays whose
# upper layers are in $TEST_TMP, in a private mount namespace, so apt and
# dpkg change nothing of this machine.
can_overlay() {
  [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v apt-get >/dev/null || return 1
  mkdir -p "$TEST_TMP/probe/u" "$TEST_TMP/probe/w"
  unshare -m sh -c 'mount -t overlay overlay -o "lowerdir=/usr,upperdir=$1/u,workdir=$1/w" /usr' _ \
    "$TEST_TMP/probe" 2>/dev/null
}

case_apt_install() {
  # Fails when carto-auth is installed on this machine already: then the
  # check would prove nothing.
  if dpkg-query -W -f='${Status}' carto-auth 2>/dev/null | grep -q 'ok installed'; then
    echo "carto-auth is installed on this machine; the check needs it absent" >&2
    return 1
  fi
  cat >"$TEST_TMP/in-overlay.sh" <<'SCRIPT'
set -eu
T=$1 DEB=$2 DEV=$3 CREDS=$4
for d in usr etc var; do
  mkdir -p "$T/ov/$d/u" "$T/ov/$d/w"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/ov/$d/u,workdir=$T/ov/$d/w" "/$d"
done
export DEBIAN_FRONTEND=noninteractive
echo "== apt install"
# As the README says it: apt install ./carto-auth_*.deb (the dependencies
# are on this machine already: nothing is downloaded).
cd "$(dirname "$DEB")"
apt-get install -y -q --no-install-recommends "./$(basename "$DEB")" "./$(basename "$DEV")" >"$T/apt.log" 2>&1 ||
  { cat "$T/apt.log"; exit 1; }
echo "== version"; carto-auth --version
echo "== which"; command -v git-credential-carto
echo "== token"; carto-auth token --m2m "$CREDS" | cut -c1-3
echo "== git"
printf 'protocol=https\nhost=x.api.carto.com\n\n' |
  git -c credential.helper= -c "credential.helper=carto --m2m $CREDS" credential fill |
  sed -n 's/^password=\(...\).*/password=\1/p'
echo "== man"; MANPAGER=cat man carto-auth 2>/dev/null | head -n 1 | tr -s ' '
echo "== pkg-config"; pkg-config --modversion carto-auth; pkg-config --cflags carto-auth
echo "== dpkg -L"; dpkg -L carto-auth | grep -c .
echo "== apt remove"
apt-get remove -y -q carto-auth-dev carto-auth >>"$T/apt.log" 2>&1 || { cat "$T/apt.log"; exit 1; }
test ! -e /usr/bin/carto-auth && echo gone
tail -n 3 "$T/apt.log" >&2
SCRIPT
  _t_capture "" unshare -m bash "$TEST_TMP/in-overlay.sh" "$TEST_TMP" "$DEB" "$DEV" "$TEST_TMP/creds.json"
  printf '%s\n' "$OUT" | sed 's/^/  /'
  assert_rc 0
  assert_contains "$OUT" $'== version\ncarto-auth '"$VERSION"
  assert_contains "$OUT" $'== which\n/usr/bin/git-credential-carto'
  assert_contains "$OUT" $'== token\neyJ'
  assert_contains "$OUT" $'== git\npassword=eyJ'
  assert_contains "$OUT" $'== man\nCARTO-AUTH(1)'
  assert_contains "$OUT" $'== pkg-config\n'"$VERSION"
  assert_contains "$OUT" $'== apt remove\ngone'
  # The machine is as it was.
  [ ! -e /usr/bin/carto-auth ] || { echo "FAIL: /usr/bin/carto-auth left on the machine" >&2; return 1; }
  ! dpkg-query -W -f='${Status}' carto-auth 2>/dev/null | grep -q 'ok installed'
}
if can_overlay; then
  t_case "apt install ./carto-auth_*.deb in an overlay: runs, git, man, pkg-config; apt remove" \
    case_apt_install
else
  t_skip "apt install in an overlay" "needs root, unshare and overlayfs"
fi

t_done
