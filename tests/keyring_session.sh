#!/bin/bash
# keyring_session.sh CMD [ARGS...]: run CMD inside a private D-Bus session
# bus with a fresh gnome-keyring whose "login" collection is unlocked (and
# is the default collection).
#
# Nothing of the user's own session is touched: HOME, the XDG folders and
# XDG_RUNTIME_DIR point into a temporary folder (removed afterwards), so the
# keyring files live there, and DISPLAY/WAYLAND_DISPLAY are unset so no
# prompt can appear. CMD sees:
#   CARTO_KEYRING_SESSION=1      (a script can tell it is inside)
#   CARTO_KEYRING_PASSWORD       the login keyring's password
#   CARTO_KEYRING_DIR            the temporary folder
#   DBUS_SESSION_BUS_ADDRESS     the private bus
#
# Needs dbus-run-session (dbus-daemon or dbus-broker), gnome-keyring-daemon,
# and gdbus (libglib2.0-bin). Exits 77 (ctest's skip) when one is missing,
# 1 when the keyring does not come up.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
for tool in dbus-run-session gnome-keyring-daemon gdbus; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "keyring_session.sh: $tool is missing (install dbus, gnome-keyring, libglib2.0-bin)" >&2
    exit 77
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/carto-keyring.XXXXXX")
cleanup() { rm -rf "$dir"; }
trap cleanup EXIT

export HOME=$dir/home XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config \
  XDG_CACHE_HOME=$dir/cache XDG_RUNTIME_DIR=$dir/run
mkdir -m 700 "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" \
  "$XDG_RUNTIME_DIR"
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
export CARTO_KEYRING_SESSION=1 CARTO_KEYRING_DIR=$dir
export CARTO_KEYRING_PASSWORD=carto-test-keyring-pw

# Inside the session: start the daemon with the password on its standard
# input (it creates and unlocks "login"), then wait until it owns
# org.freedesktop.secrets, so that nothing activates a second, locked one.
# CMD's standard error goes straight to ours (fd 3); the bus daemon's and
# the keyring daemon's go through a filter that drops dbus-daemon's
# complaint about the fd limit (when run as root without CAP_SYS_RESOURCE)
# and its notes on a test's dbus-monitor.
inner='
printf %s "$CARTO_KEYRING_PASSWORD" |
  gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null
for _ in $(seq 100); do
  if gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
      -m org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null |
      grep -q true; then
    exec "$@" 2>&3 3>&-
  fi
  sleep 0.05
done
echo "keyring_session.sh: gnome-keyring did not come up on the session bus" >&2
exit 1
'
mkfifo "$dir/daemon-stderr"
grep --line-buffered -v -e 'Failed to set fd limit' -e 'became a monitor' \
  -e 'Monitoring connection .* closed' <"$dir/daemon-stderr" >&2 &
filter=$!
set +e
dbus-run-session -- bash -c "$inner" _ "$@" 3>&2 2>"$dir/daemon-stderr"
rc=$?
wait "$filter"
set -e
exit "$rc"
