#!/usr/bin/env bash
# CI helper for the docker compose test (test/src/compose.test.ts). Idempotent:
#   1. installs Debian's docker.io (dockerd) and docker-compose (v1) when missing;
#   2. starts dockerd in the background when no daemon answers (pid file, log file), waits for it;
#   3. builds the local images the compose file needs without a registry:
#        xensim-base:local  FROM scratch: this machine's node binary and the libraries it links
#        xensim-nats:local  the base plus this machine's nats-server binary
#
# Exit status 0 = docker works and the images exist. When docker cannot be made to work here
# (dockerd does not start: no privileges, no cgroups; packages missing and not root), it exits 3 and
# says why; the test then skips with that reason. Any other failure is an error.
#
# Environment: XENSIM_DOCKER_LOG (default /tmp/xensim-dockerd.log), XENSIM_DOCKER_PIDFILE
# (default /tmp/xensim-dockerd.pid), XENSIM_DOCKER_WAIT_S (default 60).
set -euo pipefail
cd "$(dirname "$0")/.."

log=${XENSIM_DOCKER_LOG:-/tmp/xensim-dockerd.log}
pidfile=${XENSIM_DOCKER_PIDFILE:-/tmp/xensim-dockerd.pid}
wait_s=${XENSIM_DOCKER_WAIT_S:-60}

say() { echo "ci/docker: $*"; }

if [ "$(id -u)" != 0 ] && ! docker info >/dev/null 2>&1; then
  say "no docker daemon answers and not root: cannot start one"
  exit 3
fi

# One at a time (test files may call this concurrently): the second waits, then finds it done.
exec 9>"${XENSIM_DOCKER_LOCK:-/tmp/xensim-docker.lock}"
flock -w 900 9 || { say "could not take the lock"; exit 3; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v nats-server >/dev/null || need+=(nats-server)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "${need[*]} missing and not root: cannot install them"
    exit 3
  fi
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "dockerd (pid $(cat "$pidfile")) is starting"
  else
    say "starting dockerd (log $log)"
    # A stale pid file from a dead daemon keeps dockerd from starting.
    [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null && rm -f /var/run/docker.pid
    # 9>&-: the daemon must not inherit the lock (it would hold it for its whole life).
    nohup dockerd >"$log" 2>&1 9>&- &
    echo $! >"$pidfile"
  fi
  for ((i = 0; i < wait_s * 4; i++)); do
    docker info >/dev/null 2>&1 && break
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      say "dockerd exited; the end of its log:"
      tail -n 20 "$log" || true
      exit 3
    fi
    sleep 0.25
  done
  if ! docker info >/dev/null 2>&1; then
    say "dockerd did not answer within ${wait_s}s; the end of its log:"
    tail -n 20 "$log" || true
    exit 3
  fi
fi
say "docker $(docker version --format '{{.Server.Version}}') is up"

# Build contexts are assembled under a temporary directory: only the files each image needs.
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

node_bin=$(command -v node)
node_bin=$(readlink -f "$node_bin")
want_base=$(sha256sum "$node_bin" | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "xensim.node-sha"}}' xensim-base:local 2>/dev/null)" != "$want_base" ]; then
  say "building xensim-base:local from $node_bin"
  mkdir -p "$ctx/base/rootfs/usr/local/bin" "$ctx/base/rootfs/tmp" "$ctx/base/rootfs/etc"
  cp "$node_bin" "$ctx/base/rootfs/usr/local/bin/node"
  # The loader and every library node links, at the paths ldd names (symlinks resolved).
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*' | sort -u); do
    mkdir -p "$ctx/base/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/base/rootfs$lib"
  done
  # getaddrinfo (service names on the compose network) needs nsswitch's files+dns modules.
  for lib in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 \
    /lib/x86_64-linux-gnu/libresolv.so.2; do
    [ -e "$lib" ] || continue
    mkdir -p "$ctx/base/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/base/rootfs$lib"
  done
  printf 'hosts: files dns\n' >"$ctx/base/rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n' >"$ctx/base/rootfs/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"$ctx/base/rootfs/etc/group"
  if [ -d /etc/ssl/certs ]; then
    mkdir -p "$ctx/base/rootfs/etc/ssl/certs"
    cp -L /etc/ssl/certs/ca-certificates.crt "$ctx/base/rootfs/etc/ssl/certs/" 2>/dev/null || true
  fi
  chmod 1777 "$ctx/base/rootfs/tmp"
  cp deploy/base/Dockerfile "$ctx/base/Dockerfile"
  docker build -q -t xensim-base:local --label "xensim.node-sha=$want_base" "$ctx/base" >/dev/null
fi

nats_bin=$(readlink -f "$(command -v nats-server)")
want_nats=$want_base-$(cat "$nats_bin" deploy/healthprobe.c deploy/nats/Dockerfile | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "xensim.nats-sha"}}' xensim-nats:local 2>/dev/null)" != "$want_nats" ]; then
  say "building xensim-nats:local from $nats_bin"
  mkdir -p "$ctx/nats"
  cp "$nats_bin" "$ctx/nats/nats-server"
  cp deploy/nats/Dockerfile "$ctx/nats/Dockerfile"
  # the health check's probe (static C: no node process per check)
  gcc -static -Os -s -o "$ctx/nats/healthprobe" deploy/healthprobe.c
  docker build -q -t xensim-nats:local --label "xensim.nats-sha=$want_nats" \
    --build-arg BASE_IMAGE=xensim-base:local "$ctx/nats" >/dev/null
fi
say "images: $(docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^xensim-(base|nats):local' | tr '\n' ' ')"
