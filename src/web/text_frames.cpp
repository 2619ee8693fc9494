#include "text_frames.h"

#include <cstdint>
#include <string_view>

namespace achat::web {

namespace {

constexpr std::size_t kMaxHeaderBytes = 10;  // 2, then 8 for a 64-bit length

std::string_view payload_of(const OutboundLine& line) {
  std::string_view payload = *line;
  if (payload.ends_with('\n')) payload.remove_suffix(1);
  return payload;
}

}  // namespace

void encode_text_frames(std::span<const OutboundLine> lines, std::string& frames) {
  std::size_t size = 0;
  for (const OutboundLine& line : lines) size += kMaxHeaderBytes + payload_of(line).size();
  frames.clear();
  frames.reserve(size);
  for (const OutboundLine& line : lines) {
    const std::string_view payload = payload_of(line);
    const std::uint64_t length = payload.size();
    frames.push_back(static_cast<char>(0x81));  // FIN, text
    if (length < 126) {
      frames.push_back(static_cast<char>(length));
    } else if (length <= 0xFFFF) {
      frames.push_back(static_cast<char>(126));
      frames.push_back(static_cast<char>(length >> 8));
      frames.push_back(static_cast<char>(length & 0xFF));
    } else {
      frames.push_back(static_cast<char>(127));
      for (int shift = 56; shift >= 0; shift -= 8) frames.push_back(static_cast<char>((length >> shift) & 0xFF));
    }
    frames.append(payload);
  }
}

}  // namespace achat::web
