// Programs that ThreadSanitizer must judge: built only in the TSan build and run by
// expect_race.py with the suppression file every other test uses (tests/tsan.supp).
//
//   handoff           correct use of the inbox's configuration (shared lanes, spin), with
//                     enough traffic that every block's slots are reused many times: must
//                     exit 0 with no report (the slot-reuse ordering of channel_slot.h at work).
//   write-after-send  a sender writes the payload an item points to after sending it, while the
//                     receiver reads it: must be reported.
//   move-reads-shared the item's own move assignment, which moodycamel runs inside its dequeue,
//                     reads what the sender writes after sending: must be reported. Queue
//                     frames are in the receiver's stack, so any suppression that matches the
//                     queue's code (`race:concurrentqueue.h`, say) would drop this report.
//   two-readers       two senders on different lanes race on data outside the channel; the
//                     receiver takes the first one's item before the second one sends and then
//                     reads: must be reported (ordering added for the queue must not link one
//                     sender to another).
#include "achat/channel.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

namespace achat {
namespace {

using Clock = std::chrono::steady_clock;

// The inbox's production shape: readers share a few lanes, the broker spins.
ChannelOptions inbox_like() {
  ChannelOptions options;
  options.shared_lanes = 4;
  options.consumer_spin = std::chrono::microseconds(50);
  return options;
}

// Spins until `flag` is set, without telling TSan anything (a relaxed load orders nothing).
// Used to force an order in time between threads while leaving happens-before out of it.
bool wait_relaxed(const std::atomic<bool>& flag) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!flag.load(std::memory_order_relaxed)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

struct Payload {
  int value = 0;
};

struct Item {
  int sender = 0;
  int sequence = 0;
  Payload* payload = nullptr;
};

// --- handoff --------------------------------------------------------------------------------

int handoff() {
  constexpr int kSenders = 8;
  constexpr int kItems = 3000;  // per sender: ~190 blocks of 16 slots each, reused over and over
  auto [sender, receiver] = make_channel<std::unique_ptr<Item>>(inbox_like());
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([s, handle = sender]() mutable {
      std::array<std::unique_ptr<Item>, 3> bulk;
      for (int i = 0; i < kItems;) {
        if (i % 5 == 0 && i + 3 <= kItems) {  // some bulk sends too
          for (auto& item : bulk) item = std::make_unique<Item>(Item{s, i++, new Payload{i}});
          if (!handle.send_bulk(bulk)) std::abort();
        } else {
          auto item = std::make_unique<Item>(Item{s, i, new Payload{i + 1}});
          ++i;
          if (!handle.send(std::move(item))) std::abort();
        }
      }
    });
  }
  sender.reset();
  std::array<int, kSenders> next{};
  std::array<std::unique_ptr<Item>, 32> batch;
  while (const std::size_t n = receiver.receive(batch)) {
    for (std::size_t k = 0; k < n; ++k) {
      const Item& item = *batch[k];
      if (item.sequence != next[static_cast<std::size_t>(item.sender)]++) return 2;
      if (item.payload->value != item.sequence + 1) return 2;  // written before sending
      delete item.payload;
      batch[k].reset();
    }
  }
  for (std::thread& thread : senders) thread.join();
  for (int count : next) {
    if (count != kItems) return 2;
  }
  return 0;
}

// --- write-after-send -----------------------------------------------------------------------

[[gnu::noipa]] void sender_writes_after_send(Payload& payload) { payload.value = 2; }
[[gnu::noipa]] int receiver_reads_payload(const Payload& payload) { return payload.value; }

int write_after_send() {
  auto [sender, receiver] = make_channel<Item>(inbox_like());
  auto* payload = new Payload{1};
  std::atomic<bool> read{false};
  std::thread thread([handle = std::move(sender), payload, &read]() mutable {
    if (!handle.send(Item{0, 0, payload})) std::abort();
    sender_writes_after_send(*payload);  // the item is the receiver's now: a race
    // Closing the channel releases everything this thread did: keep it open until the read.
    wait_relaxed(read);
  });
  std::array<Item, 1> batch;
  int seen = 0;
  if (receiver.receive(batch) == 1) seen = receiver_reads_payload(*batch[0].payload);
  read.store(true, std::memory_order_relaxed);
  thread.join();
  delete payload;
  std::printf("read %d\n", seen);
  return 0;
}

// --- move-reads-shared ----------------------------------------------------------------------

[[gnu::noipa]] int probe_reads_shared(const int* shared) { return shared ? *shared : 0; }

// An item whose move assignment reads shared state: moodycamel's dequeue runs it, so the
// receiver's read has moodycamel frames above it.
struct Probe {
  const int* shared = nullptr;
  int seen = 0;

  Probe() = default;
  explicit Probe(const int* to) noexcept : shared(to) {}
  Probe(Probe&& other) noexcept : shared(other.shared), seen(other.seen) {}
  Probe& operator=(Probe&& other) noexcept {
    shared = other.shared;
    seen = probe_reads_shared(shared);
    return *this;
  }
};

int move_reads_shared() {
  auto [sender, receiver] = make_channel<Probe>(inbox_like());
  auto* shared = new int{1};
  std::atomic<bool> written{false};
  std::atomic<bool> received{false};
  std::thread thread([handle = std::move(sender), shared, &written, &received]() mutable {
    if (!handle.send(Probe(shared))) std::abort();
    *shared = 2;  // after hand-off, and not what the item owns: a race with the dequeue's read
    written.store(true, std::memory_order_relaxed);
    // Closing the channel releases everything this thread did: keep it open until the dequeue.
    wait_relaxed(received);
  });
  std::array<Probe, 1> batch;
  wait_relaxed(written);  // in time (not in happens-before) the write comes before the move
  const std::size_t n = receiver.receive(batch);
  received.store(true, std::memory_order_relaxed);
  thread.join();
  delete shared;
  std::printf("received %zu, saw %d\n", n, n ? batch[0].seen : 0);
  return 0;
}

// --- two-readers ----------------------------------------------------------------------------

[[gnu::noipa]] void reader_a_writes_shared(int& shared) { shared = 42; }
[[gnu::noipa]] int reader_b_reads_shared(const int& shared) { return shared; }

int two_readers() {
  auto [sender, receiver] = make_channel<Item>(inbox_like());
  // Lanes are dealt round robin: the original handle has lane 0, these lanes 1 and 2.
  Sender<Item> a_handle(sender);
  Sender<Item> b_handle(sender);
  sender.reset();
  int shared = 0;  // outside the channel, touched by both readers without a lock
  std::atomic<bool> a_received{false};
  std::atomic<int> b_saw{-1};
  std::thread a([handle = std::move(a_handle), &shared]() mutable {
    reader_a_writes_shared(shared);
    if (!handle.send(Item{0, 0, nullptr})) std::abort();
  });
  std::thread b([handle = std::move(b_handle), &shared, &a_received, &b_saw]() mutable {
    if (!wait_relaxed(a_received)) std::abort();
    if (!handle.send(Item{1, 0, nullptr})) std::abort();
    b_saw.store(reader_b_reads_shared(shared), std::memory_order_relaxed);
  });
  std::array<Item, 1> batch;
  if (receiver.receive(batch) != 1 || batch[0].sender != 0) std::abort();
  a_received.store(true, std::memory_order_relaxed);
  while (receiver.receive(batch) != 0) {
  }
  a.join();
  b.join();
  std::printf("b saw %d\n", b_saw.load());
  return 0;
}

}  // namespace
}  // namespace achat

int main(int argc, char** argv) {
  const std::string_view mode = argc > 1 ? argv[1] : "";
  if (mode == "handoff") return achat::handoff();
  if (mode == "write-after-send") return achat::write_after_send();
  if (mode == "move-reads-shared") return achat::move_reads_shared();
  if (mode == "two-readers") return achat::two_readers();
  std::fprintf(stderr, "usage: %s handoff|write-after-send|move-reads-shared|two-readers\n", argv[0]);
  return 2;
}
