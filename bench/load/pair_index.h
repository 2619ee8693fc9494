// PairIndex: numbers the sender->recipient pairs, so per-pair state can live in a plain vector
// indexed by the number. Up to kDenseClients clients a pair's number is sender * clients +
// recipient: no lookup at all. Above that (10,000 clients would need 10^8 entries), a hash
// table (open addressing, linear probing, at most half full, grows by doubling) numbers pairs
// 0, 1, 2, ... as they are first seen, so memory follows the pairs actually used. A pair's
// number never changes. Owned and used by one thread (LoadRun's, through DeliveryLedger).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace achat::load {

class PairIndex {
 public:
  static constexpr std::uint32_t kDenseClients = 1024;  // dense: at most 2^20 numbers

  explicit PairIndex(std::uint32_t clients);

  std::uint32_t number_of(std::uint32_t sender, std::uint32_t recipient);
  // Every number handed out so far is below this.
  std::uint32_t bound() const noexcept { return dense_ ? clients_ * clients_ : size_; }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t number;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  // no pair has this key

  std::uint32_t hashed_number_of(std::uint64_t key);
  std::size_t home_of(std::uint64_t key) const noexcept;
  void grow();

  std::uint32_t clients_;
  bool dense_;
  std::vector<Slot> slots_;  // hashed: size a power of two
  int shift_;                // hashed: 64 - log2(slots_.size())
  std::uint32_t size_ = 0;   // hashed: pairs numbered so far
};

}  // namespace achat::load
