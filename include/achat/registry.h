// The set of open connections, so the server can stop reading them all and cut them on shutdown.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

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
  std::shared_ptr<Connection> open(Socket& socket, std::string address, std::size_t limit);
  std::size_t size() const;
  const QueueBudget& budget() const noexcept { return budget_; }
  void shutdown_reads();  // every reader then sees end of stream
  void cut_all();         // every blocked read and write then fails

 private:
  // Calls action(Connection&) on every live connection, outside the lock.
  template <class Action>
  void for_each(Action action) const;

  QueueBudget budget_;
  mutable std::mutex mutex_;
  ConnectionId next_id_ = 1;
  std::unordered_map<ConnectionId, std::weak_ptr<Connection>> connections_;
};

}  // namespace achat
