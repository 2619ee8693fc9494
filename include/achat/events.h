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

// The broker's answer to a login: nullopt if accepted, else the reason it was refused.
using LoginVerdict = std::optional<std::string>;

// A reader asks to go online under `name`; it waits on `verdict` before reading further, so a
// refused connection never gets to send a line.
struct LoginRequest {
  std::shared_ptr<Connection> connection;
  std::string name;
  Sender<OutboundLine> outbox;
  std::promise<LoginVerdict> verdict;
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

// monostate first: moodycamel dequeues into default-constructed slots, which must be cheap.
// The rare, large LoginRequest is boxed so every queue slot stays small (64 bytes): each reader's
// producer keeps a block of slots in the inbox for as long as it lives.
using BrokerEvent = std::variant<std::monostate, std::unique_ptr<LoginRequest>, ChatMessage, ReaderGone>;

// A writer has finished: everything queued for it was written or counted as undeliverable.
struct WriterDone {
  ConnectionId id = 0;
  std::uint64_t undelivered = 0;
};

}  // namespace achat
