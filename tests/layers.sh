#!/bin/bash
# The include rules of the layers (docs/design.md, "Layers"): each folder
# names its build unit, and a file may include only the folders below it.
# Run by ctest as unit.layers; prints every include that breaks a rule.
set -euo pipefail
cd "$(dirname "$0")/.."

# folder (the longest match wins) -> the include prefixes it may use
declare -A ALLOWED=(
  [util]="util/ carto-auth/"
  [protocol]="protocol/ util/"
  [token]="token/ util/"
  [keyring]="keyring/store.h keyring/module.h keyring/fingerprint.h token/ util/"
  [keyring/secret]="keyring/secret/ keyring/store.h keyring/module.h token/ util/"
  [auth]="auth/config.h auth/broker.h auth/module.h protocol/ keyring/store.h keyring/module.h token/ util/"
  [auth/net]="auth/net/ auth/config.h auth/module.h token/ util/"
  [lib]="carto-auth/ lib/ auth/config.h auth/broker.h auth/module.h keyring/store.h keyring/module.h protocol/ token/ util/"
  [helper]="helper/ auth/config.h auth/broker.h auth/module.h keyring/store.h keyring/module.h protocol/ token/ util/"
)

unit_of() {
  local dir=${1%/*} best=
  while [ -n "$dir" ]; do
    if [ -n "${ALLOWED[$dir]+x}" ]; then best=$dir; break; fi
    [ "$dir" = "${dir%/*}" ] && break
    dir=${dir%/*}
  done
  printf '%s' "$best"
}

fail=0 checked=0
while IFS= read -r file; do
  unit=$(unit_of "$file")
  [ -n "$unit" ] || { echo "layers: $file is in no layer (add its folder to tests/layers.sh)"; fail=1; continue; }
  while IFS= read -r inc; do
    checked=$((checked + 1))
    ok=0
    for prefix in ${ALLOWED[$unit]}; do
      case $inc in "$prefix"*) ok=1; break ;; esac
    done
    if [ $ok = 0 ]; then
      echo "layers: $file ($unit) includes \"$inc\", which its layer may not use"
      fail=1
    fi
  done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(git ls-files 'util/*.[ch]' 'protocol/*.[ch]' 'token/*.[ch]' 'keyring/*.[ch]' \
  'auth/*.[ch]' 'lib/*.[ch]' 'helper/*.[ch]' 2>/dev/null || find util protocol token keyring auth lib helper -name '*.[ch]')

if [ $fail = 0 ]; then
  echo "layers: $checked includes follow the rules"
  echo "1 passed, 0 failed"
else
  echo "0 passed, 1 failed"
fi
exit $fail
