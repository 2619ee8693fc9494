#include "watcher.h"

#include <spdlog/spdlog.h>
#include <utility>
#include <vector>

#include "achat/login_name.h"

namespace achat::cluster {

namespace {

// How long a blocked wait lasts before the stop flag is checked again.
constexpr std::int64_t kPollMs = 200;
// Back-off while the bucket cannot be bound or watched (NATS down, JetStream not ready).
constexpr std::chrono::milliseconds kRetry{500};
constexpr std::int64_t kWatchRequestMs = 500;
// How often the watcher asks whether the claims stream is still the one it watches: one small
// JetStream request a second per node, and a stream deleted under the nodes is noticed, made
// again and re-claimed within about that (the watch itself says nothing when its stream goes).
constexpr std::chrono::milliseconds kBucketCheck{1'000};
// After binding a stream made again, new logins wait this long: every node checks every
// kBucketCheck, so by then each one has noticed and sent the creates that claim its logins again.
constexpr std::chrono::milliseconds kRebindGrace = 3 * kBucketCheck;

// The login a claim value says its holder typed, if it is a login whose uniqueness key is
// `unique` (the claim's key): a value is data from the network, and this one ends up in other
// users' "/who" replies. Empty otherwise.
std::string typed_login(std::string_view value, const std::string& unique) {
  auto parsed = ClaimValue::parse(value);
  if (!parsed || parsed->typed.empty()) return {};
  std::string problem;
  const auto name = check_login(parsed->typed, parsed->typed.size(), problem);
  if (!name || name->unique != unique) return {};
  return std::move(parsed->typed);
}

}  // namespace

void Watcher::operator()() {
  // The watch's own JetStream requests (create and delete its consumer) wait less than the
  // claims' do: stopping while NATS is away then costs kWatchRequestMs, not a claim's timeout.
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = kWatchRequestMs;
  jsCtx* raw_js = nullptr;
  if (natsConnection_JetStream(&raw_js, connection, &options) != NATS_OK) {
    spdlog::error("cluster: cannot watch claims: {}", last_nats_error(NATS_ERR));
    return;
  }
  JetStreamHandle js(raw_js);
  while (!stop.stopped()) {
    kvStore* raw_kv = nullptr;
    // Binds the first time, and again if the stream was deleted since the last watch.
    if (verify() == BucketCheck::unavailable || js_KeyValue(&raw_kv, js.get(), kClaimsBucket) != NATS_OK) {
      stop.wait_for(kRetry);
      continue;
    }
    if (epoch != 0 && bucket.epoch() != epoch) {
      book.rebound();  // the keeper claims this node's logins again in the new stream
      ready.store(false, std::memory_order_release);
      refuse_until = std::chrono::steady_clock::now() + kRebindGrace;
    }
    epoch = bucket.epoch();
    KvStoreHandle kv(raw_kv);
    kvWatcher* raw_watcher = nullptr;
    if (kvStore_WatchAll(&raw_watcher, kv.get(), nullptr) != NATS_OK) {
      stop.wait_for(kRetry);
      continue;
    }
    KvWatcherHandle watcher(raw_watcher);
    others.clear();  // the replay tells them again
    holders.clear();
    follow(watcher.get());
    if (stop.stopped()) inbox.reset();  // the broker's inbox need not wait for the teardown
  }
}

void Watcher::follow(kvWatcher* watcher) {
  auto next_check = std::chrono::steady_clock::now() + kBucketCheck;
  bool replayed = false;
  while (!stop.stopped()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_check) {
      next_check = now + kBucketCheck;
      if (verify() == BucketCheck::rebound) return;  // watched again, from a fresh replay
    }
    if (replayed && now >= refuse_until && !ready.exchange(true)) {
      spdlog::info("cluster: ready again, node {}: logins accepted in the new claims bucket", self.node);
    }
    kvEntry* raw = nullptr;
    release_dead_runs();
    const natsStatus status = kvWatcher_Next(&raw, watcher, kPollMs);
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) {
      spdlog::warn("cluster: claims watch failed ({}); watching again", last_nats_error(status));
      stop.wait_for(kRetry);
      return;
    }
    if (!raw) {  // the replay of current claims is complete
      replayed = true;
      if (std::chrono::steady_clock::now() >= refuse_until && !ready.exchange(true)) {
        spdlog::info("cluster: ready, node {}", self.node);
      }
      continue;
    }
    KvEntryHandle entry(raw);
    handle(entry.get());
  }
}

void Watcher::handle(kvEntry* entry) {
  auto login = login_of_key(kvEntry_Key(entry));
  if (!login) return;
  const kvOperation operation = kvEntry_Operation(entry);
  if (operation != kvOp_Put) {
    holders.erase(kvEntry_Key(entry));
    others.erase(kvEntry_Key(entry));
    inbox.send(std::make_unique<DirectoryChange>(
        DirectoryChange{std::move(*login), {}, {epoch, kvEntry_Revision(entry)}, {}}));
    return;
  }
  const auto* value = static_cast<const char*>(kvEntry_Value(entry));
  const std::string_view text =
      value ? std::string_view(value, static_cast<std::size_t>(kvEntry_ValueLen(entry))) : std::string_view();
  if (lost_race(kvEntry_Key(entry), text, kvEntry_Created(entry))) return;
  auto owner = ClaimOwner::parse(text);
  if (!owner) return;
  if (owner->node == self.node && owner->incarnation != self.incarnation) {
    // This node crashed with the login online; nobody has it now.
    if (bucket.remove(kvEntry_Key(entry), kvEntry_Revision(entry)) == ClaimOutcome::done) {
      ClusterStats::add(stats.stale_released);
      spdlog::info("cluster: released {}, held by a previous run of this node", *login);
    }
    return;
  }
  const std::uint64_t revision = kvEntry_Revision(entry);
  if (owner->node != self.node) {
    if (roster.retired(*owner)) {  // written before that run died: nobody holds the login now
      release_dead(kvEntry_Key(entry), *owner, revision);
      return;
    }
    roster.expect(owner->node, NodeRoster::Clock::now());
    others.insert_or_assign(kvEntry_Key(entry), Held{*owner, revision, epoch});
  }
  std::string typed = typed_login(text, *login);
  inbox.send(std::make_unique<DirectoryChange>(DirectoryChange{std::move(*login), std::move(owner->node),
                                                               {epoch, revision}, std::move(owner->incarnation),
                                                               std::move(typed)}));
}

BucketCheck Watcher::verify() {
  const BucketCheck check = bucket.verify();
  stats.claims_leader.observe(bucket.placement());
  return check;
}

bool Watcher::lost_race(const std::string& key, std::string_view value, std::int64_t written) {
  const auto found = holders.find(key);
  if (found != holders.end() && found->second.first != value &&
      written - found->second.second < std::chrono::nanoseconds(ttl).count()) {
    spdlog::debug("cluster: a claim of {} that came after its holder's is ignored", login_of_key(key).value_or(key));
    return true;
  }
  holders.insert_or_assign(key, std::make_pair(std::string(value), written));
  return false;
}

void Watcher::release_dead_runs() {
  for (const ClaimOwner& dead : roster.take_retired()) {
    std::vector<std::pair<std::string, std::uint64_t>> doomed;
    for (const auto& [key, held] : others) {
      // A revision of a stream since deleted guards nothing in the one bound now.
      if (held.epoch != bucket.epoch()) continue;
      if (held.owner.node == dead.node && held.owner.incarnation == dead.incarnation) {
        doomed.emplace_back(key, held.revision);
      }
    }
    std::size_t released = 0;
    for (const auto& [key, revision] : doomed) released += release_dead(key, dead, revision) ? 1 : 0;
    spdlog::info("cluster: released {} of {} logins held by the dead run {} of node {}", released,
                 doomed.size(), dead.incarnation, dead.node);
  }
}

// True if this node deleted it; false if it changed since (released, or a new claim: not ours
// to touch) or NATS did not answer (the restarted node, or the TTL, frees it then).
bool Watcher::release_dead(const std::string& key, const ClaimOwner& owner, std::uint64_t revision) {
  if (bucket.remove(key, revision) != ClaimOutcome::done) return false;
  others.erase(key);
  ClusterStats::add(stats.dead_run_released);
  spdlog::debug("cluster: released {}, held by the dead run {} of node {}",
                login_of_key(key).value_or(key), owner.incarnation, owner.node);
  return true;
}

}  // namespace achat::cluster
