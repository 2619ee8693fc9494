// What readers and writers tell the broker. Plain values moved through channels.
#pragma once

#include <compare>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "achat/channel.h"
#include "achat/connection.h"
#include "achat/login_name.h"

namespace achat {

// Where a claim write stands in the cluster's order of claims: the claims stream it was written
// to (its epoch: the stream's creation time, by the NATS server's clock) and its revision there.
// A stream deleted and made again starts its revisions at 1, so revisions alone are compared
// only within one epoch: a later epoch is later whatever its revision. A plain value.
struct ClaimStamp {
  std::int64_t epoch = 0;
  std::uint64_t revision = 0;
  auto operator<=>(const ClaimStamp&) const = default;
};

// Held by an online login while its name is taken cluster-wide (see include/achat/cluster.h);
// destroying it gives the name back. Never blocks; any thread may destroy it.
class LoginLease {
 public:
  virtual ~LoginLease() = default;
  // Where the claim stands in the cluster's order of claims: a later claim of the same name
  // by another node means this one was lost.
  virtual ClaimStamp stamp() const noexcept = 0;
};

// The broker's answer to a login: nullopt if accepted, else the reason it was refused.
using LoginVerdict = std::optional<std::string>;

// A reader asks to go online as `login` (already checked by check_login); it waits on `verdict` before reading further, so a
// refused connection never gets to send a line.
struct LoginRequest {
  std::shared_ptr<Connection> connection;
  LoginName login;
  OutboxSender outbox;
  std::promise<LoginVerdict> verdict;
  std::unique_ptr<LoginLease> lease;  // the cluster-wide claim; none when standalone
};

// A parsed chat line from an online connection, already formatted for its recipients.
struct ChatMessage {
  ConnectionId from = 0;
  std::string recipients;  // the raw recipient field, split by the broker
  OutboundLine delivery;
};

// A line from an online connection that could not be parsed: the broker queues the error reply
// in its place among that client's replies, so replies come back in the order of the input.
struct BadLine {
  ConnectionId from = 0;
  std::string reply;  // the error's text, without prefix or newline
};

// An online connection asked who is online (the line "/who"); the broker answers it in its place
// among that client's replies.
struct WhoRequest {
  ConnectionId from = 0;
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

// A change in the cluster's claims: the login whose uniqueness key (LoginName::unique) is `name`
// taken (or its claim refreshed) by `node`, or released if `node` is empty; `stamp` orders the
// changes of all names.
struct DirectoryChange {
  std::string name;
  std::string node;
  ClaimStamp stamp;
  std::string run;  // which run (incarnation) of `node` holds it
  // `name` as its holder typed it, for "/who"; empty if unknown (a claim by an earlier version,
  // or one whose typed form is not a login with uniqueness key `name`).
  std::string typed = {};
};

// What the heartbeats say about another node: `reachable` false once it has been silent too
// long (its users are not online from here, though their names stay taken), true when it is
// heard again; `dead_run`, if not empty, is a previous run of it that is known dead (it
// restarted): that run's logins are gone.
struct NodePresence {
  std::string node;
  bool reachable = true;
  std::string dead_run;
};

// The cluster could not confirm the claim of `name` made at `stamp` (its lease's) in time:
// its session must end before another node can take the name.
struct ClaimLapsed {
  std::string name;
  ClaimStamp stamp;
};

// monostate first: moodycamel dequeues into default-constructed slots, which must be cheap.
// The rare, large LoginRequest, DirectoryChange, ClaimLapsed and NodePresence are boxed so every queue slot stays small
// (64 bytes).
using BrokerEvent = std::variant<std::monostate, std::unique_ptr<LoginRequest>, ChatMessage, BadLine,
                                 WhoRequest, ReaderGone, RemoteDelivery,
                                 std::unique_ptr<DirectoryChange>, std::unique_ptr<ClaimLapsed>,
                                 std::unique_ptr<NodePresence>>;

// What an event costs in memory while it waits in the inbox, as a reader's flow control counts
// it (see Connection::wait_to_hand_over). The reader and the broker compute it from the same
// event, so what one adds the other takes away. Only a reader's lines count: its login and its
// end are one each.
inline std::int32_t unrouted_cost(const ChatMessage& message) noexcept {
  return static_cast<std::int32_t>(sizeof(BrokerEvent) + message.recipients.size() +
                                   message.delivery->size() + kQueuedLineOverhead);
}
inline std::int32_t unrouted_cost(const WhoRequest&) noexcept {
  return static_cast<std::int32_t>(sizeof(BrokerEvent));
}
inline std::int32_t unrouted_cost(const BadLine& bad) noexcept {
  return static_cast<std::int32_t>(sizeof(BrokerEvent) + bad.reply.size());
}
// The same for lines from other nodes: the cluster's subscriber waits while those it handed
// over and the broker has not handled would exceed its bound (src/cluster/byte_window.h).
inline std::int64_t unrouted_cost(const RemoteDelivery& remote) noexcept {
  return static_cast<std::int64_t>(sizeof(BrokerEvent) + remote.recipients.size() +
                                   remote.delivery->size() + kQueuedLineOverhead);
}

// A writer has finished: everything queued for it was written or counted as undeliverable.
struct WriterDone {
  ConnectionId id = 0;
  std::uint64_t undelivered = 0;
};

}  // namespace achat
