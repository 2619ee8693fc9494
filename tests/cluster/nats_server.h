// Real nats-server processes for cluster tests: each on its own loopback ports and store
// directory, stopped by PID (never the system service on 4222).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace achat::testing {

// A free loopback TCP port, as the kernel picks one (free when this returns).
std::uint16_t free_port();

// Owned by one test thread. One JetStream-enabled nats-server; start() runs it (again, with
// the same ports and store, after a kill), kill() stops it by PID and reaps it. The destructor
// kills it if running and deletes its directory.
class NatsServer {
 public:
  // `name` is its server_name; `routes` the cluster ports of every member (its own included);
  // empty for a server of its own.
  NatsServer(std::string name, std::filesystem::path directory, std::vector<std::uint16_t> routes = {},
             std::uint16_t route_port = 0);
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;
  ~NatsServer();

  // Lines of nats-server configuration (e.g. "max_payload: 4096") for the next start().
  void configure(std::string text) { config_ = std::move(text); }
  // Starts the process and waits until it accepts client connections (throws if it does not).
  void start();
  void kill(int signal);
  bool running() const { return pid_ > 0; }
  const std::string& name() const { return name_; }
  std::uint16_t port() const { return client_port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(client_port_); }

 private:
  std::string name_;
  std::filesystem::path directory_;
  std::vector<std::uint16_t> routes_;
  std::uint16_t route_port_;
  std::uint16_t client_port_;
  std::string config_;
  pid_t pid_ = -1;
};

// Three servers in one JetStream cluster (full mesh of routes), in a fresh temporary directory.
class NatsCluster {
 public:
  NatsCluster();
  NatsServer& operator[](std::size_t i) { return *servers_[i]; }
  // The three URLs starting with server `first`: nodes list them in different orders, so each
  // connects to its own server first.
  std::string urls_from(std::size_t first) const;
  // The server_name of the server that holds the claims bucket (R1: exactly one).
  std::string bucket_holder() const;

 private:
  std::filesystem::path directory_;
  std::vector<std::unique_ptr<NatsServer>> servers_;
};

// A fresh directory under the temporary directory, for one test's stores.
std::filesystem::path fresh_directory(const std::string& prefix);

}  // namespace achat::testing
