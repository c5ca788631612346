#!/bin/sh
# Start a swarmlab node: seal it, then run its inner Docker engine.
# Everything comes from the environment the controller sets:
#   SWARMLAB_UNDERLAY        the lab's underlay subnet (the only place eth0 may send to)
#   SWARMLAB_OVERLAY_POOL    the range Swarm allocates overlay subnets from
#   SWARMLAB_BIP             the inner docker0 address (CIDR)
#   SWARMLAB_LOCAL_POOL      the inner engine's default address pool (local networks)
#   SWARMLAB_CGROUP_PARENT   a cgroup path that is distinct for every node on the host
#   SWARMLAB_SSHD            1 to start sshd (for the SSH provider's tests)
set -eu

: "${SWARMLAB_UNDERLAY:?}" "${SWARMLAB_OVERLAY_POOL:?}" "${SWARMLAB_BIP:?}"
: "${SWARMLAB_LOCAL_POOL:?}" "${SWARMLAB_CGROUP_PARENT:?}"

# Sealing. Nothing the node or its tasks send may leave the lab:
# - overlay addresses never follow the default route out of the node;
# - forwarded (tasks) and local (engine, resolver) traffic on eth0 may only
#   go to the underlay; anything else is rejected at once (no slow time-outs).
ip route replace unreachable "$SWARMLAB_OVERLAY_POOL"
iptables -N DOCKER-USER 2>/dev/null || true
iptables -C DOCKER-USER -o eth0 ! -d "$SWARMLAB_UNDERLAY" -j REJECT 2>/dev/null \
  || iptables -I DOCKER-USER -o eth0 ! -d "$SWARMLAB_UNDERLAY" -j REJECT
iptables -C OUTPUT -o eth0 ! -d "$SWARMLAB_UNDERLAY" -j REJECT 2>/dev/null \
  || iptables -I OUTPUT -o eth0 ! -d "$SWARMLAB_UNDERLAY" -j REJECT

# The node resolves no names: it has no business outside the lab, and a lookup
# that fails at once beats one that waits for a resolver it may not reach.
printf '# sealed by swarmlab: no resolver outside the lab\noptions timeout:1 attempts:1\n' > /etc/resolv.conf

# SSH host keys are made here, per node, so no two nodes share one; only for a node that
# runs sshd (making them took 1.6 s of every node's start here).
if [ "${SWARMLAB_SSHD:-0}" = 1 ]; then
  ssh-keygen -A >/dev/null
  mkdir -p /run/sshd
  /usr/sbin/sshd
fi

# A new node starts with the images its placement lets it run, from its seed: the
# image store of an engine that loaded them once, mounted read-only. The metadata is
# copied; the files of every image layer (its diff/) stay in the seed and are linked,
# never copied: overlayfs only reads lower layers, so the nodes share them (a new file
# costs ~0.3 ms here: copying the layers took 5 s per node). The engine's own small
# files per layer (link, lower, committed) stay writable in the node.
SEED=/var/lib/swarmlab-seed
if [ -e "$SEED/.swarmlab-seed-complete" ] && [ ! -e /var/lib/docker/image ]; then
  t0=$(date +%s%N)
  mkdir -p /var/lib/docker/overlay2
  cp -a "$SEED/image" /var/lib/docker/
  cp -a "$SEED/overlay2/l" /var/lib/docker/overlay2/
  for layer in "$SEED"/overlay2/*; do
    id=${layer##*/}
    [ "$id" = l ] && continue
    mkdir "/var/lib/docker/overlay2/$id"
    for f in "$layer"/*; do
      if [ "${f##*/}" = diff ]; then ln -s "$f" "/var/lib/docker/overlay2/$id/diff"
      else cp -a "$f" "/var/lib/docker/overlay2/$id/"; fi
    done
  done
  echo "swarmlab-node: images linked from the seed in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
fi

# A stale pid file from a killed engine would stop dockerd from starting again.
rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid

# A worker coming back (an engine restart, a reboot: every node starts at once) waits
# for a manager to answer before its engine starts. A worker whose engine is up first
# fails to join the managers' gossip, tries again only after 60 s (libnetwork's rejoin
# interval), and until then no other node knows its tasks' names and addresses: 85-90 s
# of "name does not resolve" was measured here. Bounded: a manager that stays down (a
# drill) delays the worker by WAIT_MANAGER seconds, no more.
SWARM=/var/lib/docker/swarm
if [ -s "$SWARM/state.json" ] && [ ! -d "$SWARM/raft" ]; then
  managers=$(grep -o '"addr":"[0-9.]*:[0-9]*"' "$SWARM/state.json" | sed 's/.*"\([0-9.]*\):[0-9]*"/\1/') || true
  t0=$(date +%s)
  end=$((t0 + ${SWARMLAB_WAIT_MANAGER:-30}))
  up=""
  while [ -z "$up" ] && [ "$(date +%s)" -lt "$end" ]; do
    for m in $managers; do
      if nc -z -w 1 "$m" 2377 && nc -z -w 1 "$m" 7946; then up=$m; break; fi
    done
    [ -n "$up" ] || sleep 0.2
  done
  echo "swarmlab-node: manager ${up:-(none answered)} after $(( $(date +%s) - t0 )) s"
fi

# Swarm tasks use the image already in the node instead of asking a registry
# first (there is none): without this every task waits for a pull to fail.
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1

# An idle node's engine (dockerd, containerd: Go) keeps less garbage with a tighter
# collector: GOGC=25 took its anonymous memory from 45-54 to 37-41 MiB here.
export GOGC="${GOGC:-25}"

# --dns 127.0.0.1: the tasks' resolver forwards names it does not know to the
# node's own loopback, where nothing answers: refused at once, and no query ever
# leaves the lab (the default would be a public resolver).

exec dockerd \
  --host unix:///var/run/docker.sock \
  --cgroup-parent "$SWARMLAB_CGROUP_PARENT" \
  --bip "$SWARMLAB_BIP" \
  --default-address-pool "base=$SWARMLAB_LOCAL_POOL,size=24" \
  --dns 127.0.0.1 \
  --log-level warn
