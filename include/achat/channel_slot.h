// What a channel (channel.h) stores in its moodycamel queue, and how ThreadSanitizer is told
// about the one ordering inside the queue that it cannot see.
//
// moodycamel hands a block's slots back to their producer after the consumer has emptied them:
// the consumer stores each slot's "empty" flag with release, the producer reads the flags
// relaxed and then issues std::atomic_thread_fence(acquire). ThreadSanitizer does not model
// fences, so it sees the producer construct a new item in a slot that the consumer read and
// destroyed "concurrently", and reports a race that cannot happen. The same fence orders the
// producer's rewrite of the queue's own block index entry when it reuses a block; that is
// moodycamel's bookkeeping, suppressed by tests/tsan.supp for accesses made by its own lines.
// Every other hand-off inside the queue (the tail index, the producer list) and in the channel
// (the semaphore, the lane mutexes) uses acquire/release atomics or calls TSan models.
//
// Under TSan, each queue element is therefore a ChannelSlot: destroying it (the consumer, in
// moodycamel's dequeue) releases on the slot's own address after the item is gone, and
// constructing one (a producer, in moodycamel's enqueue) acquires from that address before the
// item is built. That is the slot-reuse edge and nothing more: the producer that reuses a slot
// is ordered after what the consumer had done when it destroyed the slot's previous item, which
// the real fence orders too, and after nothing else. A sender's accesses after its send stay
// unordered with the receiver's, and two senders stay unordered unless one reuses a slot that
// the receiver emptied after taking the other's item (as in the real program); so a race on
// what an item points to, or between two senders, is still reported (tests/tsan/). A single
// per-channel address released on receive and acquired on send would link every sender to every
// earlier one and hide such races (tests/tsan/channel_races.cpp, two-readers, fails with it).
//
// Outside TSan builds the queue stores T itself and nothing here costs anything.
#pragma once

#include <cstddef>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#define ACHAT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ACHAT_TSAN 1
#endif
#endif

#ifdef ACHAT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace achat::detail {

#ifdef ACHAT_TSAN

// One queue slot's item. Constructed only in place inside a moodycamel block (enqueue) and
// destroyed there (dequeue); never copied, moved or assigned as a whole.
template <class T>
class ChannelSlot {
 public:
  template <class U>
    requires(!std::is_same_v<std::remove_cvref_t<U>, ChannelSlot> && std::is_constructible_v<T, U &&>)
  explicit ChannelSlot(U&& item) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    __tsan_acquire(this);  // after the consumer's last touch of this slot (see ~ChannelSlot)
    ::new (static_cast<void*>(&item_)) T(std::forward<U>(item));
  }
  ChannelSlot(const ChannelSlot&) = delete;
  ChannelSlot& operator=(const ChannelSlot&) = delete;
  ~ChannelSlot() {
    item_.~T();
    __tsan_release(this);  // the slot is free for its producer from here on
  }

  T& item() noexcept { return item_; }

 private:
  union {
    T item_;  // a union member so that it dies inside the destructor's body, before the release
  };
};

template <class T>
using Stored = ChannelSlot<T>;

// Where moodycamel's bulk dequeue writes: assigning a slot to `*it` moves the slot's item into
// the next T of the receiver's buffer.
template <class T>
class SlotSink {
 public:
  class Target {
   public:
    explicit Target(T& to) noexcept : to_(to) {}
    Target& operator=(ChannelSlot<T>&& slot) noexcept(std::is_nothrow_move_assignable_v<T>) {
      to_ = std::move(slot.item());
      return *this;
    }

   private:
    T& to_;
  };

  explicit SlotSink(T* at) noexcept : at_(at) {}
  Target operator*() const noexcept { return Target(*at_); }
  SlotSink& operator++() noexcept {
    ++at_;
    return *this;
  }
  SlotSink operator++(int) noexcept { return SlotSink(at_++); }

 private:
  T* at_;
};

template <class T>
SlotSink<T> slot_sink(T* at) noexcept {
  return SlotSink<T>(at);
}

// One item into the queue. moodycamel's single enqueue takes a ready element, which would mean
// a ChannelSlot built (and annotated) on the sender's stack; a bulk of one builds it in place.
template <class Queue, class Token, class T>
bool enqueue_one(Queue& queue, Token& token, T&& item) {
  return queue.enqueue_bulk(token, std::make_move_iterator(std::addressof(item)), 1);
}

#else

template <class T>
using Stored = T;

template <class T>
T* slot_sink(T* at) noexcept {
  return at;
}

template <class Queue, class Token, class T>
bool enqueue_one(Queue& queue, Token& token, T&& item) {
  return queue.enqueue(token, std::move(item));
}

#endif

}  // namespace achat::detail
