#include "keeper.h"

#include <spdlog/spdlog.h>
#include <unordered_map>

#include "claim_record.h"

namespace achat::cluster {

namespace {

std::string login_for_log(const std::string& key) { return login_of_key(key).value_or(key); }

}  // namespace

void Keeper::operator()() {
  const auto period = ttl / 3;
  auto next_refresh = std::chrono::steady_clock::now() + period;
  while (true) {
    auto released = book.wait_for_releases(next_refresh);
    if (!released.empty()) settle(released);
    for (const auto& [id, claim] : released) remove(claim);
    if (book.stopping()) break;
    if (std::chrono::steady_clock::now() >= next_refresh) {
      refresh_all();
      next_refresh = std::chrono::steady_clock::now() + period;
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

void Keeper::refresh_all() {
  if (!bucket.bound()) return;
  settle();  // outcomes that came after the last round's wait: their claims can go again
  for (const auto& [id, claim] : book.held()) {
    // While disconnected cnats would only buffer them; the claims keep until the TTL.
    if (natsConnection_Status(connection) != NATS_CONN_STATUS_CONNECTED) break;
    if (!refresher.send(id, claim, owner_value)) break;  // try the rest next period
  }
  refresher.wait();
  settle();
}

void Keeper::settle() {
  Released none;
  settle(none);
}

void Keeper::settle(Released& released) {
  std::unordered_map<ClaimBook::Id, ClaimBook::Claim*> released_by_id;
  bool awaited = false;
  for (auto& [id, claim] : released) {
    released_by_id.emplace(id, &claim);
    awaited = awaited || refresher.in_flight(id);
  }
  if (awaited) refresher.wait();
  for (const auto& outcome : refresher.take_outcomes()) {
    const auto found = released_by_id.find(outcome.id);
    if (found == released_by_id.end()) {
      apply(outcome);
    } else if (outcome.outcome == ClaimOutcome::done && found->second->revision == outcome.sent_revision) {
      found->second->revision = outcome.revision;
    }
  }
}

void Keeper::apply(const ClaimRefresher::Outcome& outcome) {
  switch (outcome.outcome) {
    case ClaimOutcome::done:
      book.advance(outcome.id, outcome.sent_revision, outcome.revision);
      break;
    case ClaimOutcome::unavailable:
      break;  // tried again next period
    case ClaimOutcome::conflict: {
      // A claim already released and deleted must not be taken again.
      if (!book.holds(outcome.id)) break;
      // Our own value under a newer revision: an earlier rewrite was applied but its
      // acknowledgement was lost (this run holds one claim per key at a time).
      std::string value;
      std::uint64_t revision = 0;
      if (bucket.read(outcome.key, value, revision) == ClaimOutcome::done && value == owner_value) {
        book.revise(outcome.id, revision);
        break;
      }
      // Expired while NATS was out of reach (or deleted): take it again if nobody else has.
      if (bucket.create(outcome.key, owner_value, revision) == ClaimOutcome::done) {
        book.revise(outcome.id, revision);
        spdlog::warn("cluster: claim of {} had expired; claimed again", login_for_log(outcome.key));
      } else {
        book.forget(outcome.id);
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
      reachable ? bucket.remove(claim.key, claim.revision) : ClaimOutcome::unavailable;
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
