// An in-process a-chat server on a free loopback port, stopped gracefully when the test ends.
#pragma once

#include <cstdlib>
#include <memory>
#include <spdlog/spdlog.h>

#include "achat/server.h"
#include "process_limits.h"

namespace achat::testing {

// Tests hold both ends of every connection in one process: raise the fd limit first.
inline ServerConfig loopback_config(Limits limits = {}) {
  raise_fd_limit();
  ServerConfig config;
  config.endpoint.port = 0;
  if (limits.max_clients == 0) limits.max_clients = 10'000;
  config.limits = limits;
  return config;
}

// Per-connection info lines drown test output; ACHAT_TEST_LOG=info brings them back.
inline void quiet_logs() {
  const char* level = std::getenv("ACHAT_TEST_LOG");
  spdlog::set_level(spdlog::level::from_str(level ? level : "warn"));
}

// Owned by one test. Starts on construction; stop() (or the destructor) shuts down gracefully.
class TestServer {
 public:
  explicit TestServer(Limits limits = {}) : server_((quiet_logs(), loopback_config(limits))) {
    server_.start();
  }
  std::uint16_t port() const { return server_.port(); }
  Server& operator*() { return server_; }
  Server* operator->() { return &server_; }

 private:
  Server server_;
};

}  // namespace achat::testing
