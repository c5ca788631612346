#!/bin/sh
# Probe what this kernel offers the lab, for real, and print key=value lines.
#   ipvs=yes|no        Swarm VIPs and the ingress routing mesh need IPVS
#   esp=yes|no         encrypted overlays need IPsec ESP with rfc4106(gcm(aes))
#   kernel=...         uname -r
# A reason follows each "no" as ipvs_reason= / esp_reason=.
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
echo "kernel=$(uname -r)"
