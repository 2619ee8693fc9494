// Micro-benchmark: the broker's receive path as the number of online readers grows.
//
// Every online reader holds a sender on the broker's inbox and has sent at least once (its
// login), so without shared lanes each one owns a moodycamel producer, and the broker's receive
// scans all of them whenever it finds fewer events than it asked for. Arguments:
// {registered readers, inbox lanes}; 10 of the readers send one event each per iteration, then
// the broker side receives them with a batch as large as the broker's round. lanes = 0 is the
// old inbox (a producer per reader); the server uses kInboxLanes. The cost per event should not
// depend on how many readers sit idle.
#include "broker.h"
#include <achat/channel.h>
#include <achat/events.h>
#include <benchmark/benchmark.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kActiveReaders = 10;
constexpr std::size_t kRound = 4096;

void BM_InboxReceive(benchmark::State& state) {
  const auto readers = static_cast<std::size_t>(state.range(0));
  achat::ChannelOptions options;
  options.shared_lanes = static_cast<std::size_t>(state.range(1));
  options.consumer_spin = std::chrono::nanoseconds(0);
  auto [first, receiver] = achat::make_channel<achat::BrokerEvent>(options);
  std::vector<achat::Sender<achat::BrokerEvent>> senders(readers, first);
  std::vector<achat::BrokerEvent> round(kRound);
  // Log every reader in: each sends once, as a login does.
  for (auto& sender : senders) sender.send(achat::ReaderGone{});
  for (std::size_t got = 0; got < readers;) got += receiver.try_receive(round);

  std::vector<std::size_t> active;
  for (std::size_t i = 0; i < kActiveReaders; ++i) active.push_back(i * readers / kActiveReaders);
  const auto line = std::make_shared<const std::string>("from c00001: hello\n");
  for (auto _ : state) {
    for (const std::size_t reader : active) {
      senders[reader].send(achat::ChatMessage{reader, "c00002", line});
    }
    for (std::size_t got = 0; got < kActiveReaders;) got += receiver.try_receive(round);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kActiveReaders));
  state.counters["ns_per_event"] = benchmark::Counter(
      static_cast<double>(state.iterations() * kActiveReaders),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_InboxReceive)
    ->ArgNames({"readers", "lanes"})
    ->ArgsProduct({{10, 1000, 10000}, {0, static_cast<long>(achat::kInboxLanes)}})
    ->Unit(benchmark::kNanosecond);

}  // namespace

BENCHMARK_MAIN();
