/* podagent-private-mounts: runs a program in a private mount namespace from
 * which one mount is gone.
 *
 *   podagent-private-mounts MOUNT PROGRAM [ARG...]
 *
 * crun 1.8 refuses a node with the hybrid cgroup layout (cgroup v1
 * controllers beside a cgroup2 mount such as /sys/fs/cgroup/unified). The
 * oci driver runs it through this program there, with MOUNT the cgroup2
 * mount: in a new mount namespace whose mounts are all private (so nothing
 * done in it reaches the node) MOUNT is detached, and PROGRAM, exec'd with
 * its arguments, sees a plain cgroup v1 node. It is exec'd directly, not
 * looked up in PATH. This program and the runtime it runs are short-lived;
 * the containers' own mount namespaces are made from this one.
 *
 * It replaces a shell script around unshare(1) and umount(8): three exec's
 * of dynamically linked programs less on every runtime call.
 *
 * Exit status: 125 when it fails before the exec (as env(1) and unshare(1)
 * do), 127 when PROGRAM cannot be run; otherwise PROGRAM's.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int fail(const char* what, const char* path, int status) {
  fprintf(stderr, "podagent-private-mounts: %s%s%s: %s\n", what, path ? " " : "", path ? path : "",
          strerror(errno));
  return status;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: podagent-private-mounts MOUNT PROGRAM [ARG...]\n");
    return 125;
  }
  if (unshare(CLONE_NEWNS) != 0) return fail("unshare", NULL, 125);
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return fail("making the mounts private", NULL, 125);
  if (umount2(argv[1], MNT_DETACH) != 0) return fail("unmounting", argv[1], 125);
  execv(argv[2], argv + 2);
  return fail("running", argv[2], 127);
}
