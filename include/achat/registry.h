// The set of open connections, so the server can stop reading them all and cut them on shutdown,
// and an operator can list them.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "achat/connection.h"
#include "achat/queue_budget.h"

namespace achat {

// Creates every Connection and holds a weak reference to each while it lives; a connection
// leaves the registry when its last owner lets go. Owns the server-wide budget every
// connection's queued bytes count against. Used by the accept thread (open), by whichever
// thread drops a connection last, and by the thread stopping the server. A mutex guards the map:
// taken per connect and disconnect, never per message (it is not the broker's peer map).
// Must outlive every connection it opened.
class Registry {
 public:
  explicit Registry(std::int64_t max_queued_bytes) : budget_(max_queued_bytes) {}

  // nullptr if `limit` connections are already open (the socket is then returned untouched
  // in `socket`, so the caller can still tell the client why).
  std::shared_ptr<Connection> open(Socket& socket, std::string address, std::size_t limit,
                                   Transport transport = Transport::tcp);
  std::size_t size() const;
  // Connections open now by transport (`limit` counts them together).
  struct OpenCounts {
    std::size_t tcp = 0;
    std::size_t web = 0;
  };
  OpenCounts open_counts() const;
  const QueueBudget& budget() const noexcept { return budget_; }
  void shutdown_reads();  // every reader then sees end of stream
  void cut_all();         // every blocked read and write then fails
  // The connections open now, shared with the caller; the mutex is held only to copy them.
  // Any thread may call it (an operator's list of who is online). Whichever thread lets the
  // last owner of a connection go closes it there, taking the mutex to erase it.
  std::vector<std::shared_ptr<const Connection>> snapshot() const;

 private:
  QueueBudget budget_;
  mutable std::mutex mutex_;
  ConnectionId next_id_ = 1;
  std::unordered_map<ConnectionId, std::weak_ptr<Connection>> connections_;
  OpenCounts open_;  // of connections_, by transport
};

}  // namespace achat
