#!/bin/bash
# Installs what carto-auth needs to build and test on Debian 12 / Ubuntu.
# As root it runs apt-get; otherwise it prints the command to run.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git python3 python3-venv openssl curl
  libcurl4-openssl-dev libssl-dev libcjson-dev libsecret-1-dev libgcrypt20-dev libyaml-dev libcmocka-dev
  gnome-keyring libsecret-tools dbus python3-dbus libglib2.0-bin
  keepassxc  # test_keepassxc.sh: KeePassXC's Secret Service, headless
  clang valgrind man-db groff-base bash-completion zsh fish lintian
  iproute2 util-linux  # test_url_trust.sh: a network namespace (ip, unshare)
  zbar-tools  # test_qr, test_device_login: read the QR code back (zbarimg)
  gdb  # test_logout_revoke.sh: holds an erase between its read and its write
)

# libFuzzer and clang's sanitizer runtimes (scripts/test.sh's fuzz stage);
# Debian 12's clang only recommends them.
if apt-cache show libclang-rt-14-dev >/dev/null 2>&1; then
  PACKAGES+=(libclang-rt-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "carto-auth needs these packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
