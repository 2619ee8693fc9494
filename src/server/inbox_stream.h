// An online reader's handle on the broker's inbox, whose end is part of the stream.
#pragma once

#include <atomic>
#include <span>

#include "achat/channel.h"
#include "achat/events.h"

namespace achat {

// Owned by one reader thread once its login is accepted. Every event goes through the one inbox
// lane this handle was assigned for life (a producer token shared with other readers under the
// lane's lock), so the broker sees them in order; the destructor (on any exit path,
// exceptions included) appends ReaderGone as the stream's last event, then releases the sender.
class InboxStream {
 public:
  InboxStream(Sender<BrokerEvent> inbox, ConnectionId id, const std::atomic<bool>& server_stopping)
      : inbox_(std::move(inbox)), id_(id), server_stopping_(server_stopping) {}
  InboxStream(const InboxStream&) = delete;
  InboxStream& operator=(const InboxStream&) = delete;
  ~InboxStream() {
    inbox_.send(ReaderGone{id_, server_stopping_.load(std::memory_order_acquire)});
  }

  bool send(BrokerEvent event) { return inbox_.send(std::move(event)); }
  bool send_bulk(std::span<BrokerEvent> events) { return inbox_.send_bulk(events); }

 private:
  Sender<BrokerEvent> inbox_;
  ConnectionId id_;
  const std::atomic<bool>& server_stopping_;
};

}  // namespace achat
