#!/bin/bash
# Builds the Debian packages carto-auth_<version>_<arch>.deb and
# carto-auth-dev_<version>_<arch>.deb in build-deb/ (or $1):
#   scripts/deb.sh && sudo apt install ./build-deb/carto-auth_*.deb
# The tree is configured for /usr (multiarch libdir) with CARTO_AUTH_DEB=ON;
# cmake/Packaging.cmake holds the package metadata.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build-deb}
command -v dpkg-shlibdeps >/dev/null || {
  echo "deb.sh needs dpkg-shlibdeps: apt-get install dpkg-dev" >&2
  exit 1
}
cmake -S . -B "$out" -DCMAKE_INSTALL_PREFIX=/usr -DCARTO_AUTH_DEB=ON -DBUILD_TESTING=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$out" -j"$(nproc)"
rm -f "$out"/*.deb
(cd "$out" && cpack -G DEB)
ls -l "$out"/*.deb
if command -v lintian >/dev/null; then
  lintian "$out"/*.deb || true
fi
