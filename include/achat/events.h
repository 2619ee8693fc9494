// What readers and writers tell the broker. Plain values moved through channels.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "achat/channel.h"
#include "achat/connection.h"

namespace achat {

// Held by an online login while its name is taken cluster-wide (see include/achat/cluster.h);
// destroying it gives the name back. Never blocks; any thread may destroy it.
class LoginLease {
 public:
  virtual ~LoginLease() = default;
  // Where the claim stands in the cluster's order of claims: a later claim of the same name
  // by another node means this one was lost.
  virtual std::uint64_t revision() const noexcept = 0;
};

// The broker's answer to a login: nullopt if accepted, else the reason it was refused.
using LoginVerdict = std::optional<std::string>;

// A reader asks to go online under `name`; it waits on `verdict` before reading further, so a
// refused connection never gets to send a line.
struct LoginRequest {
  std::shared_ptr<Connection> connection;
  std::string name;
  Sender<OutboundLine> outbox;
  std::promise<LoginVerdict> verdict;
  std::unique_ptr<LoginLease> lease;  // the cluster-wide claim; none when standalone
};

// A parsed chat line from an online connection, already formatted for its recipients.
struct ChatMessage {
  ConnectionId from = 0;
  std::string recipients;  // the raw recipient field, split by the broker
  OutboundLine delivery;
};

// The end of an online reader's stream, produced by the destructor of its InboxStream after
// everything it sent. `server_stopping` means the server stopped reading, not that the client left.
struct ReaderGone {
  ConnectionId id = 0;
  bool server_stopping = false;
};

// Lines from another node of the cluster for recipients here, in the order that node sent them.
struct RemoteDelivery {
  std::string recipients;  // comma-separated, as in a chat line
  OutboundLine delivery;
};

// A change in the cluster's claims: `name` taken (or its claim refreshed) by `node`, or
// released if `node` is empty; `revision` orders the changes of all names.
struct DirectoryChange {
  std::string name;
  std::string node;
  std::uint64_t revision = 0;
};

// monostate first: moodycamel dequeues into default-constructed slots, which must be cheap.
// The rare, large LoginRequest is boxed so every queue slot stays small (64 bytes): each reader's
// producer keeps a block of slots in the inbox for as long as it lives.
// The rare DirectoryChange is boxed for the same reason.
using BrokerEvent = std::variant<std::monostate, std::unique_ptr<LoginRequest>, ChatMessage, ReaderGone,
                                 RemoteDelivery, std::unique_ptr<DirectoryChange>>;

// A writer has finished: everything queued for it was written or counted as undeliverable.
struct WriterDone {
  ConnectionId id = 0;
  std::uint64_t undelivered = 0;
};

}  // namespace achat
