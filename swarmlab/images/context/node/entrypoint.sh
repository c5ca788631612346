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

# SSH host keys are made here, per node, so no two nodes share one.
ssh-keygen -A >/dev/null
if [ "${SWARMLAB_SSHD:-0}" = 1 ]; then
  mkdir -p /run/sshd
  /usr/sbin/sshd
fi

# A stale pid file from a killed engine would stop dockerd from starting again.
rm -f /var/run/docker.pid /run/docker/containerd/containerd.pid

# Swarm tasks use the image already in the node instead of asking a registry
# first (there is none): without this every task waits for a pull to fail.
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1

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
