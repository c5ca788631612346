#!/bin/sh
# Probe what this kernel offers the lab, for real, and print key=value lines.
#   ipvs=yes|no        Swarm VIPs and the ingress routing mesh need IPVS
#   esp=yes|no         encrypted overlays need IPsec ESP with rfc4106(gcm(aes))
#   netem=yes|no       link impairment (delay, jitter, loss, rate) needs the netem qdisc
#   tbf=yes|no         rate limits without netem (a token bucket)
#   htb=yes|no         classes per destination (an impairment towards one peer only)
#   statistic=yes|no   random loss without netem (iptables' statistic match)
#   kernel=...         uname -r
# A reason follows each "no" as ipvs_reason=, esp_reason=, netem_reason=, ...
modprobe -q ip_vs 2>/dev/null || true
if [ -e /proc/net/ip_vs ]; then
  echo ipvs=yes
else
  echo ipvs=no
  echo "ipvs_reason=no /proc/net/ip_vs: the ip_vs module is not loaded and cannot be loaded"
fi

modprobe -q esp4 2>/dev/null || true
# A throwaway xfrm state in a throwaway network namespace: exactly what Docker
# installs for an encrypted overlay. No packet is sent.
out=$(unshare --net ip xfrm state add src 198.51.100.1 dst 198.51.100.2 \
      proto esp spi 0x5741524d reqid 1 mode transport \
      aead 'rfc4106(gcm(aes))' 0x000102030405060708090a0b0c0d0e0f10111213 128 2>&1)
if [ $? -eq 0 ]; then
  echo esp=yes
else
  echo esp=no
  echo "esp_reason=ip xfrm state add (esp, rfc4106(gcm(aes))) failed: $(echo "$out" | tr '\n' ' ')"
fi
# Each queueing discipline and match on the loopback of a throwaway network namespace.
attempt() {   # attempt NAME COMMAND...: NAME=yes, or NAME=no and why
  name=$1; shift
  if out=$(unshare --net sh -c "ip link set lo up && $*" 2>&1); then
    echo "$name=yes"
  else
    echo "$name=no"
    echo "${name}_reason=$* failed: $(echo "$out" | tr '\n' ' ')"
  fi
}
modprobe -q sch_netem 2>/dev/null || true
attempt netem "tc qdisc add dev lo root netem delay 1ms"
attempt tbf "tc qdisc add dev lo root tbf rate 1mbit burst 32kbit latency 50ms"
attempt htb "tc qdisc add dev lo root handle 1: htb"
attempt statistic "iptables -A OUTPUT -m statistic --mode random --probability 0.5 -j DROP"
echo "kernel=$(uname -r)"
