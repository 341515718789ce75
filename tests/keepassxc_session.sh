#!/bin/bash
# keepassxc_session.sh CMD [ARGS...]: run CMD inside a private D-Bus session
# bus where a headless KeePassXC, with a fresh unlocked database, is the
# Secret Service (org.freedesktop.secrets).
#
# Nothing of the user's own session is touched: HOME, the XDG folders and
# XDG_RUNTIME_DIR point into a temporary folder (removed afterwards), so
# KeePassXC's settings and database live there; DISPLAY/WAYLAND_DISPLAY are
# unset and Qt draws offscreen, so no window appears anywhere. The bus is
# started with a configuration of its own that activates nothing: only
# KeePassXC can own org.freedesktop.secrets (gnome-keyring's activation file
# is not read), and CMD starts only once KeePassXC owns that name and its
# database (the collection behind the "default" alias) is unlocked.
#
# The database: made with `keepassxc-cli db-create`, exported to XML, given
# the custom data FDO_SECRETS_EXPOSED_GROUP = its root group (what the
# "Secret Service Integration" page of the database settings writes), and
# imported again with `keepassxc-cli import`. keepassxc.ini turns the
# integration on, its notifications and delete confirmations off, and the
# confirmation of each access off unless CARTO_KEEPASSXC_CONFIRM=1.
#
# CMD sees:
#   CARTO_KEYRING_SESSION=1      (tests/lib.sh keeps the private bus)
#   CARTO_KEEPASSXC_SESSION=1    (a script can tell it is inside this one)
#   CARTO_KEEPASSXC_DB           the database file
#   CARTO_KEEPASSXC_PASSWORD     its password
#   CARTO_KEEPASSXC_PID          KeePassXC's process
#   CARTO_KEEPASSXC_LOG          KeePassXC's output
#   CARTO_KEYRING_DIR            the temporary folder
#   DBUS_SESSION_BUS_ADDRESS     the private bus
#
# With CARTO_KEEPASSXC_CRASH_LOG set, a KeePassXC that ended before CMD did
# adds a line to that file (so a test can tell KeePassXC's own crash from
# a failure of ours).
#
# Needs dbus-run-session (dbus-daemon), keepassxc and keepassxc-cli (Debian's
# keepassxc), gdbus (libglib2.0-bin). Exits 77 (ctest's skip) when one is
# missing, 1 when KeePassXC does not come up.
set -euo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
for tool in dbus-run-session dbus-daemon keepassxc keepassxc-cli gdbus base64 od; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "keepassxc_session.sh: $tool is missing (install dbus, keepassxc, libglib2.0-bin)" >&2
    exit 77
  fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/carto-keepassxc.XXXXXX")
# KeePassXC outlives its bus: whatever way this script ends, it ends it.
cleanup() {
  local pid
  pid=$(cat "$dir/keepassxc.pid" 2>/dev/null || true)
  [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

export HOME=$dir/home XDG_DATA_HOME=$dir/data XDG_CONFIG_HOME=$dir/config \
  XDG_CACHE_HOME=$dir/cache XDG_RUNTIME_DIR=$dir/run
mkdir -m 700 "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" \
  "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/keepassxc"
unset DISPLAY WAYLAND_DISPLAY GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
export QT_QPA_PLATFORM=offscreen
export CARTO_KEYRING_SESSION=1 CARTO_KEEPASSXC_SESSION=1 CARTO_KEYRING_DIR=$dir
export CARTO_KEEPASSXC_PASSWORD=carto-test-keepassxc-pw
export CARTO_KEEPASSXC_DB=$dir/secrets.kdbx CARTO_KEEPASSXC_LOG=$dir/keepassxc.log

confirm=false
[ "${CARTO_KEEPASSXC_CONFIRM:-0}" = 1 ] && confirm=true
cat >"$XDG_CONFIG_HOME/keepassxc/keepassxc.ini" <<EOF
[General]
SingleInstance=false
RememberLastDatabases=false
RememberLastKeyFiles=false
OpenPreviousDatabasesOnStartup=false
UpdateCheckMessageShown=true

[GUI]
CheckForUpdates=false
ShowTrayIcon=false

[FdoSecrets]
Enabled=true
ShowNotification=false
ConfirmDeleteItem=false
ConfirmAccessItem=$confirm
UnlockBeforeSearch=false
EOF

# The database, its root group exposed. A short key derivation (100 ms):
# the test unlocks it once.
pw2=$(printf '%s\n%s\n' "$CARTO_KEEPASSXC_PASSWORD" "$CARTO_KEEPASSXC_PASSWORD")
if ! printf '%s' "$pw2" | keepassxc-cli db-create -q --set-password -t 100 "$dir/plain.kdbx" \
    >"$dir/cli.log" 2>&1 ||
   ! printf '%s\n' "$CARTO_KEEPASSXC_PASSWORD" |
     keepassxc-cli export -q -f xml "$dir/plain.kdbx" >"$dir/plain.xml" 2>>"$dir/cli.log"; then
  echo "keepassxc_session.sh: keepassxc-cli cannot make a database:" >&2
  cat "$dir/cli.log" >&2
  exit 1
fi
root_b64=$(sed -n '/<Root>/,/<\/UUID>/s/.*<UUID>\(.*\)<\/UUID>.*/\1/p' "$dir/plain.xml" | head -n 1)
root_hex=$(printf '%s' "$root_b64" | base64 -d | od -An -tx1 | tr -d ' \n')
if [ ${#root_hex} -ne 32 ]; then
  echo "keepassxc_session.sh: no root group in keepassxc-cli's export" >&2
  exit 1
fi
root_uuid="{${root_hex:0:8}-${root_hex:8:4}-${root_hex:12:4}-${root_hex:16:4}-${root_hex:20:12}}"
sed "s|</Meta>|<CustomData><Item><Key>FDO_SECRETS_EXPOSED_GROUP</Key><Value>$root_uuid</Value></Item></CustomData></Meta>|" \
  "$dir/plain.xml" >"$dir/exposed.xml"
if ! printf '%s' "$pw2" | keepassxc-cli import -q -p -t 100 "$dir/exposed.xml" \
    "$CARTO_KEEPASSXC_DB" >>"$dir/cli.log" 2>&1; then
  echo "keepassxc_session.sh: keepassxc-cli import failed:" >&2
  cat "$dir/cli.log" >&2
  exit 1
fi
rm -f "$dir/plain.kdbx" "$dir/plain.xml" "$dir/exposed.xml"

# A bus that activates nothing, so that only KeePassXC can answer.
cat >"$dir/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir=$dir/run</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF

# Inside the session: start KeePassXC with the password on its standard
# input, wait until it (its process, not another) owns org.freedesktop.secrets
# and the default collection is unlocked, run CMD, then end KeePassXC.
inner='
printf "%s\n" "$CARTO_KEEPASSXC_PASSWORD" |
  keepassxc --pw-stdin "$CARTO_KEEPASSXC_DB" >"$CARTO_KEEPASSXC_LOG" 2>&1 &
export CARTO_KEEPASSXC_PID=$!
echo "$CARTO_KEEPASSXC_PID" >"$CARTO_KEYRING_DIR/keepassxc.pid"
stop_keepassxc() {
  kill -TERM "$CARTO_KEEPASSXC_PID" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$CARTO_KEEPASSXC_PID" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$CARTO_KEEPASSXC_PID" 2>/dev/null || true
}
ready() {
  gdbus call --session -d org.freedesktop.DBus -o /org/freedesktop/DBus \
    -m org.freedesktop.DBus.GetConnectionUnixProcessID org.freedesktop.secrets 2>/dev/null |
    grep -qx "(uint32 $CARTO_KEEPASSXC_PID,)" &&
  gdbus call --session -d org.freedesktop.secrets -o /org/freedesktop/secrets/aliases/default \
    -m org.freedesktop.DBus.Properties.Get org.freedesktop.Secret.Collection Locked 2>/dev/null |
    grep -q "<false>"
}
for _ in $(seq 200); do
  if ready; then
    set +e
    "$@" 2>&3 3>&-
    rc=$?
    # KeePassXC gone (or a zombie) before its end: it crashed (2.7.4 does,
    # now and then, while serving a store), unless CMD ended it on purpose.
    state=$(sed -n "s/^State:[[:space:]]*\([A-Z]\).*/\1/p" "/proc/$CARTO_KEEPASSXC_PID/status" 2>/dev/null)
    if [ -n "${CARTO_KEEPASSXC_CRASH_LOG:-}" ] && { [ -z "$state" ] || [ "$state" = Z ]; }; then
      echo "KeePassXC, pid $CARTO_KEEPASSXC_PID, ended during the run" >>"$CARTO_KEEPASSXC_CRASH_LOG"
    fi
    stop_keepassxc
    exit "$rc"
  fi
  kill -0 "$CARTO_KEEPASSXC_PID" 2>/dev/null || break
  sleep 0.05
done
echo "keepassxc_session.sh: KeePassXC did not come up as the Secret Service:" >&3
cat "$CARTO_KEEPASSXC_LOG" >&3
stop_keepassxc
exit 1
'
mkfifo "$dir/daemon-stderr"
grep --line-buffered -v -e 'Failed to set fd limit' -e 'became a monitor' \
  -e 'Monitoring connection .* closed' <"$dir/daemon-stderr" >&2 &
filter=$!
set +e
dbus-run-session --config-file="$dir/bus.conf" -- bash -c "$inner" _ "$@" 3>&2 2>"$dir/daemon-stderr"
rc=$?
wait "$filter"
set -e
exit "$rc"
