#include "recipients.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace achat::load {

namespace {

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15;

// The SplitMix64 output function: a bijection that scrambles every input bit into every output
// bit. (SplitMix64 passes BigCrush; a load generator needs no more.)
std::uint64_t mix(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

std::uint64_t next_random(std::uint64_t& state) noexcept { return mix(state += kGolden); }

// Uniform in [0, bound), bound >= 1, without modulo bias (Lemire's multiply-and-reject).
std::uint32_t uniform_below(std::uint64_t& state, std::uint32_t bound) noexcept {
  std::uint64_t product = (next_random(state) >> 32) * bound;
  auto low = static_cast<std::uint32_t>(product);
  if (low < bound) {
    const std::uint32_t threshold = static_cast<std::uint32_t>(-bound) % bound;
    while (low < threshold) {
      product = (next_random(state) >> 32) * bound;
      low = static_cast<std::uint32_t>(product);
    }
  }
  return static_cast<std::uint32_t>(product >> 32);
}

}  // namespace

Recipients::Recipients(std::uint32_t clients, std::uint32_t recipients, Pattern pattern,
                       std::uint64_t seed, bool include_self)
    : clients_(clients), recipients_(recipients), pattern_(pattern), include_self_(include_self) {
  if (include_self && pattern != Pattern::kRandom) {
    throw std::invalid_argument("only the random pattern can include the sender");
  }
  const std::uint32_t candidates = include_self ? clients : clients - 1;
  if (clients < 1 || recipients < 1 || recipients > candidates) {
    throw std::invalid_argument("need 1 <= recipients <= clients - 1 (clients with include_self)");
  }
  chosen_.reserve(recipients);
  if (pattern == Pattern::kRandom) {
    streams_.reserve(clients);
    for (std::uint32_t i = 0; i < clients; ++i) streams_.push_back(mix(seed ^ mix(i + kGolden)));
    drawn_in_.assign(candidates, 0);
  }
}

std::span<const std::uint32_t> Recipients::next(std::uint32_t sender) {
  if (pattern_ == Pattern::kRandom) {
    draw_random(sender);
  } else {
    chosen_.clear();
    for (std::uint32_t k = 1; k <= recipients_; ++k) chosen_.push_back((sender + k) % clients_);
  }
  return chosen_;
}

// Floyd's algorithm picks a uniform K-subset of the candidates with K draws and no retries;
// its later picks are more often the fallback j, so a Fisher-Yates shuffle then makes the
// order uniform too. Without include_self the candidates are the N-1 other clients, numbered
// by skipping the sender.
void Recipients::draw_random(std::uint32_t sender) {
  if (++draw_ == 0) {  // the marks wrapped: forget them all
    std::fill(drawn_in_.begin(), drawn_in_.end(), 0);
    draw_ = 1;
  }
  std::uint64_t& stream = streams_[sender];
  const auto candidates = static_cast<std::uint32_t>(drawn_in_.size());
  chosen_.clear();
  for (std::uint32_t j = candidates - recipients_; j < candidates; ++j) {
    std::uint32_t pick = uniform_below(stream, j + 1);
    if (drawn_in_[pick] == draw_) pick = j;
    drawn_in_[pick] = draw_;
    chosen_.push_back(pick);
  }
  for (std::uint32_t i = recipients_ - 1; i > 0; --i) {
    std::swap(chosen_[i], chosen_[uniform_below(stream, i + 1)]);
  }
  if (!include_self_) {
    for (std::uint32_t& client : chosen_) client += client >= sender ? 1 : 0;
  }
}

}  // namespace achat::load
