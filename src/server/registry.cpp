#include "achat/registry.h"

#include <vector>

namespace achat {

namespace {

std::size_t& count_of(Registry::OpenCounts& counts, Transport transport) noexcept {
  return transport == Transport::web ? counts.web : counts.tcp;
}

}  // namespace

std::shared_ptr<Connection> Registry::open(Socket& socket, std::string address, std::size_t limit,
                                           Transport transport) {
  std::lock_guard lock(mutex_);
  if (connections_.size() >= limit) return nullptr;
  const ConnectionId id = next_id_++;
  std::shared_ptr<Connection> connection(
      new Connection(id, std::move(socket), std::move(address), budget_, transport),
      [this](Connection* closed) {
        {
          std::lock_guard remove_lock(mutex_);
          connections_.erase(closed->id());
          --count_of(open_, closed->transport());
        }
        delete closed;
      });
  connections_.emplace(id, connection);
  ++count_of(open_, transport);
  return connection;
}

std::size_t Registry::size() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

Registry::OpenCounts Registry::open_counts() const {
  std::lock_guard lock(mutex_);
  return open_;
}

std::vector<std::shared_ptr<const Connection>> Registry::snapshot() const {
  std::vector<std::shared_ptr<const Connection>> live;  // outlives the lock: see the deleter
  std::lock_guard lock(mutex_);
  live.reserve(connections_.size());
  for (auto& [id, weak] : connections_) {
    if (auto connection = weak.lock()) live.push_back(std::move(connection));
  }
  return live;
}

void Registry::shutdown_reads() {
  for (const auto& connection : snapshot()) connection->socket().shutdown_read();
}

void Registry::cut_all() {
  for (const auto& connection : snapshot()) connection->socket().shutdown_both();
}

}  // namespace achat
