#include "claim_arbiter.h"

namespace achat::cluster {

bool ClaimArbiter::feed(const KeyRecord& record) {
  if (first_ && record.written_ns - last_written_ns_ >= ttl_ns_) first_.reset();  // expired between
  last_written_ns_ = record.written_ns;
  if (record.revision >= mine_) {
    reached_ = record.revision == mine_;
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
