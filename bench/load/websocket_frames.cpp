#include "websocket_frames.h"

namespace achat::load {

namespace {

constexpr std::size_t kMaxUpgradeResponse = 8192;

void append_masked_frame(std::string& out, std::uint8_t opcode, std::string_view payload) {
  out.push_back(static_cast<char>(0x80 | opcode));
  const std::size_t length = payload.size();
  if (length < 126) {
    out.push_back(static_cast<char>(0x80 | length));
  } else if (length <= 0xffff) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(length >> 8));
    out.push_back(static_cast<char>(length & 0xff));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  out.append(4, '\0');  // the masking key: zero, so the payload goes as it is
  out.append(payload);
}

}  // namespace

void append_upgrade_request(std::string& out, std::string_view host) {
  out.append("GET /ws HTTP/1.1\r\nHost: ")
      .append(host)
      .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
}

void append_text_frame(std::string& out, std::string_view line) { append_masked_frame(out, 0x1, line); }

void append_pong_frame(std::string& out, std::string_view payload) {
  append_masked_frame(out, 0xa, payload);
}

std::size_t FrameDecoder::upgrade_response_length(std::string_view input) {
  const std::size_t end = input.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (input.size() <= kMaxUpgradeResponse) return 0;
    why_ = "no end to the upgrade response in " + std::to_string(kMaxUpgradeResponse) + " bytes";
    return std::string_view::npos;
  }
  if (!input.starts_with("HTTP/1.1 101 ")) {
    why_ = "upgrade refused: " + std::string(input.substr(0, input.find("\r\n")));
    return std::string_view::npos;
  }
  return end + 4;
}

}  // namespace achat::load
