// The body of a connection's writer thread.
#pragma once

#include <memory>

#include "achat/channel.h"
#include "achat/connection.h"
#include "achat/events.h"
#include "achat/stats.h"

namespace achat {

// Everything one writer thread owns. The only code that sends on the connection's socket, so
// lines never interleave. Drains its channel in batches and writes each batch with one
// sendmsg(). If the socket fails it shuts it down (waking the reader) and keeps draining,
// counting what it could not deliver. When the channel closes (reader and broker both let go)
// it shuts the socket down, reports WriterDone to the broker, and returns.
struct WriterTask {
  std::shared_ptr<Connection> connection;
  Receiver<OutboundLine> outbox;
  Sender<WriterDone> reaper;
  Stats& stats;

  void operator()();
};

}  // namespace achat
