// Micro-benchmark: the writer's path. One thread plays the broker and hands each of W writers
// its lines of a round (send_bulk of L lines), W threads play the writers and take everything
// queued in batches of 64, as WriterTask does. The outbox (include/achat/outbox.h: mutex, batch
// swap, segments freed as drained) against the moodycamel channel the writers used before
// (include/achat/channel.h, one producer token per writer). Both run in one binary, each case
// next to its twin, so machine noise hits both alike.
//
// Arguments of every case: {writers W, lines per writer and round L}. Each iteration moves
// kLinesPerIteration lines in all.
#include <achat/channel.h>
#include <achat/outbox.h>
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Item = achat::OutboundLine;

constexpr std::size_t kLinesPerIteration = 200'000;
constexpr std::size_t kWriteBatch = 64;

struct Moodycamel {
  using Sender = achat::Sender<Item>;
  using Receiver = achat::Receiver<Item>;
  static auto make() { return achat::make_channel<Item>(); }
  // Everything the writer receives, in batches of 64; returns the count (0: closed).
  static std::size_t drain(Receiver& receiver) {
    std::array<Item, kWriteBatch> batch;
    const std::size_t n = receiver.receive(batch);
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
    return n;
  }
};

struct Outbox {
  using Sender = achat::OutboxSender;
  using Receiver = achat::OutboxReceiver;
  static auto make() { return achat::make_outbox(); }
  static std::size_t drain(Receiver& receiver) {
    thread_local achat::OutboxBatch received;
    if (!receiver.receive(received)) return 0;
    std::array<Item, kWriteBatch> batch;
    std::size_t total = 0;
    while (const std::size_t n = received.take(batch)) {
      for (std::size_t i = 0; i < n; ++i) batch[i].reset();
      total += n;
    }
    return total;
  }
};

template <class Impl>
void BM_BrokerToWriters(benchmark::State& state) {
  const auto writers = static_cast<std::size_t>(state.range(0));
  const auto per_round = static_cast<std::size_t>(state.range(1));
  const std::size_t rounds = kLinesPerIteration / (writers * per_round);
  const Item line = std::make_shared<const std::string>(64, 'x');
  std::vector<Item> round(per_round);

  for (auto _ : state) {
    state.PauseTiming();
    std::vector<typename Impl::Sender> senders;
    std::vector<std::thread> threads;
    std::vector<std::size_t> received(writers, 0);
    for (std::size_t w = 0; w < writers; ++w) {
      auto [sender, receiver] = Impl::make();
      senders.push_back(std::move(sender));
      threads.emplace_back([&received, w, receiver = std::move(receiver)]() mutable {
        while (const std::size_t n = Impl::drain(receiver)) received[w] += n;
      });
    }
    state.ResumeTiming();

    for (std::size_t r = 0; r < rounds; ++r) {
      for (auto& sender : senders) {
        for (auto& slot : round) slot = line;
        sender.send_bulk(std::span<Item>(round));
      }
    }
    senders.clear();  // closes every channel: the writers drain and return
    for (auto& thread : threads) thread.join();

    state.PauseTiming();
    for (const std::size_t n : received) {
      if (n != rounds * per_round) state.SkipWithError("lost or duplicated lines");
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * rounds * per_round * writers));
}

void RegisterCases() {
  for (std::int64_t writers : {1, 8, 100}) {
    for (std::int64_t per_round : {1, 16, 256}) {
      for (auto* bench :
           {benchmark::RegisterBenchmark("writer/moodycamel", BM_BrokerToWriters<Moodycamel>),
            benchmark::RegisterBenchmark("writer/outbox", BM_BrokerToWriters<Outbox>)}) {
        bench->ArgNames({"writers", "per_round"})
            ->Args({writers, per_round})
            ->UseRealTime()
            ->Iterations(10)
            ->Repetitions(5)
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
