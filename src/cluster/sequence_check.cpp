#include "sequence_check.h"

namespace achat::cluster {

SequenceCheck::Result SequenceCheck::check(std::string_view origin, std::string_view incarnation,
                                           std::uint64_t sequence) {
  auto [found, inserted] = origins_.try_emplace(std::string(origin));
  Expected& expected = found->second;
  if (inserted || expected.incarnation != incarnation) {
    // What a run sent before this node listened was not for it: no gap to report.
    expected.incarnation = std::string(incarnation);
    expected.next = sequence + 1;
    return {Verdict::first};
  }
  if (sequence < expected.next) return {Verdict::repeated};
  const std::uint64_t missing = sequence - expected.next;
  expected.next = sequence + 1;
  return missing == 0 ? Result{Verdict::next} : Result{Verdict::after_gap, missing};
}

}  // namespace achat::cluster
