# The Debian package, built with `cpack -G DEB` in a build directory:
# podagent_<version>_amd64.deb. The programs go to /usr/bin (install() rules
# beside their targets); the unit, the default configuration (conffiles),
# the manifest directory and the default CNI network are installed here.

install(FILES ${CMAKE_SOURCE_DIR}/config/podagent.service DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/config/podagent.yaml DESTINATION /etc/podagent RENAME config.yaml)
install(FILES ${CMAKE_SOURCE_DIR}/config/cni/10-podagent-bridge.conflist DESTINATION /etc/podagent/cni)
install(DIRECTORY DESTINATION /etc/podagent/manifests)
# A busybox image for a first pod, made on the node from busybox-static.
install(PROGRAMS ${CMAKE_SOURCE_DIR}/scripts/build-busybox-image.sh DESTINATION share/podagent)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/examples/hello.yaml
        DESTINATION share/doc/podagent)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME podagent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "podagent maintainers <podagent@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "node agent that runs Kubernetes pods without a control plane")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # podagent_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "runc | crun, containernetworking-plugins")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "busybox-static")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/config/debian/conffiles
    ${CMAKE_SOURCE_DIR}/config/debian/postinst
    ${CMAKE_SOURCE_DIR}/config/debian/prerm
    ${CMAKE_SOURCE_DIR}/config/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
