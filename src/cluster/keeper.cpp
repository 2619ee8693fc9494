#include "keeper.h"

#include <spdlog/spdlog.h>
#include <unordered_map>

#include "claim_record.h"
#include "fence.h"

namespace achat::cluster {

namespace {

std::string login_for_log(const std::string& key) { return login_of_key(key).value_or(key); }

// After a round that left claims unconfirmed (NATS away or slow, a reconnect under way), the
// next one comes this soon instead of a third of the TTL later: each claim's fence deadline
// counts from its last confirmed rewrite, and a skipped round must not use up its margin.
constexpr std::chrono::milliseconds kRetry{250};

}  // namespace

void Keeper::operator()() {
  const auto period = ttl / 3;
  auto next_refresh = std::chrono::steady_clock::now() + period;
  auto next_warning = std::chrono::steady_clock::now();  // while claims go unconfirmed
  bool warned = false;
  while (true) {
    auto released = book.wait_for_releases(next_refresh);
    if (!released.empty()) settle(released);
    for (const auto& [id, claim] : released) remove(claim);
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
  // Shutdown: one request at a time, each bounded by the request timeout; once NATS fails to
  // answer, the rest are left to expire rather than making the exit wait for every one.
  auto remaining = book.take_all();
  settle(remaining);
  std::size_t released = 0;
  for (const auto& [id, claim] : remaining) {
    if (!remove(claim)) break;
    ++released;
  }
  if (released < remaining.size()) {
    ClusterStats::add(stats.releases_failed, remaining.size() - released - 1);
  }
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
  for (const auto& [id, claim] : book.held()) {
    // While disconnected cnats would only buffer them; the claims keep until the TTL.
    if (natsConnection_Status(connection) != NATS_CONN_STATUS_CONNECTED ||
        !refresher.send(id, claim, owner_value)) {
      complete = false;  // try the rest soon
      break;
    }
  }
  refresher.wait();
  return settle() && complete;
}

bool Keeper::settle() {
  Released none;
  return settle(none);
}

bool Keeper::settle(Released& released) {
  std::unordered_map<ClaimBook::Id, ClaimBook::Claim*> released_by_id;
  bool awaited = false;
  for (auto& [id, claim] : released) {
    released_by_id.emplace(id, &claim);
    awaited = awaited || refresher.in_flight(id);
  }
  if (awaited) refresher.wait();
  bool answered = true;
  for (const auto& outcome : refresher.take_outcomes()) {
    answered = answered && outcome.outcome != ClaimOutcome::unavailable;
    const auto found = released_by_id.find(outcome.id);
    if (found == released_by_id.end()) {
      apply(outcome);
    } else if (outcome.outcome == ClaimOutcome::done && found->second->revision == outcome.sent_revision) {
      found->second->revision = outcome.revision;
    }
  }
  return answered;
}

void Keeper::apply(const ClaimRefresher::Outcome& outcome) {
  switch (outcome.outcome) {
    case ClaimOutcome::done:
      // Whatever the book's revision now, NATS wrote this run's value at or after `sent`.
      book.confirm(outcome.id, outcome.sent);
      book.advance(outcome.id, outcome.sent_revision, outcome.revision);
      break;
    case ClaimOutcome::unavailable:
      break;  // tried again next period
    case ClaimOutcome::conflict: {
      // A claim already released and deleted must not be taken again.
      if (!book.holds(outcome.id)) break;
      // Still held by our write (no delete since): a newer revision is an earlier rewrite of
      // ours whose acknowledgement was lost, or a race's loser (claim_arbiter.h); rewrite it.
      std::uint64_t revision = 0;
      if (bucket.held_since(outcome.key, outcome.sent_revision, revision) == ClaimOutcome::done) {
        book.revise(outcome.id, revision);
        break;
      }
      // Expired while NATS was out of reach (or deleted): take it again if nobody else has.
      const auto sent = std::chrono::steady_clock::now();
      if (bucket.create(outcome.key, owner_value, revision) == ClaimOutcome::done) {
        book.revise(outcome.id, revision);
        book.confirm(outcome.id, sent);
        spdlog::warn("cluster: claim of {} had expired; claimed again", login_for_log(outcome.key));
      } else {
        book.lose(outcome.id);  // the fence ends its session at once
        ClusterStats::add(stats.claims_lost);
        spdlog::warn("cluster: claim of {} lost: another node may hold the login",
                     login_for_log(outcome.key));
      }
      break;
    }
  }
}

bool Keeper::remove(const ClaimBook::Claim& claim) {
  const bool reachable = bucket.bound() && natsConnection_Status(connection) == NATS_CONN_STATUS_CONNECTED;
  const ClaimOutcome outcome =
      reachable ? bucket.release(claim.key, claim.revision) : ClaimOutcome::unavailable;
  if (outcome == ClaimOutcome::unavailable) {
    ClusterStats::add(stats.releases_failed);
    spdlog::warn("cluster: could not release {}: it expires after the claim TTL",
                 login_for_log(claim.key));
    return false;
  }
  // conflict: the claim had already expired and been taken again; it is not ours to delete.
  return true;
}

}  // namespace achat::cluster
