#!/usr/bin/env bash
# Runs the README's two commands on a fresh, minimal Debian 12 (debootstrap --variant=minbase: no
# compiler, no procps, /etc/hosts with only localhost), in a chroot, and says how long each took.
# Proves that scripts/setup.sh installs everything the programs and the suite need. Outside CI.
#   sudo scripts/fresh-debian.sh [DIR]     (DIR default /var/tmp/achat-fresh, created fresh)
#   ACHAT_VARIANTS   passed to the test command (default: all of them, as in CI)
#   ACHAT_MIRROR     Debian mirror (default: the first one in this machine's apt sources)
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-/var/tmp/achat-fresh}
mirror=${ACHAT_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -oE 'https?://[^ ]+/debian/?$' | head -1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
  { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; } ||
    { echo "fresh-debian: cannot install debootstrap" >&2; exit 1; }
fi

mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mount_into() {  # type-or-bind, source, target inside root
  mkdir -p "$root$3"
  if [ "$1" = bind ]; then mount --bind "$2" "$root$3"; else mount -t "$1" "$2" "$root$3"; fi
  mounted+=("$root$3")
}

rm -rf "$root"
echo "fresh-debian: debootstrap --variant=minbase bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -20 "$root.debootstrap.log" >&2; exit 1; }
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
echo "127.0.0.1 localhost" >"$root/etc/hosts"
mount_into proc proc /proc
mount_into sysfs sysfs /sys
mount_into bind /dev /dev
mount_into devpts devpts /dev/pts
mount_into tmpfs tmpfs /dev/shm
mkdir -p "$root/root/a-chat"
git archive HEAD | tar -x -C "$root/root/a-chat"   # git is not on a minimal machine
if chroot "$root" dpkg-query -W procps >/dev/null 2>&1; then
  echo "fresh-debian: procps is already in the chroot, so this is not the minimal case" >&2
fi

in_chroot() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  ACHAT_VARIANTS="${ACHAT_VARIANTS:-}" bash -c "cd /root/a-chat && $1"; }

# Command 1: set up, build and start the server; it counts as done when 127.0.0.1:8080 answers a
# login and a message to itself. The chroot shares this machine's network, so 8080 must be free.
if (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null; then
  echo "fresh-debian: 127.0.0.1:8080 is taken on this machine" >&2; exit 1
fi
start=$SECONDS
in_chroot "bash scripts/serve.sh" >"$root.serve.log" 2>&1 &
serve_pid=$!
reply=""
while kill -0 "$serve_pid" 2>/dev/null && [ $((SECONDS - start)) -lt 3600 ]; do
  if { exec 3<>/dev/tcp/127.0.0.1/8080; } 2>/dev/null; then
    printf 'fresh\nfresh: hello\n' >&3
    read -r -t 10 reply <&3 || true
    exec 3<&-
    break
  fi
  sleep 1   # polls the port while apt and the build run (deadline: the loop's 3600 s)
done
serve_seconds=$((SECONDS - start))
pkill -INT -f 'build-release/src/app/a-chat-server' || true
wait "$serve_pid" || true
if [ "$reply" != "from fresh: hello" ]; then
  tail -30 "$root.serve.log" >&2
  echo "fresh-debian: command 1 failed (reply: '$reply')" >&2; exit 1
fi
echo "fresh-debian: command 1 (scripts/serve.sh) served a login after ${serve_seconds} s"

# Command 2: set up, build and run every test.
start=$SECONDS
status=0
in_chroot "bash scripts/test.sh" >"$root.test.log" 2>&1 || status=$?
echo "fresh-debian: command 2 (scripts/test.sh) took $((SECONDS - start)) s, exit $status: $(tail -1 "$root.test.log")"
grep '^failed: ' "$root.test.log" >&2 || true
exit "$status"
