// Payload: the text of one load-test message, "<sender-index> <seq> <send-ns> <padding>", where
// the padding (' ' then 'x's) brings the text to the requested size when the header is shorter.
// Promises: for sent_ns >= 0 (CLOCK_MONOTONIC), parse_payload(text, size) == p for the text
// append_payload(p, size) writes; any other text is rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "clock.h"

namespace achat::load {

struct Payload {
  std::uint32_t sender = 0;
  std::uint64_t seq = 0;
  Nanos sent_ns = 0;  // CLOCK_MONOTONIC of the (scheduled) send

  friend bool operator==(const Payload&, const Payload&) = default;
};

// Appends the payload text (no newline) to `out`.
void append_payload(std::string& out, const Payload& payload, std::size_t size);

// nullopt unless `text` is exactly what append_payload would have produced for some payload.
std::optional<Payload> parse_payload(std::string_view text, std::size_t size);

}  // namespace achat::load
