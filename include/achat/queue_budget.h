// The server-wide budget for bytes queued to writers: every client's backlog counts against it.
#pragma once

#include <atomic>
#include <cstdint>

namespace achat {

// Owned by the Registry, outliving every connection. Whoever queues lines for a writer adds
// their cost before the writer can see them (the broker, at the end of each round and, mid-round,
// for a peer that leaves; a reader, for its one reply before a login), and writers subtract what
// they wrote or discarded (relaxed atomics: the total is a sum, not a synchronisation point).
// Only the broker compares it with the limit and decides who is cut to stay under it. It reads
// the total once per round and adds what it hands over itself: an upper bound all round, but for
// replies readers queue meanwhile (one short error line per connection that is refused).
class QueueBudget {
 public:
  explicit QueueBudget(std::int64_t limit_bytes) : limit_(limit_bytes) {}
  QueueBudget(const QueueBudget&) = delete;
  QueueBudget& operator=(const QueueBudget&) = delete;

  void add(std::int64_t bytes) noexcept { used_.fetch_add(bytes, std::memory_order_relaxed); }
  std::int64_t used() const noexcept { return used_.load(std::memory_order_relaxed); }
  std::int64_t limit() const noexcept { return limit_; }

 private:
  const std::int64_t limit_;
  std::atomic<std::int64_t> used_{0};
};

}  // namespace achat
