#include "watcher.h"

#include <spdlog/spdlog.h>

namespace achat::cluster {

namespace {

// How long a blocked wait lasts before the stop flag is checked again.
constexpr std::int64_t kPollMs = 200;
// Back-off while the bucket cannot be bound or watched (NATS down, JetStream not ready).
constexpr std::chrono::milliseconds kRetry{500};
constexpr std::int64_t kWatchRequestMs = 500;

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
    if (!bucket.bind() || js_KeyValue(&raw_kv, js.get(), kClaimsBucket) != NATS_OK) {
      stop.wait_for(kRetry);
      continue;
    }
    KvStoreHandle kv(raw_kv);
    kvWatcher* raw_watcher = nullptr;
    if (kvStore_WatchAll(&raw_watcher, kv.get(), nullptr) != NATS_OK) {
      stop.wait_for(kRetry);
      continue;
    }
    KvWatcherHandle watcher(raw_watcher);
    follow(watcher.get());
    if (stop.stopped()) inbox.reset();  // the broker's inbox need not wait for the teardown
  }
}

void Watcher::follow(kvWatcher* watcher) {
  while (!stop.stopped()) {
    kvEntry* raw = nullptr;
    const natsStatus status = kvWatcher_Next(&raw, watcher, kPollMs);
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) {
      spdlog::warn("cluster: claims watch failed ({}); watching again", last_nats_error(status));
      stop.wait_for(kRetry);
      return;
    }
    if (!raw) {  // the replay of current claims is complete
      if (!ready.exchange(true)) spdlog::info("cluster: ready, node {}", self.node);
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
    inbox.send(std::make_unique<DirectoryChange>(DirectoryChange{std::move(*login), {}, kvEntry_Revision(entry)}));
    return;
  }
  const auto* value = static_cast<const char*>(kvEntry_Value(entry));
  auto owner = ClaimOwner::parse(value ? std::string_view(value, static_cast<std::size_t>(kvEntry_ValueLen(entry)))
                                       : std::string_view());
  if (!owner) return;
  if (owner->node == self.node && owner->incarnation != self.incarnation) {
    // This node crashed with the login online; nobody has it now.
    if (bucket.remove(kvEntry_Key(entry), kvEntry_Revision(entry)) == ClaimOutcome::done) {
      ClusterStats::add(stats.stale_released);
      spdlog::info("cluster: released {}, held by a previous run of this node", *login);
    }
    return;
  }
  inbox.send(std::make_unique<DirectoryChange>(
      DirectoryChange{std::move(*login), std::move(owner->node), kvEntry_Revision(entry)}));
}

}  // namespace achat::cluster
