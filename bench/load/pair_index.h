// PairIndex: numbers the sender->recipient pairs 0, 1, 2, ... in the order they are first
// seen, so per-pair state can live in a plain vector. A hash table (open addressing, linear
// probing, at most half full, grows by doubling); a pair's number never changes. Owned and
// used by one thread (LoadRun's, through DeliveryLedger).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace achat::load {

class PairIndex {
 public:
  PairIndex();

  // The pair's number; a new pair gets the next one, size() before the call.
  std::uint32_t number_of(std::uint32_t sender, std::uint32_t recipient);
  std::uint32_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t number;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};  // no pair has this key

  std::size_t home_of(std::uint64_t key) const noexcept;
  void grow();

  std::vector<Slot> slots_;  // size a power of two
  int shift_;                // 64 - log2(slots_.size())
  std::uint32_t size_ = 0;
};

}  // namespace achat::load
