// Recipients: who each message goes to.
//   next:   client i always sends to i+1 .. i+K (mod N).
//   random: each message goes to K distinct clients drawn uniformly from all N (never the
//           sender, unless include_self), listed in random order.
// Each sender draws from its own PRNG stream derived from the seed, so sender i's j-th message
// has the same recipients in every run with the same options and seed, however the run's timing
// interleaves the senders. Owned and used by one thread (LoadRun's). Cost per message: O(K).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "options.h"

namespace achat::load {

class Recipients {
 public:
  // Requires 1 <= recipients <= clients - 1 (clients if include_self); include_self only
  // with Pattern::kRandom.
  Recipients(std::uint32_t clients, std::uint32_t recipients, Pattern pattern, std::uint64_t seed,
             bool include_self);

  // The recipients of `sender`'s next message: K distinct client indices, valid until the next
  // call.
  std::span<const std::uint32_t> next(std::uint32_t sender);

 private:
  void draw_random(std::uint32_t sender);

  std::uint32_t clients_;
  std::uint32_t recipients_;
  Pattern pattern_;
  bool include_self_;
  std::vector<std::uint64_t> streams_;  // random: PRNG state of each sender
  std::vector<std::uint32_t> drawn_in_;  // random: per candidate, the last draw that picked it
  std::uint32_t draw_ = 0;               // random: number of the current draw
  std::vector<std::uint32_t> chosen_;
};

}  // namespace achat::load
