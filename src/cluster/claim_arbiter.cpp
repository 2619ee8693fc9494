#include "claim_arbiter.h"

namespace achat::cluster {

bool ClaimArbiter::feed(const KeyRecord& record) {
  // Expired between: the holder wrote nothing for a TTL (a loser's put-back is not its write).
  if (first_ && record.written_ns - last_written_ns_ >= ttl_ns_) first_.reset();
  const bool holders = first_ && !record.deleted && record.value == first_->value;
  if (!first_ || (holders && !record.put_back)) last_written_ns_ = record.written_ns;
  if (mine_ == 0 && !own_value_.empty() && !record.deleted && !record.put_back && record.value == own_value_) {
    mine_ = record.revision;
  }
  if (mine_ != 0 && record.revision >= mine_) {
    reached_ = record.revision == mine_;
    if (reached_) mine_value_ = record.value;
    return false;
  }
  next_ = record.revision + 1;
  if (record.deleted) {
    first_.reset();
  } else if (!first_) {
    first_ = record;
  }
  return true;
}

}  // namespace achat::cluster
