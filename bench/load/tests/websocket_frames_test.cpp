// The load generator's WebSocket framing: what it sends is what RFC 6455 asks of a client, and
// it decodes the server's frames however the bytes are split.
#include "websocket_frames.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace achat::load {
namespace {

constexpr std::string_view kUpgraded =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n";

std::string server_frame(std::uint8_t first, std::string_view payload) {
  std::string frame(1, static_cast<char>(first));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(payload.size()));
  } else {
    frame.push_back(126);
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xff));
  }
  return frame.append(payload);
}

struct Decoded {
  int opened = 0;
  std::vector<std::string> texts;
  std::vector<std::string> pings;
};

FrameDecoder::Status feed(FrameDecoder& decoder, Decoded& decoded, std::string_view bytes) {
  return decoder.feed(
      bytes, [&] { ++decoded.opened; },
      [&](std::string_view text) { decoded.texts.emplace_back(text); },
      [&](std::string_view ping) { decoded.pings.emplace_back(ping); });
}

TEST(WebSocketFrames, ATextFrameIsMaskedWithItsLengthInTheRightForm) {
  std::string out;
  append_text_frame(out, "bob: hi");
  EXPECT_EQ(out, std::string("\x81\x87\0\0\0\0bob: hi", 13));
  out.clear();
  append_text_frame(out, std::string(300, 'x'));
  ASSERT_EQ(out.size(), 2 + 2 + 4 + 300u);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0x80 | 126);
  EXPECT_EQ((static_cast<unsigned char>(out[2]) << 8) | static_cast<unsigned char>(out[3]), 300);
}

TEST(WebSocketFrames, TheUpgradeAsksForVersion13OnSlashWs) {
  std::string out;
  append_upgrade_request(out, "127.0.0.1:8090");
  EXPECT_TRUE(out.starts_with("GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8090\r\n")) << out;
  EXPECT_NE(out.find("Sec-WebSocket-Version: 13\r\n"), std::string::npos);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(WebSocketFrames, MessagesSplitAnywhereArriveWholeAndInOrder) {
  std::string bytes(kUpgraded);
  bytes += server_frame(0x81, "from alice: one");
  bytes += server_frame(0x89, "are you there");
  bytes += server_frame(0x01, "from bob: tw");  // a fragmented message
  bytes += server_frame(0x80, "o");
  bytes += server_frame(0x81, std::string(200, 'z'));
  FrameDecoder decoder;
  Decoded decoded;
  for (char byte : bytes) {
    ASSERT_EQ(feed(decoder, decoded, std::string_view(&byte, 1)), FrameDecoder::Status::kMore);
  }
  EXPECT_EQ(decoded.opened, 1);
  EXPECT_EQ(decoded.texts, (std::vector<std::string>{"from alice: one", "from bob: two",
                                                      std::string(200, 'z')}));
  EXPECT_EQ(decoded.pings, std::vector<std::string>{"are you there"});
}

TEST(WebSocketFrames, ARefusedUpgradeACloseAndAMaskedFrameAreReported) {
  FrameDecoder refused;
  Decoded decoded;
  EXPECT_EQ(feed(refused, decoded, "HTTP/1.1 403 Forbidden\r\n\r\n"), FrameDecoder::Status::kBad);
  EXPECT_EQ(refused.why(), "upgrade refused: HTTP/1.1 403 Forbidden");

  FrameDecoder closed;
  EXPECT_EQ(feed(closed, decoded, std::string(kUpgraded) + server_frame(0x88, "\x03\xe9")),
            FrameDecoder::Status::kClosed);

  FrameDecoder masked;
  EXPECT_EQ(feed(masked, decoded, std::string(kUpgraded) + "\x81\x81\0\0\0\0x"),
            FrameDecoder::Status::kBad);
  EXPECT_EQ(decoded.texts.size(), 0u);
}

}  // namespace
}  // namespace achat::load
