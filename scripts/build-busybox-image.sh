#!/bin/sh
# build-busybox-image.sh OUT.tar [REF]
#
# Builds a small OCI image archive (an OCI image layout in a tar, as
# `podman save --format oci-archive` writes) from the busybox-static
# package's /bin/busybox, without any network: one gzip layer holding
# bin/busybox and a symlink per applet (`busybox --list`), etc/passwd and
# etc/group with root and nobody, root/ and tmp/. The config runs `sh` with
# a PATH. REF (default docker.io/library/busybox:latest) goes into
# index.json's org.opencontainers.image.ref.name annotation, which
# `podagent image import` uses as the image's name.
#
# Every timestamp, owner and order is fixed, so that the same busybox
# binary always gives the same digests. BUSYBOX=PATH picks another binary.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 OUT.tar [REF]" >&2
  exit 2
fi
out=$1
ref=${2:-docker.io/library/busybox:latest}
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "$0: $busybox not found: install the busybox-static package" >&2
  exit 1
fi
case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  amd64 | x86_64) arch=amd64 ;;
  arm64 | aarch64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# --- the root filesystem ---------------------------------------------------
root=$work/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/root" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$root/etc/passwd"
printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$root/etc/group"
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 0755 "$root/bin" "$root/etc" "$root"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

# A tar that depends only on the files' names, contents and modes.
det_tar() { # DIR OUT NAMES...
  dir=$1
  tar_out=$2
  shift 2
  (cd "$dir" && tar --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 \
    --numeric-owner -cf "$tar_out" "$@")
}
sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }

layout=$work/layout
mkdir -p "$layout/blobs/sha256"
det_tar "$root" "$work/layer.tar" bin etc root tmp
diff_id=$(sha "$work/layer.tar")
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
layer=$(sha "$work/layer.tar.gz")
layer_size=$(size "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$layout/blobs/sha256/$layer"

# --- config, manifest, index -----------------------------------------------
blob() { # FILE: moves FILE into blobs/ and prints "DIGEST SIZE"
  d=$(sha "$1")
  s=$(size "$1")
  mv "$1" "$layout/blobs/sha256/$d"
  echo "$d $s"
}
printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z",' "$arch" >"$work/config"
printf '"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],' >>"$work/config"
printf '"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},' "$diff_id" >>"$work/config"
printf '"history":[{"created":"1970-01-01T00:00:00Z","created_by":"build-busybox-image.sh"}]}' >>"$work/config"
set -- $(blob "$work/config")
config=$1
config_size=$2

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' >"$work/manifest"
printf '"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},' \
  "$config" "$config_size" >>"$work/manifest"
printf '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$layer" "$layer_size" >>"$work/manifest"
set -- $(blob "$work/manifest")
manifest=$1
manifest_size=$2

printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[' >"$layout/index.json"
printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,' \
  "$manifest" "$manifest_size" >>"$layout/index.json"
printf '"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' "$ref" >>"$layout/index.json"

case "$out" in /*) ;; *) out=$(pwd)/$out ;; esac
det_tar "$layout" "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "$out: $ref, image id sha256:$config"
