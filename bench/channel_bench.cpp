// Micro-benchmark: achat::make_channel (lock-free, moodycamel) against a std::mutex +
// std::condition_variable queue with the same interface, in the shape the server uses them:
// many producer threads -> one consumer, items are std::shared_ptr<const std::string>.
//
// Arguments of every case: {producer threads, receive batch (64 = batch receive, 1 = one item
// per receive call)}. Each iteration moves kItemsPerIteration items; thread start-up is excluded
// from the timing (producers wait on a latch that opens once the clock runs).
#include <achat/channel.h>
#include <benchmark/benchmark.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <latch>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Item = std::shared_ptr<const std::string>;

constexpr std::int64_t kItemsPerIteration = 200'000;

// ---------------------------------------------------------------------------------------------
// Baseline: the same contract as achat::Sender/Receiver (copyable senders that count, close on
// the last sender's destruction, batch receive returning 0 once closed and drained), built on a
// mutex, a condition variable and a std::deque.
namespace mutex_channel {

template <class T>
struct State {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<T> items;
  std::size_t senders = 1;
  bool consumer_waiting = false;
};

template <class T>
class Receiver;

// Producer handle: every copy counts as a sender; the last one destroyed closes the channel.
template <class T>
class Sender {
 public:
  explicit Sender(std::shared_ptr<State<T>> state) : state_(std::move(state)) {}
  Sender(const Sender& other) : state_(other.state_) {
    if (state_) {
      std::lock_guard lock(state_->mutex);
      ++state_->senders;
    }
  }
  Sender(Sender&&) noexcept = default;
  Sender& operator=(Sender other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~Sender() { reset(); }

  void reset() noexcept {
    if (!state_) return;
    bool wake = false;
    {
      std::lock_guard lock(state_->mutex);
      wake = --state_->senders == 0 && state_->consumer_waiting;
    }
    if (wake) state_->ready.notify_one();
    state_.reset();
  }

  bool send(T item) {
    bool wake = false;
    {
      std::lock_guard lock(state_->mutex);
      state_->items.push_back(std::move(item));
      wake = state_->consumer_waiting;
    }
    if (wake) state_->ready.notify_one();  // outside the lock: the consumer does not wake into it
    return true;
  }

 private:
  std::shared_ptr<State<T>> state_;
};

// The single consumer handle.
template <class T>
class Receiver {
 public:
  explicit Receiver(std::shared_ptr<State<T>> state) : state_(std::move(state)) {}

  // Blocks until at least one item or close; 0 means closed and drained.
  std::size_t receive(std::span<T> out) {
    std::unique_lock lock(state_->mutex);
    state_->consumer_waiting = true;
    state_->ready.wait(lock, [&] { return !state_->items.empty() || state_->senders == 0; });
    state_->consumer_waiting = false;
    std::size_t n = 0;
    while (n < out.size() && !state_->items.empty()) {
      out[n++] = std::move(state_->items.front());
      state_->items.pop_front();
    }
    return n;
  }

 private:
  std::shared_ptr<State<T>> state_;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> make_channel() {
  auto state = std::make_shared<State<T>>();
  return {Sender<T>(state), Receiver<T>(state)};
}

}  // namespace mutex_channel

struct LockFree {
  static auto make() { return achat::make_channel<Item>(); }
};
struct MutexCondvar {
  static auto make() { return mutex_channel::make_channel<Item>(); }
};

// One iteration: `producers` threads each send their share of kItemsPerIteration copies of
// their own message, then drop their sender; the benchmark thread receives until closed.
template <class Impl>
void BM_ManyToOne(benchmark::State& state) {
  const auto producers = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  const auto per_producer = static_cast<std::size_t>(kItemsPerIteration) / producers;
  const auto total = per_producer * producers;
  std::vector<Item> buffer(batch);

  for (auto _ : state) {
    state.PauseTiming();
    auto [sender, receiver] = Impl::make();
    std::latch start(1);
    std::vector<std::thread> threads;
    threads.reserve(producers);
    for (std::size_t p = 0; p < producers; ++p) {
      threads.emplace_back([&start, per_producer, own = sender]() mutable {
        // Each producer shares its own string, as the server shares one line among recipients;
        // copying one shared_ptr from many threads would measure refcount contention instead.
        const Item message = std::make_shared<const std::string>(64, 'x');
        start.wait();
        for (std::size_t i = 0; i < per_producer; ++i) own.send(message);
      });
    }
    sender.reset();  // from now on the producers hold the only senders
    state.ResumeTiming();

    start.count_down();
    std::size_t received = 0;
    while (const std::size_t n = receiver.receive(std::span<Item>(buffer))) {
      received += n;
      benchmark::DoNotOptimize(buffer.front());
    }

    state.PauseTiming();
    for (auto& thread : threads) thread.join();
    if (received != total) state.SkipWithError("lost or duplicated items");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * total));
  state.counters["producers"] = static_cast<double>(producers);
}

// Each lock-free case runs right next to its mutex twin, so machine noise hits both alike.
void RegisterCases() {
  for (std::int64_t producers : {1, 4, 64, 1000}) {
    for (std::int64_t batch : {64, 1}) {
      for (auto* bench :
           {benchmark::RegisterBenchmark("channel/lockfree", BM_ManyToOne<LockFree>),
            benchmark::RegisterBenchmark("channel/mutex", BM_ManyToOne<MutexCondvar>)}) {
        bench->ArgNames({"producers", "batch"})
            ->Args({producers, batch})
            ->UseRealTime()
            ->Iterations(10)
            ->Repetitions(5)  // median and spread, on a machine shared with builds
            ->ReportAggregatesOnly(true)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterCases();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
