# Debian packages: carto-auth (the executable, git-credential-carto, the
# library, its modules, manual page, completion, Python drop-in) and
# carto-auth-dev (header, pkg-config file, static library, the .so link).
#
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr -DCARTO_AUTH_DEB=ON
#   cmake --build build-deb && (cd build-deb && cpack -G DEB)
#
# scripts/deb.sh does exactly that. The prefix must be /usr when
# configuring: GNUInstallDirs then picks the multiarch libdir
# (lib/x86_64-linux-gnu), and the executable looks for its modules at
# <prefix>/<libdir>/carto-auth/ relative to itself.

option(CARTO_AUTH_DEB "Lay out the install for a Debian package (gzipped manual page, /usr/share/doc files)" OFF)
set(CARTO_AUTH_DEB_MAINTAINER "carto-auth developers <dev@carto-auth.invalid>"
  CACHE STRING "Maintainer field of the Debian packages")
set(CARTO_AUTH_DEB_REVISION 1 CACHE STRING "Debian revision of the packages")

# git-credential-carto gets the completion of carto-auth: the shells load
# completion by command name.
file(MAKE_DIRECTORY ${CMAKE_BINARY_DIR}/completion)
file(CREATE_LINK carto-auth ${CMAKE_BINARY_DIR}/completion/git-credential-carto SYMBOLIC)
file(CREATE_LINK carto-auth.fish ${CMAKE_BINARY_DIR}/completion/git-credential-carto.fish SYMBOLIC)

if(CARTO_AUTH_DEB)
  if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    message(WARNING "CARTO_AUTH_DEB: configure with -DCMAKE_INSTALL_PREFIX=/usr "
      "(now ${CMAKE_INSTALL_PREFIX}); the package installs under /usr")
  endif()
  find_program(GZIP_EXECUTABLE gzip REQUIRED)
  set(DEB_DIR ${CMAKE_BINARY_DIR}/deb)
  set(DEB_VERSION ${PROJECT_VERSION}-${CARTO_AUTH_DEB_REVISION})
  set(DEB_MAINTAINER ${CARTO_AUTH_DEB_MAINTAINER})
  # string(TIMESTAMP) honours SOURCE_DATE_EPOCH (reproducible builds).
  string(TIMESTAMP DEB_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/changelog.in ${DEB_DIR}/changelog.Debian @ONLY)

  # Debian wants gzip -9n (no name, no time stamp) for the manual page and
  # the changelog.
  add_custom_command(OUTPUT ${DEB_DIR}/carto-auth.1.gz ${DEB_DIR}/changelog.Debian.gz
    COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/docs/carto-auth.1 ${DEB_DIR}/carto-auth.1
    COMMAND ${GZIP_EXECUTABLE} -9nf ${DEB_DIR}/carto-auth.1
    COMMAND ${CMAKE_COMMAND} -E copy ${DEB_DIR}/changelog.Debian ${DEB_DIR}/changelog.Debian.copy
    COMMAND ${GZIP_EXECUTABLE} -9nf ${DEB_DIR}/changelog.Debian
    COMMAND ${CMAKE_COMMAND} -E rename ${DEB_DIR}/changelog.Debian.copy ${DEB_DIR}/changelog.Debian
    DEPENDS ${CMAKE_SOURCE_DIR}/docs/carto-auth.1 ${DEB_DIR}/changelog.Debian
    VERBATIM)
  add_custom_target(carto-auth-deb-files ALL
    DEPENDS ${DEB_DIR}/carto-auth.1.gz ${DEB_DIR}/changelog.Debian.gz)
  file(CREATE_LINK carto-auth.1.gz ${DEB_DIR}/git-credential-carto.1.gz SYMBOLIC)
  set(CARTO_AUTH_DEB_MANPAGES ${DEB_DIR}/carto-auth.1.gz ${DEB_DIR}/git-credential-carto.1.gz)

  foreach(comp runtime dev)
    if(comp STREQUAL "runtime")
      set(pkg carto-auth)
    else()
      set(pkg carto-auth-dev)
    endif()
    install(FILES ${CMAKE_SOURCE_DIR}/packaging/copyright ${DEB_DIR}/changelog.Debian.gz
      DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${pkg} COMPONENT ${comp})
  endforeach()
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME carto-auth)
set(CPACK_PACKAGE_VENDOR "carto-auth developers")
set(CPACK_PACKAGE_CONTACT ${CARTO_AUTH_DEB_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_COMPONENT_DEV_DEPENDS runtime)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CARTO_AUTH_DEB_REVISION})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${CARTO_AUTH_DEB_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Depends from dpkg-shlibdeps (libcurl4, libcjson1, libsecret-1-0, ...);
# carto-auth-dev depends on carto-auth of the same version.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME carto-auth)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_RECOMMENDS "git")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SUGGESTS "gnome-keyring | keepassxc")
# libcarto-auth is public: ldconfig runs by trigger (CPack's postinst and
# postrm call it too, which lintian only warns about).
set(CPACK_DEBIAN_RUNTIME_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/triggers)
# The first line of a description is the synopsis (CPACK_PACKAGE_DESCRIPTION_SUMMARY
# stays unset, or CPack would put it before).
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "credential helper for CARTO access tokens
carto-auth hands out CARTO access tokens to command-line tools, IDE
plugins, scripts and git, over git's key=value credential protocol
(git-credential-carto). It logs in when needed, with OAuth and PKCE in the
browser or with machine-to-machine credentials, renews tokens before they
expire, and keeps them in the desktop keyring (Secret Service) or in
~/.carto-auth.

This package holds the carto-auth executable, the git credential helper,
the libcarto-auth shared library, the manual page, completion for bash,
zsh and fish, and a Python drop-in for the carto-auth package.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME carto-auth-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# carto-auth.pc's Requires.private and the static library need these
# (pkg-config --cflags carto-auth reads their .pc files).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libcurl4-openssl-dev | libcurl-dev, libssl-dev, libcjson-dev, libsecret-1-dev, libgcrypt20-dev, libyaml-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION "credential helper for CARTO access tokens (development files)
carto-auth hands out CARTO access tokens to command-line tools, IDE
plugins, scripts and git. Its C library, libcarto-auth, gives native
programs the same tokens.

This package holds the C header, the pkg-config file, the static library
and the link to the shared library.")

include(CPack)
