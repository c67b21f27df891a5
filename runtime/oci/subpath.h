#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/result.h"

// volumeMounts[].subPath and subPathExpr: which part of a volume a
// container mounts. Plain system calls on the calling thread.
namespace podagent::runtime::oci {

// The kubelet's expansion of a subPathExpr: $(NAME) is replaced by the
// value of NAME among `env` ("NAME=value" entries: the container's own
// variables, container_env_vars(), not the image's), $$ is a literal $.
// A referenced variable that is missing or empty is an error naming it
// ("missing value for A, B"), as is an expansion that is absolute or has a
// ".." element (the kubelet's checks after expanding).
base::Result<std::string> expand_sub_path_expr(const std::string& expr,
                                               const std::vector<std::string>& env);

// Resolves relative `sub_path` inside the volume directory `volume_dir`
// and returns the real path to bind-mount. The walk starts at the volume's
// directory and opens one element at a time without following symbolic
// links (O_PATH|O_NOFOLLOW); a link met on the way is expanded by hand:
//  - a relative link is followed while it stays inside the volume (the
//    kubelet follows those too); a ".." above the volume's top is refused;
//  - an absolute link is always refused: on the node it names the node's
//    root, and what the container meant by it is not the volume either.
// A refused path gives `subPath "<sub_path>" is outside of the volume`
// with the element that led out. Missing elements are made as
// directories with the mode of the volume's directory, as the kubelet
// makes them (so a shared emptyDir's 0777 carries over). Before
// returning, the result is checked to be the very file the walk opened.
// What remains open: between this check and the OCI runtime's bind mount,
// a process that can write in the volume (a running container of the pod)
// could swap an element of the path for a link. The kubelet closes that
// window by first bind-mounting the opened file (/proc/self/fd/N) on a
// path of its own; that is not done here.
// REQUIRES: `volume_dir` exists and is trusted (the agent made it).
base::Result<std::filesystem::path> resolve_sub_path(const std::filesystem::path& volume_dir,
                                                     const std::string& sub_path);

}  // namespace podagent::runtime::oci
