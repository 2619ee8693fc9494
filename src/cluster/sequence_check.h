// Tells, per sending node, whether a publication is the next one, follows a gap, or repeats.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace achat::cluster {

// Owned and used by the receiving thread alone. Core NATS delivers at most once and, from one
// publisher, in order; a publication it lost shows up as a jump in the sender's sequence for
// this node. Promises: each (origin, incarnation, sequence) is accepted at most once, and every
// lost publication after the first one seen from a run is counted in `missing`.
class SequenceCheck {
 public:
  enum class Verdict {
    next,       // in order
    after_gap,  // in order after `missing` lost publications
    repeated,   // already seen or older: drop it
    first,      // first publication seen from this run of the origin (start or restart)
  };
  struct Result {
    Verdict verdict;
    std::uint64_t missing = 0;
  };

  Result check(std::string_view origin, std::string_view incarnation, std::uint64_t sequence);

 private:
  struct Expected {
    std::string incarnation;
    std::uint64_t next = 0;
  };
  std::unordered_map<std::string, Expected> origins_;
};

}  // namespace achat::cluster
