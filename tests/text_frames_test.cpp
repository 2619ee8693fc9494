// The WebSocket text frames a browser's writer builds itself (src/web/text_frames.h): the bytes
// RFC 6455 section 5.2 prescribes, for each of the three length encodings and their edges.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "text_frames.h"

namespace achat::web {
namespace {

OutboundLine line(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

std::string header_of(std::size_t payload_bytes) {
  std::string frames;
  const std::vector<OutboundLine> lines{line(std::string(payload_bytes, 'a') + "\n")};
  encode_text_frames(lines, frames);
  EXPECT_EQ(frames.substr(frames.size() - payload_bytes), std::string(payload_bytes, 'a'));
  return frames.substr(0, frames.size() - payload_bytes);
}

TEST(TextFrames, LengthInItsShortestEncoding) {
  EXPECT_EQ(header_of(0), std::string("\x81\x00", 2));
  EXPECT_EQ(header_of(125), "\x81\x7d");
  EXPECT_EQ(header_of(126), std::string("\x81\x7e\x00\x7e", 4));
  EXPECT_EQ(header_of(65535), "\x81\x7e\xff\xff");
  EXPECT_EQ(header_of(65536), std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

TEST(TextFrames, OneFramePerLineInOrderWithoutTheNewline) {
  const std::vector<OutboundLine> lines{line("from a: hi\n"), line("error: x\n"), line("online: a")};
  std::string frames = "left over from the last batch";
  encode_text_frames(lines, frames);
  EXPECT_EQ(frames, std::string("\x81\x0a" "from a: hi" "\x81\x08" "error: x" "\x81\x09" "online: a"));
}

}  // namespace
}  // namespace achat::web
