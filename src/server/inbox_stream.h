// A reader's handle on the broker's inbox, whose end is part of the stream.
#pragma once

#include <atomic>
#include <span>

#include "achat/channel.h"
#include "achat/events.h"
#include "end_notice.h"

namespace achat {

// Owned by a connection's ReaderTask (a member, so it lives exactly as long as the task object,
// whichever thread runs it, and also when it never runs). Every event goes through the one inbox
// lane this handle was assigned for life (a producer token shared with other readers under the
// lane's lock), so the broker sees them in order; the destructor appends ReaderGone as the
// stream's last event (send_until_queued: retried until queued, never lost), then releases the
// sender. Movable for the task's hand-off to its thread; a moved-from stream sends nothing. Used
// by one thread at a time.
class InboxStream {
 public:
  InboxStream(Sender<BrokerEvent> inbox, ConnectionId id, const std::atomic<bool>& server_stopping)
      : inbox_(std::move(inbox)), id_(id), server_stopping_(server_stopping) {}
  InboxStream(InboxStream&&) noexcept = default;
  InboxStream(const InboxStream&) = delete;
  InboxStream& operator=(const InboxStream&) = delete;
  ~InboxStream() {
    send_until_queued(inbox_, ReaderGone{id_, server_stopping_.load(std::memory_order_acquire)});
  }

  bool send(BrokerEvent event) { return inbox_.send(std::move(event)); }
  bool send_bulk(std::span<BrokerEvent> events) { return inbox_.send_bulk(events); }

 private:
  Sender<BrokerEvent> inbox_;  // empty once moved from
  ConnectionId id_;
  const std::atomic<bool>& server_stopping_;
};

}  // namespace achat
