#!/usr/bin/env bash
# Set up this machine for swarmlab (Debian, as root):
#   - Debian's docker.io when no Docker engine answers and none is installed,
#     and dockerd started in the background when none runs (no systemd needed);
#   - debootstrap, to build the offline base image; graphviz, to draw the lab (swarmlab graph);
#     chromium and chromium-driver, a real browser for the tests of the report and the live page;
#   - vagrant and vagrant-libvirt (no recommends: enough for `vagrant validate` of
#     vagrant/Vagrantfile; scripts/setup-vagrant.sh adds libvirt and QEMU to run VMs);
#   - xterm.js, the terminal of the room's pages, from the npm registry (pinned versions,
#     their sha512 checked) into /usr/local/share/swarmlab/xterm: Debian 12's libjs-xterm
#     ships a 288-byte xterm.js that only `require`s a file it does not have;
#   - the swarmlab Python package with its test extras.
# It says what it does, and does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "setup: $*" >&2; }

missing=()
if ! docker info >/dev/null 2>&1 && ! command -v dockerd >/dev/null 2>&1; then
  missing+=(docker.io)
fi
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)       # swarmlab graph --format svg|html
command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # the tests open report and ui pages in it
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v vagrant >/dev/null 2>&1 || missing+=(vagrant)
dpkg -s vagrant-libvirt >/dev/null 2>&1 || missing+=(vagrant-libvirt)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    say "need root to install ${missing[*]} (run: sudo $0)"; exit 1
  fi
  say "installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  log=/var/log/swarmlab-dockerd.log
  say "no Docker engine answers: starting dockerd in the background (log: $log)"
  [ "$(id -u)" = 0 ] || { say "need root to start dockerd"; exit 1; }
  nohup setsid dockerd >"$log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  if ! docker info >/dev/null 2>&1; then
    say "dockerd did not answer within 60 s; the end of $log:"; tail -n 20 "$log" >&2; exit 1
  fi
  say "dockerd $(docker version --format '{{.Server.Version}}') is up"
fi

# name version sha512 (the registry's "integrity" of that version)
XTERM_DIR=/usr/local/share/swarmlab/xterm/node_modules/@xterm
XTERM_PACKAGES=(
  "xterm 6.0.0 TQwDdQGtwwDt+2cgKDLn0IRaSxYu1tSUjgKarSDkUM0ZNiSRXFpjxEsvc/Zgc5kq5omJ+V0a8/kIM2WD3sMOYg=="
  "addon-fit 0.11.0 jYcgT6xtVYhnhgxh3QgYDnnNMYTcf8ElbxxFzX0IZo+vabQqSPAjC3c1wJrKB5E19VwQei89QCiZZP86DCPF7g=="
)
for entry in "${XTERM_PACKAGES[@]}"; do
  read -r name version sum <<<"$entry"
  [ -f "$XTERM_DIR/$name/package.json" ] && grep -q "\"version\": \"$version\"" "$XTERM_DIR/$name/package.json" && continue
  say "installing @xterm/$name $version (the room's terminal) into $XTERM_DIR"
  python3 - "$name" "$version" "$sum" "$XTERM_DIR/$name" <<'PY'
import base64, hashlib, io, sys, tarfile, urllib.request
name, version, wanted, dest = sys.argv[1:]
url = f"https://registry.npmjs.org/@xterm/{name}/-/{name}-{version}.tgz"
data = urllib.request.urlopen(url, timeout=60).read()
if base64.b64encode(hashlib.sha512(data).digest()).decode() != wanted:
    sys.exit(f"setup: {url} does not match its pinned sha512: not installed")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("package/") and ".." not in m.name]
    for m in members:
        m.name = m.name[len("package/"):]
    tar.extractall(dest, members=members)
PY
done

say "installing the swarmlab package (pip install -e '.[test]')"
python3 -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 | grep -v -e "^WARNING: Running pip as" -e "is ignored: it is neither" >&2 || true
python3 -c "import swarmlab" || { say "the swarmlab package did not install"; exit 1; }
say "ready: python3 -m swarmlab up"
