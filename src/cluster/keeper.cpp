#include "keeper.h"

#include <spdlog/spdlog.h>

#include "claim_record.h"

namespace achat::cluster {

namespace {

std::string login_for_log(const std::string& key) { return login_of_key(key).value_or(key); }

}  // namespace

void Keeper::operator()() {
  const auto period = ttl / 3;
  auto next_refresh = std::chrono::steady_clock::now() + period;
  while (true) {
    for (const auto& claim : book.wait_for_releases(next_refresh)) remove(claim);
    if (book.stopping()) break;
    if (std::chrono::steady_clock::now() >= next_refresh) {
      refresh_all();
      next_refresh = std::chrono::steady_clock::now() + period;
    }
  }
  // Shutdown: one request at a time, each bounded by the request timeout; once NATS fails to
  // answer, the rest are left to expire rather than making the exit wait for every one.
  const auto remaining = book.take_all();
  std::size_t released = 0;
  for (const auto& claim : remaining) {
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
  for (auto& [id, claim] : book.held()) {
    // While disconnected every request would wait out its timeout; the claims keep until the TTL.
    if (natsConnection_Status(connection) != NATS_CONN_STATUS_CONNECTED) return;
    std::uint64_t revision = claim.revision;
    switch (bucket.refresh(claim.key, owner_value, revision)) {
      case ClaimOutcome::done:
        book.revise(id, revision);
        break;
      case ClaimOutcome::unavailable:
        return;  // try the rest next period
      case ClaimOutcome::conflict:
        // Expired while NATS was out of reach (or deleted): take it again if nobody else has.
        if (bucket.create(claim.key, owner_value, revision) == ClaimOutcome::done) {
          book.revise(id, revision);
          spdlog::warn("cluster: claim of {} had expired; claimed again", login_for_log(claim.key));
        } else {
          book.forget(id);
          ClusterStats::add(stats.claims_lost);
          spdlog::warn("cluster: claim of {} lost: another node may hold the login",
                       login_for_log(claim.key));
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
