#!/usr/bin/env python3
"""Idle footprint of a-chat-server: RSS and threads with N idle clients, and how much of each
thread's stack is actually touched (the measurement behind --thread-stack-bytes).

usage: bench/idle_footprint.py SERVER_BINARY [CLIENTS] [--thread-stack-bytes=N ...]

Starts the server on a free loopback port, logs in CLIENTS clients (each proves it is online by
messaging itself), then reads /proc/PID/status and /proc/PID/smaps. Thread stacks are the
anonymous mappings whose size equals the configured stack size; their Rss is what the threads
really touched.
"""
import os
import re
import resource
import socket
import subprocess
import sys
import time


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["Threads"])


def stack_rss_kib(pid, stack_kib):
    sizes = []
    with open(f"/proc/{pid}/smaps") as f:
        size = None
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                size = None
            elif line.startswith("Size:"):
                size = int(line.split()[1])
            elif line.startswith("Rss:") and size is not None and stack_kib - 4 <= size <= stack_kib:
                sizes.append(int(line.split()[1]))
    return sizes


def main():
    binary = sys.argv[1]
    clients = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else 1000
    options = [a for a in sys.argv[2:] if a.startswith("--")]
    stack_bytes = 65536
    for option in options:
        if option.startswith("--thread-stack-bytes="):
            stack_bytes = int(option.split("=", 1)[1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = subprocess.Popen([binary, "127.0.0.1:0", "--log-level=info", "--stats-interval=0", *options],
                              stderr=subprocess.PIPE, text=True)
    port = None
    for line in server.stderr:
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if found:
            port = int(found.group(1))
            break
    subprocess.Popen(["cat"], stdin=server.stderr, stdout=subprocess.DEVNULL)  # keep draining
    rss_before, threads_before = status(server.pid)
    sockets = []
    started = time.monotonic()
    for i in range(clients):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"idle{i}\nidle{i}: ready\n".encode())
        sockets.append(s)
    for i, s in enumerate(sockets):
        expected = f"from idle{i}: ready\n".encode()
        got = b""
        while len(got) < len(expected):
            got += s.recv(len(expected) - len(got))
        assert got == expected, got
    elapsed = time.monotonic() - started
    rss_after, threads_after = status(server.pid)
    stacks = stack_rss_kib(server.pid, stack_bytes // 1024)
    print(f"clients {clients}, --thread-stack-bytes {stack_bytes}, login of all {elapsed:.2f} s")
    print(f"server RSS {rss_before} KiB -> {rss_after} KiB: {(rss_after - rss_before) * 1024 / clients:.0f} bytes per connection")
    print(f"threads {threads_before} -> {threads_after}")
    if stacks:
        stacks.sort()
        print(f"thread stacks found {len(stacks)}: touched KiB min {stacks[0]} median {stacks[len(stacks) // 2]} max {stacks[-1]}")
    server.terminate()
    server.wait(timeout=30)
    for s in sockets:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
