// Micro-benchmarks of the login rule (include/achat/login_name.h): check_login runs once per
// login on its reader thread (a storm of 10,000 logins runs it 10,000 times on 2 cores),
// address_key once per recipient on the broker thread, unique_key per recipient not online here
// in a cluster.
#include <achat/login_name.h>
#include <benchmark/benchmark.h>

#include <string>

namespace {

const char* const kLogins[] = {"user1234", "\xC3\xA9lodie-42" /* élodie-42 */,
                               "\xD0\x90\xD0\xBB\xD0\xB8\xD1\x81\xD0\xB0" /* Алиса */};

void BM_CheckLogin(benchmark::State& state) {
  const std::string login = kLogins[state.range(0)];
  std::string problem;
  for (auto _ : state) benchmark::DoNotOptimize(achat::check_login(login, 32, problem));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CheckLogin)->Arg(0)->Arg(1)->Arg(2);

void BM_AddressKey(benchmark::State& state) {
  const std::string name = kLogins[state.range(0)];
  for (auto _ : state) benchmark::DoNotOptimize(achat::address_key(name));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AddressKey)->Arg(0)->Arg(1)->Arg(2);

void BM_UniqueKey(benchmark::State& state) {
  const std::string address = achat::address_key(kLogins[state.range(0)]);
  for (auto _ : state) benchmark::DoNotOptimize(achat::unique_key(address));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UniqueKey)->Arg(0)->Arg(1)->Arg(2);

}  // namespace

BENCHMARK_MAIN();
