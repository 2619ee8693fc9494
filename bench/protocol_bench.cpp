// Micro-benchmarks of the per-line work off the broker thread (parsing and formatting, done by
// each reader) and of the broker's per-message cost of handing one formatted line to K
// recipients: one shared allocation versus a copy per recipient.
#include <achat/protocol.h>
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

namespace {

const std::string kText(64, 'x');

void BM_ParseChatLine(benchmark::State& state) {
  std::string line;
  for (int i = 0; i < state.range(0); ++i) line += (i ? ", user" : "user") + std::to_string(i);
  line += ": " + kText;
  std::string error;
  for (auto _ : state) {
    auto parsed = achat::parse_chat_line(line, 1000, error);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(line.size()));
}
BENCHMARK(BM_ParseChatLine)->Arg(1)->Arg(3)->Arg(49);

void BM_Utf8Validation(benchmark::State& state) {
  const std::string text = std::string(state.range(0), 'a') + "caf\xC3\xA9";
  for (auto _ : state) benchmark::DoNotOptimize(achat::is_valid_utf8(text));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_Utf8Validation)->Arg(64)->Arg(4096);

// What a-chat does: format once, share the immutable line with every recipient.
void BM_FormatSharedForRecipients(benchmark::State& state) {
  std::vector<std::shared_ptr<const std::string>> outboxes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto line = std::make_shared<const std::string>(achat::format_delivery("alice", kText));
    for (auto& slot : outboxes) slot = line;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FormatSharedForRecipients)->Arg(1)->Arg(3)->Arg(49);

// The baseline it replaces: a formatted copy per recipient.
void BM_FormatCopyPerRecipient(benchmark::State& state) {
  std::vector<std::string> outboxes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    for (auto& slot : outboxes) slot = achat::format_delivery("alice", kText);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_FormatCopyPerRecipient)->Arg(1)->Arg(3)->Arg(49);

}  // namespace

BENCHMARK_MAIN();
