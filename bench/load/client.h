// Client: one simulated chat user. Owns its connection, where it is in the run (connecting,
// logging in, ready), its sending state (messages sent, closed-loop window) and, as a
// recipient, the next sequence number expected from each of the K senders that address it
// (indexed by Topology::sender_slot). LoadRun drives it; it keeps no other state.
#pragma once

#include <cstdint>
#include <vector>

#include "connection.h"
#include "send_window.h"

namespace achat::load {

struct Client {
  enum class Phase { kIdle, kConnecting, kLoggingIn, kReady };

  Client(std::uint32_t window, std::uint32_t recipients)
      : window(window, recipients), expected(recipients, 0) {}

  Phase phase = Phase::kIdle;
  Connection connection;
  SendWindow window;                    // closed loop only
  std::uint64_t sent = 0;               // messages sent in the timed phase
  std::vector<std::uint64_t> expected;  // next sequence number from each sender slot
  bool dirty = false;                   // has output queued since the last flush pass
};

}  // namespace achat::load
