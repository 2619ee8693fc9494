// The body of the keeper thread: keeps this node's claims alive and gives back released ones.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "claim_book.h"
#include "claim_refresher.h"
#include "claims_bucket.h"
#include "cluster_stats.h"

namespace achat::cluster {

// Runs on its own thread because it waits for JetStream acknowledgements. Every third of the
// claim TTL (every kRetry after a round that left a claim unsent or unanswered) it sends every held claim's rewrite (revision-guarded) at once through the
// refresher, waits for the acknowledgements (at most the request timeout), then applies each
// outcome: a claim rewritten behind the keeper's back with this run's own value (a rewrite whose
// acknowledgement was lost) is adopted at its newer revision; one found expired is taken again
// if it is still free, otherwise counted as lost;
// one left unanswered is tried again next time. The creates that take expired claims again
// (after NATS was away longer than the TTL, all of them) go out at once too; only a create that
// finds some message under the key (a delete marker, this run's own newer write, or another
// holder) is looked into one request at a time. Each acknowledged rewrite confirms its claim
// in the book as of when it was sent (the fence thread ends sessions whose claim goes
// unconfirmed too long); a claim found taken by someone else is marked lost, so its session
// ends at once. While rounds leave claims unconfirmed it warns (every third of the TTL) how
// long until the first sessions are ended, and says when claims are confirmed again. Outcomes that come later are applied when it
// next wakes. A released claim is deleted, guarded by its latest revision: a rewrite of it still
// in flight is waited for first; the deletes of all claims released together go out at once
// through the refresher, like refreshes, and their outcomes are taken kSettleReleases later (or
// with the next ones): one that found the claim written since by a race's loser is deleted
// again at the latest revision then, so the name is free about a round trip after the release. On
// ClaimBook::stop() it sends the deletes of every claim still held at once and waits for them
// until one deadline (the request timeout), then returns. Claims it cannot delete (NATS away or
// not answering by then) expire after the TTL, counted as releases failed.
// Epochs: when the watcher binds a claims stream made again (ClaimBook::rebound()), a round
// starts at once and every held claim written to the old stream is claimed again with a create
// (its revision there guards nothing in the new stream, whose revisions restart at 1); a released
// claim of the old stream is not deleted (it went with its stream).
struct Keeper {
  using Released = std::vector<std::pair<ClaimBook::Id, ClaimBook::Claim>>;

  ClaimBook& book;
  ClaimsBucket& bucket;
  ClaimRefresher& refresher;
  natsConnection* connection;
  std::chrono::milliseconds ttl;
  std::chrono::milliseconds request_timeout;  // the bound on a release's acknowledgement
  ClusterStats& stats;

  void operator()();

 private:
  // False if some claim was not sent or not answered: the next round then comes sooner.
  bool refresh_all();
  // Applies the outcomes in, to the book or, for the claims in `released`, to those; false if
  // one of them was unanswered.
  bool settle(Released& released);
  bool settle(Released& released, std::chrono::steady_clock::time_point deadline);
  bool settle();
  void apply(const ClaimRefresher::Outcome& outcome);
  // Sends a create of each claim found expired at once and applies the outcomes; false if one
  // was not sent or not answered.
  bool reclaim(const std::vector<ClaimRefresher::Outcome>& expired);
  // Applies a create's outcome; true if it took the claim again (logged if `log`). `written`:
  // the revision of this run's last known write of it (0: unknown), which may still hold it.
  // `moved`: the claim was written to a claims stream since deleted.
  bool reclaimed(const ClaimRefresher::Outcome& outcome, bool log, std::uint64_t written, bool moved = false);
  // One claim found taken or gone: kept if this run's write at revision `written` (0: unknown,
  // or in a stream since deleted) still holds it (ClaimsBucket::held_since), else taken with a
  // create of its `value` if free, else lost (blocking). `epoch`: the stream the writes go to.
  // `moved`: the claim was taken for a deleted stream's; a live record of its value is then its own.
  void take_again(ClaimBook::Id id, const std::string& key, std::uint64_t written, const std::string& value,
                  std::int64_t epoch, bool moved = false);
  // Ends the claim's session (the fence does it at once) and counts it lost.
  void lose(ClaimBook::Id id, const std::string& key);
  // Says that claims go unconfirmed, and how long until the fence ends the first sessions;
  // false (and says nothing) if no claim is held.
  bool warn_unconfirmed(std::chrono::steady_clock::time_point now);
  // Sends the guarded deletes of `released` (until one cannot be sent, or `deadline`); returns
  // how many were sent and counts the rest as failed.
  std::size_t release(const Released& released, std::chrono::steady_clock::time_point deadline);
  std::size_t release(const Released& released);
  // Applies a release's outcome; a conflict behind a race's loser is deleted at the latest
  // revision (blocking). False, and counted as failed, if NATS did not answer.
  bool released_outcome(const ClaimRefresher::Outcome& outcome);
};

}  // namespace achat::cluster
