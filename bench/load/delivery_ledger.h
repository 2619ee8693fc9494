// DeliveryLedger: what the load generator sent and what arrived, against which every delivery
// is checked. Owns, per sender, the messages in flight, each with its K recipients split into
// those still missing it and those that got it; and per sender->recipient pair the sequence
// number of the last message it delivered. Used by LoadRun's one thread only.
// Promises:
//  - on_delivery() accepts a delivery of message `seq` from `sender` to `recipient` only if
//    that message was sent, was addressed to that recipient, has not reached it before, and
//    its sequence number is above the pair's last delivered one (per-pair FIFO).
//  - Hence once no message is in flight, every sender->recipient pair has received each
//    message addressed to it exactly once, in order: as many as were addressed, nothing lost,
//    duplicated, misrouted or reordered.
//  - A message is in flight from on_send() until all its recipients got it. With a window W,
//    can_send() is false while W sequence numbers are held from the oldest message in flight
//    on; a message completed out of order holds its place until every older one is complete.
// Cost per delivery: no allocation, no hashing (the pair is looked up once, at the send), at
// most K compares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pair_index.h"

namespace achat::load {

class DeliveryLedger {
 public:
  // window: closed loop, the most sequence numbers a sender may hold in flight; 0 = no limit
  // (open loop: the record of messages in flight grows as needed).
  DeliveryLedger(std::uint32_t clients, std::uint32_t recipients, std::uint32_t window);

  bool can_send(std::uint32_t sender) const noexcept;
  // Messages `sender` has sent; also the sequence number of its next one.
  std::uint64_t sent(std::uint32_t sender) const noexcept { return outboxes_[sender].next; }

  // Records `sender`'s next message, addressed to `recipients` (K distinct clients), and
  // returns its sequence number. Requires can_send(sender).
  std::uint64_t on_send(std::uint32_t sender, std::span<const std::uint32_t> recipients);

  enum class Verdict {
    kAccepted,
    kNeverSent,        // seq was not sent yet
    kAlreadyComplete,  // every recipient already had it: a duplicate or a misrouted copy
    kNotAddressed,     // misrouted: the message was not addressed to this recipient
    kDuplicate,        // this recipient already had it
    kReordered,        // a later message of this pair arrived first
  };
  Verdict on_delivery(std::uint32_t sender, std::uint32_t recipient, std::uint64_t seq);

  struct Undelivered {
    std::uint32_t sender = 0;
    std::uint32_t recipient = 0;
    std::uint64_t seq = 0;
  };
  // A recipient still missing a message: the oldest one in flight of the lowest-numbered sender
  // that has one. nullopt once every sent message reached every recipient.
  std::optional<Undelivered> first_undelivered() const;

 private:
  struct Addressee {
    std::uint32_t recipient;
    std::uint32_t pair;  // PairIndex number of sender -> recipient
  };
  // One sender's messages in flight, in a ring indexed by seq & (slots - 1), slots a power of
  // two. Each slot holds its message's K addressees in two runs: the first `missing` have not
  // got it yet, the others have.
  struct Outbox {
    std::vector<Addressee> addressees;  // K per slot
    std::vector<std::uint32_t> missing;  // per slot; its size is the number of slots
    std::uint64_t oldest = 0;               // oldest sequence number in flight (== next if none)
    std::uint64_t next = 0;                 // sequence number of the next message

    std::size_t slot_of(std::uint64_t seq) const noexcept { return seq & (missing.size() - 1); }
  };

  void grow(Outbox& outbox) const;

  std::uint32_t recipients_;
  std::uint64_t window_;  // 0: no limit
  std::vector<Outbox> outboxes_;
  PairIndex pairs_;
  std::vector<std::uint64_t> next_seq_;  // per pair: a delivery's seq must be at least this
};

}  // namespace achat::load
