#!/usr/bin/env bash
# Installs what a-chat needs from Debian 12's packages. Idempotent: apt runs only if something is
# missing. Needs root (or sudo) the first time.
#   setup.sh           what building and running the server and client need
#   setup.sh --tests   that, plus what the tests, benchmarks, fuzzer and unit checks need
#   setup.sh --cluster that, plus the NATS server scripts/cluster.sh runs
set -euo pipefail

packages=(
  g++ pkg-config meson ninja-build python3         # toolchain and build
  libboost-thread-dev libboost-chrono-dev          # reader/writer threads with set stack sizes
  libconcurrentqueue-dev                           # moodycamel lock-free queues
  libspdlog-dev libfmt-dev                         # logging
  libedit-dev                                      # the interactive client's line editor
  libnats-dev                                      # cluster mode: NATS client (cnats)
  libicu-dev                                       # login rule: Unicode properties, NFKC_Casefold, spoof checker
)
case "${1:-}" in
  "") ;;
  --tests)
    packages+=(
      libgtest-dev libgmock-dev libbenchmark-dev   # tests and micro-benchmarks
      clang libclang-rt-14-dev                     # libFuzzer target
      tmux                                         # the interactive client's end-to-end test
      systemd                                      # systemd-analyze checks the unit
      procps                                       # /bin/kill, the unit's ExecReload (not on minbase)
      nats-server                                  # the cluster tests start their own servers
      chromium chromium-driver python3-selenium    # the web page's test in a real browser
    ) ;;
  --cluster)
    packages+=(nats-server) ;;                     # scripts/cluster.sh runs NATS servers
  *) echo "usage: $0 [--tests | --cluster]" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
