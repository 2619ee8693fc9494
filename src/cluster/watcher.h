// The body of the watcher thread: binds the claims bucket and reports every claim change to the
// broker, which keeps the directory of who is online where.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>

#include "achat/channel.h"
#include "achat/events.h"
#include "claim_book.h"
#include "claim_record.h"
#include "claims_bucket.h"
#include "cluster_stats.h"
#include "node_roster.h"
#include "stop_flag.h"

namespace achat::cluster {

// Runs on its own thread: kvWatcher_Next blocks. Until the bucket can be bound and watched it
// retries every kRetry. Then it replays the current claims and follows the changes, sending each as a
// DirectoryChange through its own Sender (so the broker sees them in the bucket's order).
// Claims left by a previous run of this node (same node id, other incarnation) are deleted
// during the replay; `ready` becomes true once the replay is done, and logins are accepted from
// then on. So are the claims of a run of another node that the roster knows is dead (that node
// restarted): those it has seen are deleted as soon as the roster retires the run (within kPoll),
// later ones as they come, each guarded by its revision, so a claim written since (a new login
// of the name) is never deleted. Every node does it, and the restarted node itself: the first
// guarded delete wins, the others are refused. If the watch fails it starts again with a fresh
// replay. Returns, releasing its Sender, within kPoll of `stop`.
// A write of a key that another owner's live write holds (no delete seen since, and less than
// the TTL apart by the server's clock, so not after an expiry) is a race's loser, which refuses
// itself and puts the holder's record back (claim_arbiter.h): it is not reported, so no broker
// ends the holder's session for it. After a replay the last write of each key is taken as its
// holder.
// Every kBucketCheck it asks NATS whether the claims stream is still the one it watches
// (ClaimsBucket::verify): one deleted (`nats stream rm KV_achat_logins`) or deleted and made
// again under the running node is bound again (made again if missing), the keeper is woken to
// claim this node's logins again (ClaimBook::rebound), and the watch starts afresh with a
// fresh replay. Each change it reports carries its stamp, (epoch, revision): revisions restart at
// 1 in a new stream. For kRebindGrace after such a rebind this node refuses new logins (`ready`
// false, "cluster unavailable, try again"), so that every other node has noticed too and claimed
// its logins again before a login here could take one of their names in the new stream.
// Each look at the stream also tells which NATS server leads it: kept in stats.claims_leader
// (for /metrics and the stats line), and logged when it changes.
struct Watcher {
  struct Held {
    ClaimOwner owner;
    std::uint64_t revision;
    std::int64_t epoch;
  };

  natsConnection* connection;
  ClaimsBucket& bucket;
  ClaimOwner self;
  Sender<BrokerEvent> inbox;
  std::atomic<bool>& ready;
  StopFlag& stop;
  ClusterStats& stats;
  NodeRoster& roster;
  ClaimBook& book;  // woken when the stream is bound again
  std::chrono::milliseconds ttl;
  std::unordered_map<std::string, Held> others;  // other nodes' claims by key, as last seen
  // Every live key's holding write, as the watch saw it: the owner's value and when it last
  // wrote (nanoseconds, the server's wall clock).
  std::unordered_map<std::string, std::pair<std::string, std::int64_t>> holders;
  std::int64_t epoch = 0;  // of the stream watched (0: none yet)
  std::chrono::steady_clock::time_point refuse_until{};  // logins wait after a rebind

  void operator()();

 private:
  void follow(kvWatcher* watcher);
  BucketCheck verify();  // bucket.verify(), and records the stream's leader
  void handle(kvEntry* entry);
  bool lost_race(const std::string& key, std::string_view value, std::int64_t written);
  void release_dead_runs();
  bool release_dead(const std::string& key, const ClaimOwner& owner, std::uint64_t revision);
};

}  // namespace achat::cluster
