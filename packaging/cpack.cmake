# SPDX-License-Identifier: MIT
# `cpack -G DEB` in a build tree: a Debian package with the programs, the data
# files, the systemd unit, the sysusers.d entry, the default configuration (a
# conffile) and the man pages; postinst creates the service user and the state
# directory (tmpfiles.d). Paths are the
# build's own (ExecStart is configured from them): build with
# -DCMAKE_INSTALL_PREFIX=/usr for a package that follows Debian policy (`make deb`).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cloudfact)
set(CPACK_PACKAGE_VENDOR "cloudfact")
set(CPACK_PACKAGE_CONTACT "cloudfact maintainers <cloudfact@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "news articles to evidence-backed cloud-market facts")
set(CPACK_PACKAGE_DESCRIPTION
    "cloudfactd takes news articles from scrapers over ZeroMQ, archives them in SQLite,\nextracts normalized facts about the cloud-computing market in worker processes\nand publishes each fact; cloudfact is its command line.")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Beyond what the programs link: libevent with Debian 12's evhttp/evbuffer security
# fixes (the daemon serves HTTP; STACK.md), and procps for the unit's ExecReload
# (/bin/kill). dpkg-shlibdeps, when present, appends the libraries it finds.
# postinst makes the user with systemd-sysusers, or adduser without systemd.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libevent-2.1-7 (>= 2.1.12-stable-8+deb12u1), procps, systemd | adduser")
find_program(CF_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(CF_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  string(APPEND CPACK_DEBIAN_PACKAGE_DEPENDS
         ", libzmq5, libevent-pthreads-2.1-7, libmsgpackc2, libsqlite3-0, libjansson4, libinih1")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")

set(CF_PKG_SYSUSERS ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d/cloudfact.conf)
set(CF_PKG_TMPFILES ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d/cloudfact.conf)
set(CF_PKG_CONFFILE ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cloudfact/cloudfactd.conf)
foreach(script postinst prerm postrm conffiles)
  # modes come from CONTROL_STRICT_PERMISSION: 0755 scripts, 0644 conffiles
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${script}.in ${CMAKE_BINARY_DIR}/packaging/${script}
                 @ONLY)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/packaging/postinst ${CMAKE_BINARY_DIR}/packaging/prerm
    ${CMAKE_BINARY_DIR}/packaging/postrm ${CMAKE_BINARY_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
