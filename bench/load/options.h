// Options: one run's configuration, built from a named workload preset (so results compare
// across commits) with explicit command-line options overriding the preset's values.
// Promises: a returned Options is consistent (see parse_options); bad input throws UsageError.
#pragma once

#include <netinet/in.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "connection.h"

namespace achat::load {

// Who a message goes to: K distinct clients drawn at random from all of them (every writer of
// the server gets work), or the next K in the ring (each sender always feeds the same few
// writers: the server's best case).
enum class Pattern { kRandom, kNext };

const char* pattern_name(Pattern pattern) noexcept;

struct Options {
  // Client i connects to servers[i % servers.size()]: several a-chat nodes of one cluster
  // share the clients evenly, so a random recipient is on another node (n-1)/n of the time.
  std::vector<sockaddr_in> servers;
  std::string server_text;  // as given, for reports
  // tcp: the line protocol on the chat port; ws: one text frame per line on the web port's
  // /ws (the servers given are then --web-listen addresses).
  Transport transport = Transport::kTcp;
  std::string workload;

  std::uint32_t clients = 0;
  std::uint32_t recipients = 0;             // K: recipients of every message
  Pattern pattern = Pattern::kRandom;
  std::uint64_t seed = 1;                   // random pattern: same seed, same recipients
  bool include_self = false;                // random pattern: a sender may address itself
  std::uint32_t window = 0;                 // closed loop: messages in flight per client
  std::uint64_t messages = 0;               // per client; 0 = until `duration_s` (closed loop only)
  std::size_t size = 0;                     // payload bytes
  double rate = 0;                          // open loop: messages/s per client; 0 = closed loop
  double duration_s = 0;                    // sending stops after this long; 0 = no time limit
  double deadline_s = 120;                  // the whole run fails if it is not done by then
  std::uint32_t connect_concurrency = 256;  // clients connecting or logging in at once
  // storm: once every client is ready, all leave, and after kRejoinPause all connect and log
  // in again with the same logins; login_ms and connect_ms are then the second storm's.
  bool rejoin = false;
  // churn: each of `clients` slots loops for `duration_s`: connect, log in with a fresh login,
  // send one line to itself, wait for its echo, close (ChurnRun).
  bool churn = false;
  bool json = false;
  std::optional<pid_t> server_pid;

  bool open_loop() const noexcept { return rate > 0; }
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct HelpRequested {};

// Throws UsageError for bad input, HelpRequested for --help.
Options parse_options(int argc, char** argv);

const char* usage_text() noexcept;

}  // namespace achat::load
