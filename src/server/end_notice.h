// End-of-something events that must arrive: sent by a destructor, retried until the channel
// takes them.
#pragma once

#include <algorithm>
#include <chrono>
#include <spdlog/spdlog.h>
#include <time.h>
#include <utility>

#include "achat/channel.h"

namespace achat {

// Sends `event` on `channel`, retrying until it is queued. Never throws.
//
// Why retry instead of giving up: an end event (ReaderGone, WriterDone) is what frees a login;
// one that is lost leaves the name "already online" until the server restarts, while one that
// is late only delays that. A Sender's send fails for one reason only, an allocation the queue
// could not make (an empty handle has nobody to tell and returns at once). Memory comes back
// as other connections end, so the sending thread waits for it: a pause that doubles from 1 ms
// to 100 ms, the first failure logged. "The receiver is gone" is not a failure: a channel's
// state lives while any handle does, and the broker, the receiver of both end channels, returns
// only once every sender has gone (if it died instead, the process was terminated; see README
// "Which threads catch what").
template <class T, class Event>
void send_until_queued(Sender<T>& channel, const Event& event) noexcept {
  if (!channel) return;
  std::chrono::milliseconds pause{1};
  for (bool logged = false;; logged = true) {
    try {
      if (channel.send(T(event))) return;  // a fresh copy each time: send() consumes it
    } catch (...) {  // copying the event could not allocate either
    }
    if (!logged) {
      try {
        spdlog::error("out of memory: an end-of-connection event waits for memory to be sent");
      } catch (...) {
      }
    }
    const timespec wait{0, static_cast<long>(std::chrono::nanoseconds(pause).count())};
    ::nanosleep(&wait, nullptr);
    pause = std::min(pause * 2, std::chrono::milliseconds(100));
  }
}

// Owns a sender and the one event it must send last: the destructor sends it (see
// send_until_queued), on every path that destroys the owner, exceptions included, and whether
// or not the owner ever ran. Lives inside a connection's task object (WriterTask), so the event
// belongs to the connection, not to the thread that happens to run the task. Move-only; a
// moved-from notice sends nothing. Used by one thread at a time.
template <class T>
class EndNotice {
 public:
  EndNotice(Sender<T> channel, T event) : channel_(std::move(channel)), event_(std::move(event)) {}
  EndNotice(EndNotice&&) noexcept = default;
  EndNotice& operator=(EndNotice&&) = delete;
  EndNotice(const EndNotice&) = delete;
  EndNotice& operator=(const EndNotice&) = delete;
  ~EndNotice() { send_until_queued(channel_, event_); }

  // The event as it will be sent; its owner fills in what it learns (counts, reasons).
  T& event() noexcept { return event_; }

 private:
  Sender<T> channel_;  // empty once moved from
  T event_;
};

}  // namespace achat
