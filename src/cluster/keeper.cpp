#include "keeper.h"

#include <optional>

#include <spdlog/spdlog.h>
#include <unordered_map>
#include <unordered_set>

#include "claim_record.h"
#include "fence.h"

namespace achat::cluster {

namespace {

std::string login_for_log(const std::string& key) { return login_of_key(key).value_or(key); }

// After a round that left claims unconfirmed (NATS away or slow, a reconnect under way), the
// next one comes this soon instead of a third of the TTL later: each claim's fence deadline
// counts from its last confirmed rewrite, and a skipped round must not use up its margin.
constexpr std::chrono::milliseconds kRetry{250};
// How soon after sending deletes the keeper takes their outcomes: a delete that meets a race's
// loser is retried at the claim's latest revision then, so the name is free a round trip later,
// not a refresh round (a third of the TTL) later.
constexpr std::chrono::milliseconds kSettleReleases{100};

}  // namespace

void Keeper::operator()() {
  const auto period = ttl / 3;
  auto next_refresh = std::chrono::steady_clock::now() + period;
  auto next_warning = std::chrono::steady_clock::now();  // while claims go unconfirmed
  bool warned = false;
  std::optional<std::chrono::steady_clock::time_point> settle_releases;  // deletes sent, not yet settled
  while (true) {
    auto released = book.wait_for_releases(settle_releases ? std::min(next_refresh, *settle_releases) : next_refresh);
    // The claims stream was made again: every claim held went with the old one, so they are
    // all claimed again now, before another node can take their names in the new one.
    if (book.take_rebound()) next_refresh = std::chrono::steady_clock::now();
    if (!released.empty()) {
      settle(released);
      if (release(released) > 0) settle_releases = std::chrono::steady_clock::now() + kSettleReleases;
    } else if (settle_releases && std::chrono::steady_clock::now() >= *settle_releases) {
      settle_releases.reset();
      settle();  // those answered by now; later ones with the next round's
    }
    if (book.stopping()) break;
    if (std::chrono::steady_clock::now() >= next_refresh) {
      const bool complete = refresh_all();
      const auto now = std::chrono::steady_clock::now();
      next_refresh = now + (complete ? period : std::min<std::chrono::milliseconds>(period, kRetry));
      if (!complete && now >= next_warning && warn_unconfirmed(now)) {
        next_warning = now + period;
        warned = true;
      } else if (complete && warned) {
        spdlog::info("cluster: claims confirmed by NATS again");
        warned = false;
        next_warning = now;
      }
    }
  }
  // Shutdown: every remaining claim's delete in flight at once, and one deadline for all of
  // them; those NATS has not confirmed by then are left to expire.
  auto remaining = book.take_all();
  const auto deadline = std::chrono::steady_clock::now() + request_timeout;
  settle(remaining, deadline);
  const std::size_t sent = release(remaining, deadline);
  refresher.wait_until(deadline);
  std::unordered_set<ClaimBook::Id> last;
  for (const auto& [id, claim] : remaining) last.insert(id);
  std::size_t released = 0;
  for (const auto& outcome : refresher.take_outcomes()) {
    if (outcome.write != ClaimWrite::remove) continue;  // a rewrite's or create's, too late to matter
    if (!last.contains(outcome.id)) {
      released_outcome(outcome);  // released before the shutdown
    } else if (outcome.outcome == ClaimOutcome::done) {
      ++released;
    } else if (outcome.outcome == ClaimOutcome::conflict) {
      // Written since: most likely expired and taken again, not ours to delete; behind a race's
      // loser it is still ours, deleted at its latest revision while the deadline allows.
      if (std::chrono::steady_clock::now() < deadline && outcome.epoch == bucket.epoch()) {
        bucket.release(outcome.key, outcome.sent_revision);
      }
      ++released;
    }
  }
  ClusterStats::add(stats.releases_failed, sent - released);  // unanswered by the deadline
  if (!remaining.empty()) {
    spdlog::info("cluster: released {} of {} logins on shutdown", released, remaining.size());
  }
}

bool Keeper::warn_unconfirmed(std::chrono::steady_clock::time_point now) {
  std::size_t held = 0;
  const auto first = book.first_lapse(fence_window(ttl), held);
  if (!first) return false;  // no session depends on it
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*first - now);
  spdlog::warn("cluster: claims cannot be refreshed now (NATS away or not answering); unless NATS "
               "confirms them, sessions are ended from {} ms from now ({} held)",
               std::max<std::int64_t>(left.count(), 0), held);
  return true;
}

bool Keeper::refresh_all() {
  if (!bucket.bound()) return false;
  settle();  // outcomes that came after the last round's wait: their claims can go again
  bool complete = true;
  const std::int64_t epoch = bucket.epoch();
  // Held claims written to a stream since deleted: their revisions mean nothing in this one
  // (it restarted at 1), so they are claimed again with creates, never rewritten.
  std::vector<ClaimRefresher::Outcome> moved;
  for (const auto& [id, claim] : book.held()) {
    if (claim.epoch != epoch) {
      moved.push_back({id, claim.key, 0, claim.epoch, ClaimOutcome::conflict, 0, {}, ClaimWrite::rewrite, claim.value});
      continue;
    }
    // While disconnected cnats would only buffer them; the claims keep until the TTL.
    if (natsConnection_Status(connection) != NATS_CONN_STATUS_CONNECTED ||
        !refresher.send(id, claim, claim.value)) {
      complete = false;  // try the rest soon
      break;
    }
  }
  refresher.wait();
  complete = settle() && complete;
  if (!moved.empty()) complete = reclaim(moved) && complete;
  return complete;
}

bool Keeper::settle() {
  Released none;
  return settle(none);
}

bool Keeper::settle(Released& released) {
  return settle(released, std::chrono::steady_clock::now() + request_timeout);
}

bool Keeper::settle(Released& released, std::chrono::steady_clock::time_point deadline) {
  std::unordered_map<ClaimBook::Id, ClaimBook::Claim*> released_by_id;
  bool awaited = false;
  for (auto& [id, claim] : released) {
    released_by_id.emplace(id, &claim);
    awaited = awaited || refresher.in_flight(id);
  }
  if (awaited) refresher.wait_until(deadline);
  bool answered = true;
  std::vector<ClaimRefresher::Outcome> expired;  // held claims whose rewrite found them gone
  for (auto& outcome : refresher.take_outcomes()) {
    if (outcome.write == ClaimWrite::remove) {
      released_outcome(outcome);
      continue;
    }
    answered = answered && outcome.outcome != ClaimOutcome::unavailable;
    const auto found = released_by_id.find(outcome.id);
    if (found != released_by_id.end()) {
      // Released meanwhile: its delete must carry the revision this write made (a create's
      // whatever the claim had: it was taken again, maybe in a new stream).
      ClaimBook::Claim& claim = *found->second;
      if (outcome.outcome == ClaimOutcome::done &&
          (outcome.write == ClaimWrite::create ||
           (claim.revision == outcome.sent_revision && claim.epoch == outcome.epoch))) {
        claim.revision = outcome.revision;
        claim.epoch = outcome.epoch;
      }
    } else if (outcome.write == ClaimWrite::create) {
      reclaimed(outcome, true, 0);
    } else if (outcome.outcome == ClaimOutcome::conflict && book.holds(outcome.id)) {
      expired.push_back(std::move(outcome));
    } else {
      apply(outcome);
    }
  }
  if (!expired.empty()) answered = reclaim(expired) && answered;
  return answered;
}

bool Keeper::reclaim(const std::vector<ClaimRefresher::Outcome>& expired) {
  const auto deadline = std::chrono::steady_clock::now() + request_timeout;
  bool complete = true;
  // The stream there now: if it was made again and the watcher has not noticed yet, the creates
  // go to the new stream and are recorded as its, and no revision of the old one is followed.
  const std::int64_t epoch = bucket.stream_epoch().value_or(bucket.epoch());
  std::unordered_map<ClaimBook::Id, std::uint64_t> written;  // the revision each rewrite expected
  std::unordered_set<ClaimBook::Id> moved;                    // written to a stream since deleted
  for (const auto& outcome : expired) {
    written.emplace(outcome.id, outcome.epoch == epoch ? outcome.sent_revision : 0);
    if (outcome.epoch != epoch) moved.insert(outcome.id);
  }
  for (const auto& outcome : expired) {
    const bool reachable = bucket.bound() && natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED;
    if (!reachable || !refresher.wait_for_room(deadline) ||
        !refresher.send_create(outcome.id, outcome.key, outcome.value, epoch)) {
      complete = false;  // the next round finds the rest again
      break;
    }
  }
  refresher.wait_until(deadline);
  std::size_t again = 0;
  for (const auto& outcome : refresher.take_outcomes()) {
    complete = complete && outcome.outcome != ClaimOutcome::unavailable;
    switch (outcome.write) {
      case ClaimWrite::remove: released_outcome(outcome); break;
      case ClaimWrite::create: {
        const auto found = written.find(outcome.id);
        again += reclaimed(outcome, false, found == written.end() ? 0 : found->second, moved.contains(outcome.id))
                     ? 1
                     : 0;
        break;
      }
      case ClaimWrite::rewrite: apply(outcome); break;  // a late one: one at a time, as before
    }
  }
  if (again > 0) spdlog::warn("cluster: {} claims had expired; claimed again", again);
  return complete;
}

bool Keeper::reclaimed(const ClaimRefresher::Outcome& outcome, bool log, std::uint64_t written, bool moved) {
  switch (outcome.outcome) {
    case ClaimOutcome::done:
      // With several replicas two creates of one key can both succeed (#4320): only the first
      // since the key's last delete or expiry holds it (claims_bucket.h).
      if (bucket.replicas() > 1 && bucket.arbitrate(outcome.key, 0, outcome.revision) != ClaimOutcome::done) {
        if (book.holds(outcome.id)) lose(outcome.id, outcome.key);
        return false;
      }
      // Taken again; if it was released meanwhile, its delete carries this revision.
      book.revise(outcome.id, outcome.revision, outcome.epoch);
      book.confirm(outcome.id, outcome.sent);
      if (log) spdlog::warn("cluster: claim of {} had expired; claimed again", login_for_log(outcome.key));
      return true;
    case ClaimOutcome::unavailable:
      return false;  // found again by the next round
    case ClaimOutcome::conflict:
      // Some message has the key: this run's own value (a lost acknowledgement), a delete
      // marker, or another holder's claim.
      if (book.holds(outcome.id)) take_again(outcome.id, outcome.key, written, outcome.value, outcome.epoch, moved);
      return false;
  }
  return false;
}

void Keeper::apply(const ClaimRefresher::Outcome& outcome) {
  switch (outcome.outcome) {
    case ClaimOutcome::done:
      // Whatever the book's revision now, NATS wrote this run's value at or after `sent`.
      book.confirm(outcome.id, outcome.sent);
      book.advance(outcome.id, outcome.epoch, outcome.sent_revision, outcome.revision);
      break;
    case ClaimOutcome::unavailable:
      break;  // tried again next period
    case ClaimOutcome::conflict:
      // A claim already released and deleted must not be taken again.
      if (book.holds(outcome.id)) {
        // A revision of a stream since made again guards nothing in the new one.
        const std::int64_t now = bucket.stream_epoch().value_or(bucket.epoch());
        take_again(outcome.id, outcome.key, now == outcome.epoch ? outcome.sent_revision : 0, outcome.value, now);
      }
      break;
  }
}

void Keeper::take_again(ClaimBook::Id id, const std::string& key, std::uint64_t written,
                        const std::string& value, std::int64_t epoch, bool moved) {
  // Still held by our write at `written` (no delete or expiry since): every later write is an
  // earlier rewrite of ours whose acknowledgement was lost, or a race's loser or its put-back of
  // our record (claim_arbiter.h): rewrite it at the latest revision.
  std::uint64_t revision = 0;
  if (written != 0 && bucket.held_since(key, written, revision) == ClaimOutcome::done) {
    book.revise(id, revision, epoch);
    return;
  }
  // Taken for a deleted stream's but written to the one made in its place (a login in the
  // moment before this node noticed): this run's value, live, is this claim's own record.
  std::string stored;
  if (moved && bucket.read(key, stored, revision) == ClaimOutcome::done && stored == value) {
    book.revise(id, revision, epoch);
    return;
  }
  // Expired while NATS was out of reach (or deleted): take it again if nobody else has.
  const auto sent = std::chrono::steady_clock::now();
  if (bucket.create(key, value, revision) == ClaimOutcome::done) {
    book.revise(id, revision, epoch);
    book.confirm(id, sent);
    spdlog::warn("cluster: claim of {} had expired; claimed again", login_for_log(key));
  } else {
    lose(id, key);
  }
}

void Keeper::lose(ClaimBook::Id id, const std::string& key) {
  book.lose(id);  // the fence ends its session at once
  ClusterStats::add(stats.claims_lost);
  spdlog::warn("cluster: claim of {} lost: another node may hold the login", login_for_log(key));
}

std::size_t Keeper::release(const Released& released, std::chrono::steady_clock::time_point deadline) {
  std::size_t sent = 0;
  std::size_t unsent = 0;
  for (const auto& [id, claim] : released) {
    // A rewrite of it still unanswered (settle() waited for it in vain): its revision is unknown.
    if (refresher.in_flight(id)) {
      ++unsent;
      continue;
    }
    if (claim.epoch != bucket.epoch()) continue;  // its record went with a deleted stream
    const bool reachable = bucket.bound() && natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED;
    // Never past cnats's in-flight limit, where a send would stall for its own timeout.
    if (!reachable || !refresher.wait_for_room(deadline) || !refresher.send_delete(id, claim)) {
      unsent = released.size() - sent;
      break;
    }
    ++sent;
  }
  if (unsent > 0) {
    // Not sent at all: they expire after the claim TTL.
    ClusterStats::add(stats.releases_failed, unsent);
    spdlog::warn("cluster: could not release {} logins (NATS away or not answering): they expire "
                 "after the claim TTL", unsent);
  }
  return sent;
}

std::size_t Keeper::release(const Released& released) {
  return release(released, std::chrono::steady_clock::now() + request_timeout);
}

bool Keeper::released_outcome(const ClaimRefresher::Outcome& outcome) {
  ClaimOutcome result = outcome.outcome;
  // Written since: a race's loser (or its put-back) after our write still leaves the claim ours
  // to delete at its latest revision; one that expired and was taken again is not ours, nor is
  // anything in a stream made again since the write.
  if (result == ClaimOutcome::conflict && outcome.epoch == bucket.epoch()) {
    result = bucket.release(outcome.key, outcome.sent_revision);
  }
  if (result != ClaimOutcome::unavailable) return true;
  ClusterStats::add(stats.releases_failed);
  spdlog::warn("cluster: could not release {}: it expires after the claim TTL", login_for_log(outcome.key));
  return false;
}

}  // namespace achat::cluster
