// How large a publication the NATS servers accept: known only once connected.
#pragma once

#include <atomic>
#include <cstddef>
#include <string_view>

#include "nats_handles.h"

namespace achat::cluster {

// A bound on an envelope's header, "<origin> <incarnation> <sequence>\n" (envelope.h): a node id
// of at most 64 bytes, a run id of 16 hex digits, a sequence of at most 20 digits, 3 separators.
inline constexpr std::size_t kMaxEnvelopeHeaderBytes = 64 + 1 + 16 + 1 + 20 + 1;

// Owned by the Node; update() is called by the thread that connects and by cnats's callback
// thread on every (re)connect of the lines connection (the servers of a cluster may be set up
// differently); bytes() is read by the broker thread (Routes) and the publisher. Promises: once
// the lines connection has been up, bytes() is the max_payload of the server it was last
// connected to; 0 before that (nothing is refused for its size then: NATS is unreachable and
// the publisher drops everything anyway).
class PayloadLimit {
 public:
  std::size_t bytes() const noexcept { return bytes_.load(std::memory_order_relaxed); }
  // Logs the limit when it changes.
  void update(natsConnection* connection);

 private:
  std::atomic<std::size_t> bytes_{0};
};

// Whether one publication with one entry (`recipients` for `line`) fits in `limit` bytes
// (0: unknown, fits).
constexpr bool fits_one_publication(std::size_t recipients_bytes, std::size_t line_bytes,
                                    std::size_t limit) noexcept {
  return limit == 0 || kMaxEnvelopeHeaderBytes + recipients_bytes + 1 + line_bytes <= limit;
}

}  // namespace achat::cluster
