// The claims bucket: a JetStream key-value bucket with one key per login online anywhere.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "nats_handles.h"

namespace achat::cluster {

inline constexpr const char* kClaimsBucket = "achat_logins";

// The subject a write of `key` is published on, as cnats's KV calls build it.
inline std::string claim_subject(std::string_view key) {
  return std::string("$KV.") + kClaimsBucket + "." + std::string(key);
}

enum class ClaimOutcome {
  done,
  conflict,     // the key's revision is not the one given: another session holds it (or held it)
  unavailable,  // NATS did not answer in time, or refused for another reason
};

// Bound once, by the watcher thread; after bound() any thread may call the operations (cnats
// serialises them). One replica (R1): on nats-server 2.9.10 three replicas let two creates of
// one key both succeed (nats-server #4320), which would break one-login-per-name. The bucket's
// max age is the claim TTL; a claim lives while its holder refreshes it.
class ClaimsBucket {
 public:
  ClaimsBucket(natsConnection* connection, std::chrono::milliseconds ttl,
               std::chrono::milliseconds request_timeout);
  ClaimsBucket(const ClaimsBucket&) = delete;
  ClaimsBucket& operator=(const ClaimsBucket&) = delete;

  // Creates the bucket or binds to the one another node created. False while NATS cannot
  // answer; call again later. Watcher thread only.
  bool bind();
  bool bound() const noexcept { return bound_.load(std::memory_order_acquire); }

  // Writes `value` under `key` if no live claim has it; sets `revision` on success.
  ClaimOutcome create(const std::string& key, const std::string& value, std::uint64_t& revision);
  // Rewrites the claim (restarting its max age) if `revision` is still its latest; updates it.
  ClaimOutcome refresh(const std::string& key, const std::string& value, std::uint64_t& revision);
  // The claim's value and latest revision; conflict if no live claim has the key.
  ClaimOutcome read(const std::string& key, std::string& value, std::uint64_t& revision);
  // The same, and when the claim was last written, by the NATS server's wall clock.
  ClaimOutcome read(const std::string& key, std::string& value, std::uint64_t& revision,
                    std::chrono::system_clock::time_point& written);
  // Deletes the key only if `revision` is still its latest, so a stale holder never deletes a
  // newer session's claim.
  ClaimOutcome remove(const std::string& key, std::uint64_t revision);

 private:
  const std::chrono::milliseconds ttl_;
  JetStreamHandle js_;
  KvStoreHandle kv_;  // written once by bind(), before bound_
  std::atomic<bool> bound_{false};
};

}  // namespace achat::cluster
