#include "delivery_ledger.h"

#include <algorithm>
#include <bit>
#include <utility>

namespace achat::load {

namespace {

constexpr std::uint32_t kInitialOpenLoopSlots = 4;

}  // namespace

DeliveryLedger::DeliveryLedger(std::uint32_t clients, std::uint32_t recipients,
                               std::uint32_t window)
    : recipients_(recipients), window_(window), outboxes_(clients), pairs_(clients) {
  const std::uint32_t slots = window > 0 ? std::bit_ceil(window) : kInitialOpenLoopSlots;
  for (Outbox& outbox : outboxes_) {
    outbox.addressees.resize(std::size_t{slots} * recipients);
    outbox.missing.resize(slots);
  }
}

bool DeliveryLedger::can_send(std::uint32_t sender) const noexcept {
  const Outbox& outbox = outboxes_[sender];
  return window_ == 0 || outbox.next - outbox.oldest < window_;
}

std::uint64_t DeliveryLedger::on_send(std::uint32_t sender,
                                      std::span<const std::uint32_t> recipients) {
  Outbox& outbox = outboxes_[sender];
  if (outbox.next - outbox.oldest == outbox.missing.size()) grow(outbox);
  const std::uint64_t seq = outbox.next++;
  const std::size_t slot = outbox.slot_of(seq);
  outbox.missing[slot] = recipients_;
  Addressee* addressee = &outbox.addressees[slot * recipients_];
  for (const std::uint32_t recipient : recipients) {
    const std::uint32_t pair = pairs_.number_of(sender, recipient);
    if (pair >= next_seq_.size()) next_seq_.resize(pairs_.bound(), 0);
    *addressee++ = Addressee{recipient, pair};
  }
  return seq;
}

// Doubles the ring, keeping each message in flight at its sequence number's slot. Only an open
// loop gets here: a closed-loop sender never has more than its window in flight.
void DeliveryLedger::grow(Outbox& outbox) const {
  Outbox grown;
  grown.addressees.resize(outbox.addressees.size() * 2);
  grown.missing.resize(outbox.missing.size() * 2);
  grown.oldest = outbox.oldest;
  grown.next = outbox.next;
  for (std::uint64_t seq = outbox.oldest; seq < outbox.next; ++seq) {
    const Addressee* from = &outbox.addressees[outbox.slot_of(seq) * recipients_];
    std::copy(from, from + recipients_, &grown.addressees[grown.slot_of(seq) * recipients_]);
    grown.missing[grown.slot_of(seq)] = outbox.missing[outbox.slot_of(seq)];
  }
  outbox = std::move(grown);
}

DeliveryLedger::Verdict DeliveryLedger::on_delivery(std::uint32_t sender, std::uint32_t recipient,
                                                    std::uint64_t seq) {
  Outbox& outbox = outboxes_[sender];
  if (seq >= outbox.next) return Verdict::kNeverSent;
  if (seq < outbox.oldest) return Verdict::kAlreadyComplete;
  const std::size_t slot = outbox.slot_of(seq);
  std::uint32_t& missing = outbox.missing[slot];
  Addressee* const first = &outbox.addressees[slot * recipients_];
  Addressee* const got_it = first + missing;
  const auto is_recipient = [recipient](const Addressee& a) { return a.recipient == recipient; };
  Addressee* const found = std::find_if(first, got_it, is_recipient);
  if (found == got_it) {
    return std::any_of(got_it, first + recipients_, is_recipient) ? Verdict::kDuplicate
                                                                  : Verdict::kNotAddressed;
  }
  std::uint64_t& next_seq = next_seq_[found->pair];
  if (seq < next_seq) return Verdict::kReordered;

  next_seq = seq + 1;
  std::swap(*found, first[--missing]);  // into the run of those that got it
  while (outbox.oldest < outbox.next && outbox.missing[outbox.slot_of(outbox.oldest)] == 0) {
    ++outbox.oldest;
  }
  return Verdict::kAccepted;
}

std::optional<DeliveryLedger::Undelivered> DeliveryLedger::first_undelivered() const {
  for (std::uint32_t sender = 0; sender < outboxes_.size(); ++sender) {
    const Outbox& outbox = outboxes_[sender];
    if (outbox.oldest == outbox.next) continue;
    // The oldest message in flight misses at least one recipient: the first of the run.
    const Addressee& addressee = outbox.addressees[outbox.slot_of(outbox.oldest) * recipients_];
    return Undelivered{sender, addressee.recipient, outbox.oldest};
  }
  return std::nullopt;
}

}  // namespace achat::load
