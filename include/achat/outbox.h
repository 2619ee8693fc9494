// A connection's outbox: the channel that carries lines to its writer thread. Unlike the
// moodycamel channel (channel.h), it gives back what a backlog cost once the backlog drains.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <span>
#include <string>
#include <utility>

namespace achat {

// A line on its way to a client. Immutable and shared: one allocation per message, whatever the
// number of recipients.
using OutboundLine = std::shared_ptr<const std::string>;

// Lines per segment of an outbox: 32 slots of 16 bytes and a header, one 544-byte malloc chunk,
// so a queued line's slot costs 17 bytes, inside the 128 bytes a queued line is charged for
// (connection.h), and an idle outbox keeps at most one such segment.
inline constexpr std::size_t kOutboxSegmentLines = 32;
// Emptied segments an outbox keeps for reuse while lines keep coming, so a busy writer's rounds
// need no malloc; once its writer finds it empty and goes to sleep, it keeps one.
inline constexpr std::size_t kOutboxSpareSegments = 4;

namespace detail {

struct OutboxSegment {
  std::array<OutboundLine, kOutboxSegmentLines> lines;
  std::size_t size = 0;
  OutboxSegment* next = nullptr;
};

// A FIFO of lines in segments, owned by one thread at a time (it moves between the broker and
// the writer under the outbox's mutex). Freed segment by segment, never recursively, so a list
// of any length can die on a writer's small stack.
class SegmentList {
 public:
  SegmentList() = default;
  SegmentList(SegmentList&& other) noexcept
      : head_(std::exchange(other.head_, nullptr)),
        tail_(std::exchange(other.tail_, nullptr)),
        lines_(std::exchange(other.lines_, 0)),
        segments_(std::exchange(other.segments_, 0)) {}
  SegmentList& operator=(SegmentList other) noexcept {
    std::swap(head_, other.head_);
    std::swap(tail_, other.tail_);
    std::swap(lines_, other.lines_);
    std::swap(segments_, other.segments_);
    return *this;
  }
  ~SegmentList() {
    while (head_) pop_front();  // one segment at a time
  }

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t lines() const noexcept { return lines_; }
  std::size_t segments() const noexcept { return segments_; }
  OutboxSegment* front() const noexcept { return head_; }

  // New segments `count` more lines need beyond the room left in the last one.
  std::size_t segments_for(std::size_t count) const noexcept {
    const std::size_t room = tail_ ? kOutboxSegmentLines - tail_->size : 0;
    return count <= room ? 0 : (count - room + kOutboxSegmentLines - 1) / kOutboxSegmentLines;
  }

  void push_segment(std::unique_ptr<OutboxSegment> segment) noexcept {
    OutboxSegment* added = segment.release();
    lines_ += added->size;
    ++segments_;
    (tail_ ? tail_->next : head_) = added;
    tail_ = added;
  }

  std::unique_ptr<OutboxSegment> pop_front() noexcept {
    std::unique_ptr<OutboxSegment> first(head_);
    head_ = head_->next;
    if (!head_) tail_ = nullptr;
    first->next = nullptr;
    lines_ -= first->size;
    --segments_;
    return first;
  }

  // Appends `line`; a new segment, when the last is full, comes from `spares` or else `fresh`,
  // which together must hold segments_for(1) empty segments.
  void push(OutboundLine&& line, SegmentList& spares, SegmentList& fresh) noexcept {
    if (!tail_ || tail_->size == kOutboxSegmentLines) {
      push_segment(spares.empty() ? fresh.pop_front() : spares.pop_front());
    }
    tail_->lines[tail_->size++] = std::move(line);
    ++lines_;
  }

 private:
  OutboxSegment* head_ = nullptr;
  OutboxSegment* tail_ = nullptr;
  std::size_t lines_ = 0;
  std::size_t segments_ = 0;
};

// Shared by the handles of one outbox. Everything but `senders` is guarded by `mutex`, which
// each side holds only to append a round's lines or to take all of them (O(1)).
struct OutboxState {
  std::mutex mutex;
  std::condition_variable ready;  // the receiver sleeps here while nothing is queued
  SegmentList queued;
  SegmentList spares;  // emptied segments, reused before allocating (see kOutboxSpareSegments)
  bool closed = false;
  bool receiver_waiting = false;
  std::atomic<std::size_t> senders{1};
};

}  // namespace detail

// The lines one receive() took: owned and read by the receiving thread, front to back. Each
// segment is freed as soon as it is emptied, but for a few kept for the outbox to reuse.
class OutboxBatch {
 public:
  bool empty() const noexcept { return lines_.empty(); }

  // Moves up to out.size() lines from the front into `out`; returns how many.
  std::size_t take(std::span<OutboundLine> out) noexcept {
    std::size_t got = 0;
    while (got < out.size() && !lines_.empty()) {
      detail::OutboxSegment& front = *lines_.front();
      const std::size_t n = std::min(out.size() - got, front.size - next_);
      for (std::size_t i = 0; i < n; ++i) out[got + i] = std::move(front.lines[next_ + i]);
      got += n;
      next_ += n;
      if (next_ == front.size) {
        auto spent = lines_.pop_front();
        spent->size = 0;
        next_ = 0;
        if (spent_.segments() < kOutboxSpareSegments) spent_.push_segment(std::move(spent));
      }
    }
    return got;
  }

 private:
  friend class OutboxReceiver;
  detail::SegmentList lines_;
  std::size_t next_ = 0;  // the next line's index in the front segment
  detail::SegmentList spent_;
};

class OutboxReceiver;

// A handle that queues lines to one writer. Copyable: every copy counts as a sender (the broker
// holds one, the connection's reader another), and one handle is used by one thread at a time.
// Destroying or reset()ing the last handle closes the outbox, exactly once, during stack
// unwinding too. Lines sent through one handle are received in the order sent.
class OutboxSender {
 public:
  OutboxSender() = default;  // an empty handle, like a moved-from one: sends nothing
  OutboxSender(const OutboxSender& other) noexcept : state_(other.state_) {
    if (state_) state_->senders.fetch_add(1, std::memory_order_relaxed);
  }
  OutboxSender(OutboxSender&& other) noexcept = default;
  OutboxSender& operator=(OutboxSender other) noexcept {
    state_.swap(other.state_);
    return *this;
  }
  ~OutboxSender() { release(); }

  void reset() noexcept {
    release();
    state_.reset();
  }
  explicit operator bool() const noexcept { return state_ != nullptr; }

  // Appends `lines` in order, moving from them, and wakes the receiver if it sleeps. All or
  // nothing: false (nothing sent) only if a segment could not be allocated or the handle is
  // empty. Never allocates under the lock.
  bool send_bulk(std::span<OutboundLine> lines) {
    if (!state_) return false;
    if (lines.empty()) return true;
    detail::OutboxState& state = *state_;
    detail::SegmentList fresh;  // declared before the lock: what is left over is freed after it
    std::unique_lock lock(state.mutex);
    while (true) {
      const std::size_t needed = state.queued.segments_for(lines.size());
      const std::size_t have = state.spares.segments() + fresh.segments();
      if (needed <= have) break;
      lock.unlock();
      try {
        for (std::size_t i = have; i < needed; ++i) fresh.push_segment(std::make_unique<detail::OutboxSegment>());
      } catch (const std::bad_alloc&) {
        return false;
      }
      lock.lock();
    }
    for (OutboundLine& line : lines) state.queued.push(std::move(line), state.spares, fresh);
    while (!fresh.empty() && state.spares.segments() < kOutboxSpareSegments) {
      state.spares.push_segment(fresh.pop_front());
    }
    const bool wake = std::exchange(state.receiver_waiting, false);
    lock.unlock();
    if (wake) state.ready.notify_one();
    return true;
  }

 private:
  friend std::pair<OutboxSender, OutboxReceiver> make_outbox();
  explicit OutboxSender(std::shared_ptr<detail::OutboxState> state) noexcept : state_(std::move(state)) {}

  void release() noexcept {
    if (state_ && state_->senders.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      {
        std::lock_guard lock(state_->mutex);
        state_->closed = true;
      }
      state_->ready.notify_one();
    }
  }

  std::shared_ptr<detail::OutboxState> state_;
};

// The single consumer handle: move-only, used by the writer thread.
class OutboxReceiver {
 public:
  OutboxReceiver(OutboxReceiver&&) noexcept = default;
  OutboxReceiver& operator=(OutboxReceiver&&) noexcept = default;

  // Blocks until lines are queued or every sender is gone, then moves every queued line into
  // `batch` (which must have been emptied) and returns how many: 0 means closed and drained,
  // and stays so. First gives the batch's emptied segments back for reuse, and before it sleeps
  // frees all spares but one.
  std::size_t receive(OutboxBatch& batch) {
    detail::SegmentList unused = std::move(batch.spent_);
    std::unique_lock lock(state_->mutex);
    const bool idle = state_->queued.empty();
    const std::size_t keep = idle ? 1 : kOutboxSpareSegments;
    while (!unused.empty() && state_->spares.segments() < keep) state_->spares.push_segment(unused.pop_front());
    while (state_->spares.segments() > keep) unused.push_segment(state_->spares.pop_front());
    if (!unused.empty()) {
      lock.unlock();
      unused = detail::SegmentList();  // freed unlocked
      lock.lock();
    }
    if (state_->queued.empty() && !state_->closed) ++sleeps_;
    while (state_->queued.empty() && !state_->closed) {
      state_->receiver_waiting = true;
      state_->ready.wait(lock);
    }
    batch.lines_ = std::move(state_->queued);
    batch.next_ = 0;
    return batch.lines_.lines();
  }

  // True if nothing is queued right now.
  bool empty() const {
    std::lock_guard lock(state_->mutex);
    return state_->queued.empty();
  }

  // How many receive() calls found nothing and slept: the wake-ups its senders paid for.
  std::uint64_t sleeps() const noexcept { return sleeps_; }

 private:
  friend std::pair<OutboxSender, OutboxReceiver> make_outbox();
  explicit OutboxReceiver(std::shared_ptr<detail::OutboxState> state) noexcept : state_(std::move(state)) {}

  std::shared_ptr<detail::OutboxState> state_;
  std::uint64_t sleeps_ = 0;
};

// Creates an open outbox with one sender.
inline std::pair<OutboxSender, OutboxReceiver> make_outbox() {
  auto state = std::make_shared<detail::OutboxState>();
  return {OutboxSender(state), OutboxReceiver(state)};
}

}  // namespace achat
