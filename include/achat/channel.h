// A multi-producer, single-consumer channel over moodycamel's lock-free queue that closes by
// ownership: when the last Sender handle is destroyed the channel closes, and its Receiver
// drains what is left and then reports "closed". Under ThreadSanitizer the queue's elements
// carry the slot-reuse ordering TSan cannot see (channel_slot.h), so races on items stay
// visible; only accesses made by moodycamel's own lines are suppressed (tests/tsan.supp).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <concurrentqueue/concurrentqueue.h>
#include <concurrentqueue/lightweightsemaphore.h>

#include "achat/channel_slot.h"

namespace achat {

// Sized for thousands of queues and producers that are mostly idle (see README "Memory"):
struct ChannelQueueTraits : moodycamel::ConcurrentQueueDefaultTraits {
  // Every producer holds an explicit token, so the implicit-producer hash (512 bytes inline in
  // every queue) is disabled.
  static const size_t INITIAL_IMPLICIT_PRODUCER_HASH_SIZE = 0;
  // A new channel preallocates one block, and each producer token claims one block of its own
  // once it sends: 16 slots rather than moodycamel's 32 keep an idle channel small. (The inbox's
  // readers share 32 lanes, so a reader holds no block of its own; writers use an outbox.)
  static const size_t BLOCK_SIZE = 16;
  // The block index starts this large and doubles as needed; 32 (the default) costs 512 bytes
  // for every producer token, of which each connection holds several.
  static const size_t EXPLICIT_INITIAL_INDEX_SIZE = 4;
};

// How long a waiting consumer polls before it sleeps on the kernel semaphore, by default: not
// at all. a-chat runs on few cores, where a consumer's spin (the refusal thread's, say) only
// steals time from the thread that would wake it; the broker, one thread that every
// message passes, is given an adaptive spin instead (see ChannelOptions).
inline constexpr std::chrono::nanoseconds kDefaultConsumerSpin{0};

// Items per block (moodycamel's BLOCK_SIZE): a new channel preallocates one block, which keeps
// an idle peer's queue small.
inline constexpr std::size_t kChannelInitialCapacity = ChannelQueueTraits::BLOCK_SIZE;

struct ChannelOptions {
  std::size_t initial_capacity = kChannelInitialCapacity;
  // How long a waiting receiver may poll before it sleeps on the kernel semaphore. It polls
  // only while that pays: when the waits it has recently seen (a moving average) were shorter
  // than this, so the next item is likely to come before the spin ends. Under a steady trickle
  // of items the receiver then sleeps at once, and a spin never burns CPU for nothing.
  std::chrono::nanoseconds consumer_spin = kDefaultConsumerSpin;
  // 0: every Sender handle gets a moodycamel producer of its own. N > 0: handles share N
  // producer lanes (each handle keeps one lane for life, so its items stay in order; a mutex
  // per lane, held for one enqueue, serialises the handles sharing it). moodycamel's consumer
  // scans every producer when it finds fewer items than it asked for, so a channel with
  // thousands of mostly idle senders (the broker's inbox: one per reader) needs lanes to keep
  // that scan short and independent of the number of senders.
  std::size_t shared_lanes = 0;
};

// Lane lock waits are kept as a histogram by powers of two of nanoseconds: bucket i counts waits
// in [2^(i-1), 2^i).
inline constexpr std::size_t kLaneWaitBuckets = 40;

// What the shared lanes' locks cost the senders of one channel so far (see detail::Lane).
struct LaneContention {
  std::uint64_t sends = 0;      // lane acquisitions: one per send() or send_bulk()
  std::uint64_t contended = 0;  // of which found the lane's lock taken and waited
  std::array<std::uint64_t, kLaneWaitBuckets> waits{};  // contended waits, by bucket

  // The wait below which `fraction` of all sends (uncontended ones wait 0) got their lane, as
  // the upper bound of its power-of-two bucket, in nanoseconds.
  std::uint64_t wait_quantile_ns(double fraction) const {
    const auto uncontended = static_cast<double>(sends - contended);
    const double wanted = fraction * static_cast<double>(sends);
    if (uncontended >= wanted) return 0;
    double seen = uncontended;
    for (std::size_t bucket = 0; bucket < waits.size(); ++bucket) {
      seen += static_cast<double>(waits[bucket]);
      if (seen >= wanted) return std::uint64_t{1} << bucket;
    }
    return std::uint64_t{1} << (waits.size() - 1);
  }
};

namespace detail {

template <class T>
using ChannelQueue = moodycamel::ConcurrentQueue<Stored<T>, ChannelQueueTraits>;  // channel_slot.h

// One producer shared by the handles assigned to it. The mutex guards only the moodycamel
// producer token (a token is single-threaded); the queue behind it stays lock-free for the
// consumer and between lanes. A sender that finds the lock free pays one uncontended lock; one
// that finds it taken is counted and its wait is timed (see LaneContention).
template <class T>
struct Lane {
  explicit Lane(ChannelQueue<T>& queue) : token(queue) {}

  template <class Enqueue>
  bool locked(Enqueue enqueue) {
    std::unique_lock lock(mutex, std::try_to_lock);
    if (!lock.owns_lock()) {
      const auto start = std::chrono::steady_clock::now();
      lock.lock();
      const auto waited = std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now() - start).count();
      const auto bucket = std::min<std::size_t>(
          std::bit_width(static_cast<std::uint64_t>(waited)), kLaneWaitBuckets - 1);
      bump(waits[bucket]);
    }
    bump(acquisitions);  // under the lock: the only writer now, so no read-modify-write
    return enqueue(token);
  }

  // Written under `mutex`, read by anyone.
  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::mutex mutex;
  moodycamel::ProducerToken token;
  std::atomic<std::uint64_t> acquisitions{0};
  std::array<std::atomic<std::uint64_t>, kLaneWaitBuckets> waits{};
};

// Shared by every handle of one channel. `permits` counts enqueued items plus one extra permit
// released when the channel closes, so a waiting consumer wakes for either. The receiver does
// its own spinning (see Receiver), so the semaphore itself never spins.
template <class T>
struct ChannelState {
  explicit ChannelState(const ChannelOptions& options)
      : queue(options.initial_capacity), permits(0, /*maxSpins=*/0) {
    lanes.reserve(options.shared_lanes);
    for (std::size_t i = 0; i < options.shared_lanes; ++i) {
      lanes.push_back(std::make_unique<Lane<T>>(queue));
    }
  }

  Lane<T>* assign_lane() noexcept {
    if (lanes.empty()) return nullptr;
    return lanes[next_lane.fetch_add(1, std::memory_order_relaxed) % lanes.size()].get();
  }

  ChannelQueue<T> queue;
  moodycamel::LightweightSemaphore permits;
  std::atomic<std::size_t> senders{1};
  std::atomic<bool> closed{false};
  std::vector<std::unique_ptr<Lane<T>>> lanes;  // after `queue`: tokens die before it
  std::atomic<std::size_t> next_lane{0};
};

// A pause in a spin loop: lets the sibling hyperthread (or the hypervisor) run.
inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace detail

template <class T>
class Receiver;

// A producer handle. Copyable: every copy counts as a sender, and one handle is used by one
// thread at a time (copy it for another thread). Without shared lanes a copy gets its own
// moodycamel producer token on its first send (creating one scans the queue's producers, so
// copies that never send cost nothing until then); with shared lanes a copy is assigned a lane
// when it is made.
// Items sent through one handle are received in the order sent. Destroying or reset()ing the
// last handle closes the channel; that happens exactly once, during stack unwinding too.
template <class T>
class Sender {
 public:
  Sender() = default;  // an empty handle, like a moved-from one: sends nothing, counts nothing
  Sender(const Sender& other) : state_(other.state_) {
    if (state_) {
      state_->senders.fetch_add(1, std::memory_order_relaxed);
      lane_ = state_->assign_lane();
    }
  }
  Sender(Sender&& other) noexcept = default;
  Sender& operator=(Sender other) noexcept {
    swap(other);
    return *this;
  }
  ~Sender() { release(); }

  void swap(Sender& other) noexcept {
    state_.swap(other.state_);
    std::swap(token_, other.token_);
    std::swap(lane_, other.lane_);
  }

  // Gives up this handle now; the channel closes if it was the last one.
  void reset() noexcept {
    release();
    token_.reset();
    lane_ = nullptr;
    state_.reset();
  }

  explicit operator bool() const noexcept { return state_ != nullptr; }

  // Never blocks (but for a lane's mutex, held by another sender for one enqueue). False only
  // if the queue could not allocate (the item is then not sent) or the handle is empty.
  bool send(T item) {
    if (!state_) return false;
    const bool sent = with_token([&](moodycamel::ProducerToken& token) {
      return detail::enqueue_one(state_->queue, token, std::move(item));
    });
    if (!sent) return false;
    state_->permits.signal();
    return true;
  }

  // Sends `items` in order, moving from them, with a single wake-up of the receiver. All or
  // nothing: false (nothing sent) only if the queue could not allocate.
  bool send_bulk(std::span<T> items) {
    if (!state_) return false;
    if (items.empty()) return true;
    const bool sent = with_token([&](moodycamel::ProducerToken& token) {
      return state_->queue.enqueue_bulk(token, std::make_move_iterator(items.begin()), items.size());
    });
    if (!sent) return false;
    state_->permits.signal(static_cast<moodycamel::LightweightSemaphore::ssize_t>(items.size()));
    return true;
  }

 private:
  friend class Receiver<T>;
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> make_channel(const ChannelOptions&);

  explicit Sender(std::shared_ptr<detail::ChannelState<T>> state)
      : state_(std::move(state)), lane_(state_->assign_lane()) {}

  template <class Enqueue>
  bool with_token(Enqueue enqueue) {
    // A token whose producer could not be allocated is invalid; enqueueing through it would
    // dereference null, so that counts as a failed send (tried again on the next one).
    if (lane_) return lane_->token.valid() && lane_->locked(enqueue);
    if (!token_) token_.emplace(state_->queue);
    if (!token_->valid()) {
      token_.reset();
      return false;
    }
    return enqueue(*token_);
  }

  void release() noexcept {
    if (state_ && state_->senders.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      state_->closed.store(true, std::memory_order_release);
      state_->permits.signal();
    }
  }

  std::shared_ptr<detail::ChannelState<T>> state_;
  std::optional<moodycamel::ProducerToken> token_;  // after state_, so it dies first
  detail::Lane<T>* lane_ = nullptr;                 // owned by state_
};

// The single consumer handle: move-only, used by one thread.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&&) noexcept = default;

  // Blocks until at least one item is available or the channel is closed and drained. Returns
  // how many items were written to `out`; 0 means closed and drained, and stays so.
  std::size_t receive(std::span<T> out) { return take(out, /*timeout_usecs=*/-1); }

  // Like receive() but never blocks: 0 means nothing is available right now (or closed).
  std::size_t try_receive(std::span<T> out) { return take(out, /*timeout_usecs=*/0); }

  // True once receive() has returned 0 because every sender is gone and nothing is left.
  bool drained() const noexcept { return close_seen_ && state_->permits.availableApprox() == 0; }

  // How many receive() calls found nothing and went to sleep in the kernel: the wake-ups its
  // senders paid for. Read by the receiving thread.
  std::uint64_t sleeps() const noexcept { return sleeps_; }

  // Any thread: the shared lanes' lock statistics so far (all zero without shared lanes).
  LaneContention lane_contention() const noexcept {
    LaneContention total;
    for (const auto& lane : state_->lanes) {
      total.sends += lane->acquisitions.load(std::memory_order_relaxed);
      for (std::size_t bucket = 0; bucket < total.waits.size(); ++bucket) {
        const std::uint64_t waits = lane->waits[bucket].load(std::memory_order_relaxed);
        total.waits[bucket] += waits;
        total.contended += waits;
      }
    }
    total.sends = std::max(total.sends, total.contended);  // read while senders count
    return total;
  }

 private:
  template <class U>
  friend std::pair<Sender<U>, Receiver<U>> make_channel(const ChannelOptions&);

  using Count = moodycamel::LightweightSemaphore::ssize_t;

  using Clock = std::chrono::steady_clock;

  Receiver(std::shared_ptr<detail::ChannelState<T>> state, std::chrono::nanoseconds spin)
      : state_(std::move(state)),
        token_(std::make_unique<moodycamel::ConsumerToken>(state_->queue)),
        spin_(spin) {}

  // Items available now, after a spin if recent waits say one pays, or (if `timeout_usecs`
  // allows) after sleeping.
  std::size_t acquire(Count max, std::int64_t timeout_usecs) {
    Count permits = state_->permits.tryWaitMany(max);
    if (permits > 0 || timeout_usecs == 0) return static_cast<std::size_t>(permits);
    if (spin_.count() == 0) {
      ++sleeps_;
      return static_cast<std::size_t>(state_->permits.waitMany(max, timeout_usecs));
    }
    const auto start = Clock::now();
    if (typical_wait_ < spin_) {
      const auto spin_end = start + spin_;
      for (unsigned poll = 1; permits == 0; ++poll) {
        detail::spin_pause();
        permits = state_->permits.tryWaitMany(max);
        if (poll % 16 == 0 && Clock::now() >= spin_end) break;
      }
    }
    if (permits == 0) {
      ++sleeps_;
      permits = state_->permits.waitMany(max, timeout_usecs);
    }
    // A moving average over about eight waits.
    typical_wait_ += (std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start) -
                      typical_wait_) / 8;
    return static_cast<std::size_t>(permits);
  }

  std::size_t take(std::span<T> out, std::int64_t timeout_usecs) {
    if (out.empty()) return 0;
    // Once the close permit is consumed, only item permits remain: never wait for more.
    if (close_seen_) timeout_usecs = 0;
    const std::size_t permits = acquire(static_cast<Count>(out.size()), timeout_usecs);
    std::size_t got = 0;
    while (got < permits) {
      std::size_t n = state_->queue.try_dequeue_bulk(
          *token_, detail::slot_sink(out.data() + got), permits - got);
      got += n;
      if (n == 0 && state_->closed.load(std::memory_order_acquire)) {
        // Every send happened before the close, so one more sweep sees everything left. If it
        // still finds nothing, the permit we hold beyond the items is the close permit.
        n = state_->queue.try_dequeue_bulk(
            *token_, detail::slot_sink(out.data() + got), permits - got);
        got += n;
        if (n == 0) {
          assert(permits - got == 1);
          close_seen_ = true;
          break;
        }
      }
    }
    return got;
  }

  std::shared_ptr<detail::ChannelState<T>> state_;
  std::unique_ptr<moodycamel::ConsumerToken> token_;
  const std::chrono::nanoseconds spin_;
  std::chrono::nanoseconds typical_wait_{0};
  std::uint64_t sleeps_ = 0;
  bool close_seen_ = false;
};

// Creates an open channel with one Sender.
template <class T>
std::pair<Sender<T>, Receiver<T>> make_channel(const ChannelOptions& options = {}) {
  auto state = std::make_shared<detail::ChannelState<T>>(options);
  return {Sender<T>(state), Receiver<T>(state, options.consumer_spin)};
}

}  // namespace achat
