#include "pair_index.h"

namespace achat::load {

namespace {

constexpr int kInitialBits = 10;

}  // namespace

PairIndex::PairIndex(std::uint32_t clients)
    : clients_(clients), dense_(clients <= kDenseClients), shift_(64 - kInitialBits) {
  if (!dense_) slots_.assign(std::size_t{1} << kInitialBits, Slot{kEmpty, 0});
}

std::uint32_t PairIndex::number_of(std::uint32_t sender, std::uint32_t recipient) {
  if (dense_) return sender * clients_ + recipient;
  return hashed_number_of(std::uint64_t{sender} << 32 | recipient);
}

// Fibonacci hashing: the top bits of key * 2^64/phi spread consecutive keys over the table.
std::size_t PairIndex::home_of(std::uint64_t key) const noexcept {
  return static_cast<std::size_t>((key * 0x9e3779b97f4a7c15) >> shift_);
}

std::uint32_t PairIndex::hashed_number_of(std::uint64_t key) {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = home_of(key);; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.key == key) return slot.number;
    if (slot.key == kEmpty) {
      slot = Slot{key, size_++};
      const std::uint32_t number = slot.number;
      if (std::size_t{size_} * 2 > slots_.size()) grow();
      return number;
    }
  }
}

void PairIndex::grow() {
  std::vector<Slot> old(slots_.size() * 2, Slot{kEmpty, 0});
  old.swap(slots_);
  --shift_;
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.key == kEmpty) continue;
    std::size_t i = home_of(slot.key);
    while (slots_[i].key != kEmpty) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

}  // namespace achat::load
