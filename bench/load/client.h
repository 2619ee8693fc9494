// Client: one simulated chat user. Owns its connection and where it is in the run (connecting,
// logging in, ready). What it sent and received is kept by LoadRun's DeliveryLedger. LoadRun
// drives it; it keeps no other state.
#pragma once

#include "connection.h"

namespace achat::load {

struct Client {
  enum class Phase { kIdle, kConnecting, kLoggingIn, kReady };

  Phase phase = Phase::kIdle;
  Connection connection;
  bool dirty = false;  // has output queued since the last flush pass
};

}  // namespace achat::load
