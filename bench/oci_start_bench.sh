#!/usr/bin/env bash
# Pod start latency and per-pod memory of `podagent run` with the real oci
# backend (runc + podagent-monitor), against `podman kube play` on the same machine in
# the same run (issue 5). As root.
#
#   bench/oci_start_bench.sh [runs [pods]]   # default 30 rounds, 100 pods (0: no density)
#   PODAGENT_BENCH_DIR=dir bench/oci_start_bench.sh
#   PODAGENT_BENCH_LOG=debug bench/oci_start_bench.sh   # the agent's log level
#   PODMAN_FULL_RUNS=n bench/oci_start_bench.sh   # podman rounds of the pod with its
#                                                 # init container (default: runs)
#   PODAGENT_BENCH_CNI=1 bench/oci_start_bench.sh # the agent's pods on a bridge network
#                                                 # (CNI bridge + host-local + portmap, as the
#                                                 # default network); otherwise loopback only
#   PODAGENT_BENCH_RUNTIME=crun bench/oci_start_bench.sh  # the agent's OCI runtime (runc)
#
# It builds podagent, its helpers (podagent-pause, podagent-private-mounts,
# podagent-monitor) and agent_oci_start_bench (Release),
# installs podman and catatonit (podman's infra process) with apt-get when
# missing, builds the busybox image (scripts/build-busybox-image.sh),
# imports it into a temporary agent state directory (`podagent image import`)
# and into a temporary podman storage (`podman load`), starts the agent
# with a temporary configuration (state, manifest and pod log directories,
# API socket) and runs agent_oci_start_bench twice: `start` (rounds of one
# pod each, agent then podman) and `density` (that many pods at once, then
# the PSS of the processes they cost). See bench/README.md.
#
# podman needs a containers.conf here: root lacks CAP_SYS_RESOURCE (podman's
# default ulimits would fail) and crun refuses the hybrid cgroup layout.
#
# Prints figures; asserts nothing. Targets: median < 100 ms, p99 < 200 ms,
# at least 5x faster than podman.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-30}"
pods="${2:-100}"
podman_full_runs="${PODMAN_FULL_RUNS:-$runs}"
build="${PODAGENT_BENCH_DIR:-build-release}"
log_level="${PODAGENT_BENCH_LOG:-info}"
oci_runtime="${PODAGENT_BENCH_RUNTIME:-runc}"
[[ "$(id -u)" == 0 ]] || { echo "oci_start_bench.sh: run as root" >&2; exit 1; }
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v catatonit >/dev/null || missing+=(catatonit)
if [[ ${#missing[@]} -gt 0 ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPODAGENT_TESTS=OFF -DPODAGENT_BENCH=ON
fi
ninja -C "$build" -j2 podagent podagent-pause podagent-private-mounts podagent-monitor agent_oci_start_bench

work="$(mktemp -d /tmp/podagent-oci-bench-XXXXXX)"
agent_pid=""
podman_cmd=(podman --root "$work/podman/root" --runroot "$work/podman/run")
export CONTAINERS_CONF="$work/containers.conf"

cleanup() {
  set +e
  # Pods outlive the agent by design: delete them through it first.
  if [[ -n "$agent_pid" ]]; then
    rm -f "$work"/manifests/*.yaml
    for _ in $(seq 1 300); do
      [[ -z "$(curl -s --unix-socket "$work/api.sock" http://localhost/api/v1/pods |
        grep -o '"name":"[^"]*-bench"')" ]] && break
      sleep 0.1
    done
    kill -TERM "$agent_pid" 2>/dev/null
    wait "$agent_pid"
  fi
  # Whatever is left (an interrupted run): containers, then mounts.
  local root="$work/state/oci/run/$oci_runtime/runtime"
  if [[ -d "$root" ]]; then
    for id in $("$oci_runtime" --root "$root" list -q 2>/dev/null); do
      "$oci_runtime" --root "$root" delete --force "$id" 2>/dev/null
    done
  fi
  "${podman_cmd[@]}" pod rm -f -a >/dev/null 2>&1
  "${podman_cmd[@]}" rm -f -a >/dev/null 2>&1
  [[ -n "${bridge:-}" ]] && ip link del "$bridge" 2>/dev/null
  awk -v w="$work" '$2 ~ "^" w { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m"
  done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/manifests" "$work/staging" "$work/podman"
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
# The pods' network: none (an empty CNI directory, whatever the node's
# /etc/podagent/cni holds), or a bridge of the bench's own.
bridge="pabench$$"
mkdir -p "$work/cni"
if [[ -n "${PODAGENT_BENCH_CNI:-}" ]]; then
  cat >"$work/cni/10-bench.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "bench", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.214.0.0/16"}]], "dataDir": "$work/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
fi
cat >"$work/config.yaml" <<EOF
nodeName: bench
manifestDir: $work/manifests
stateDir: $work/state
podLogsDir: $work/logs
logLevel: $log_level
api:
  socket: $work/api.sock
runtime: {backend: oci, ociRuntime: $oci_runtime}
cni: {confDir: $work/cni}
maxPods: $((pods + 10))
nodeAllocatable: {cpu: "1000", memory: 1Ti}
EOF

image="$work/busybox.tar"
bash scripts/build-busybox-image.sh "$image" docker.io/library/busybox:latest >/dev/null
"$build/agent/podagent" image import --config "$work/config.yaml" "$image" >/dev/null
"${podman_cmd[@]}" load -i "$image" >/dev/null 2>&1

"$build/agent/podagent" run --config "$work/config.yaml" 2>"$work/agent.log" &
agent_pid=$!
for _ in $(seq 1 200); do
  grep -q "podagent started" "$work/agent.log" && break
  sleep 0.05
done
grep -q "podagent started" "$work/agent.log" || { cat "$work/agent.log"; exit 1; }

common=(--socket "$work/api.sock" --manifests "$work/manifests" --staging "$work/staging"
  --node bench --runtime "$oci_runtime" --podman-root "$work/podman/root" --podman-runroot "$work/podman/run")
# podman builds its pause image on the first pod: not part of any round.
sed 's/^  name: .*/  name: warmup/' >"$work/staging/warmup.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: warmup
spec:
  containers:
  - {name: c, image: docker.io/library/busybox:latest, imagePullPolicy: Never, command: ["true"]}
EOF
"${podman_cmd[@]}" kube play --network none "$work/staging/warmup.yaml" >/dev/null 2>&1 || true
"${podman_cmd[@]}" pod rm -f warmup >/dev/null 2>&1 || true

network="loopback only"
[[ -n "${PODAGENT_BENCH_CNI:-}" ]] && network="CNI bridge $bridge"
echo "== start: $runs rounds (podagent $build, log level $log_level; $(nproc) cores; agent pods: $network)"
"$build/bench/agent_oci_start_bench" start "${common[@]}" --runs "$runs" \
  --podman-full-runs "$podman_full_runs"
if [[ "$pods" -gt 0 ]]; then
  echo "== density: $pods pods each"
  "$build/bench/agent_oci_start_bench" density "${common[@]}" --pods "$pods" \
    --agent-pid "$agent_pid" --state-dir "$work/state"
fi
if [[ -n "${PODAGENT_BENCH_KEEP_LOG:-}" ]]; then cp "$work/agent.log" "$PODAGENT_BENCH_KEEP_LOG"; fi
