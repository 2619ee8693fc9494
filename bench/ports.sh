# Shell helpers for the benchmark scripts (sourced, not run): loopback ports.

# True if something accepts TCP connections on 127.0.0.1:$1.
accepting() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on, below the ephemeral range so the load generator's own outgoing
# ports never collide with it. A race with another process shows when the server fails to start.
free_port() {
  local port
  while true; do
    port=$(( 20000 + RANDOM % 12000 ))
    accepting "$port" || { echo "$port"; return; }
  done
}
