// Payload: what the generator writes it parses back exactly, and any damage to a delivered
// line's text (a changed, lost or extra byte) is refused.
#include "payload.h"

#include <gtest/gtest.h>

#include <string>

namespace achat::load {
namespace {

TEST(Payload, RoundTripsAtEverySize) {
  const Payload payload{42, 1234, 987654321012};
  for (const std::size_t size : {0, 10, 25, 64, 200}) {
    std::string text;
    append_payload(text, payload, size);
    EXPECT_EQ(parse_payload(text, size), payload) << size;
  }
}

TEST(Payload, RefusesDamageAnywhere) {
  constexpr std::size_t kSize = 200;  // padding longer than one compared block
  std::string text;
  append_payload(text, Payload{7, 8, 9}, kSize);
  ASSERT_EQ(text.size(), kSize);
  for (std::size_t at = 0; at < text.size(); ++at) {
    std::string damaged = text;
    damaged[at] = damaged[at] == 'x' ? 'y' : 'x';
    EXPECT_FALSE(parse_payload(damaged, kSize).has_value()) << "byte " << at;
  }
  EXPECT_FALSE(parse_payload(text.substr(0, kSize - 1), kSize).has_value());
  EXPECT_FALSE(parse_payload(text + "x", kSize).has_value());
}

// Numbers as append_payload writes them and nothing else: a leading zero, a sign, a sender
// beyond 32 bits or a number beyond 64 bits would mean the text was not ours.
TEST(Payload, RefusesNumbersItWouldNotHaveWritten) {
  EXPECT_TRUE(parse_payload("7 0 9", 0).has_value());
  EXPECT_FALSE(parse_payload("07 0 9", 0).has_value());
  EXPECT_FALSE(parse_payload("7 00 9", 0).has_value());
  EXPECT_FALSE(parse_payload("+7 0 9", 0).has_value());
  EXPECT_FALSE(parse_payload("7 0 -9", 0).has_value());
  EXPECT_FALSE(parse_payload("4294967296 0 9", 0).has_value());
  EXPECT_TRUE(parse_payload("4294967295 0 9", 0).has_value());
  EXPECT_FALSE(parse_payload("7 18446744073709551616 9", 0).has_value());
  EXPECT_TRUE(parse_payload("7 9999999999999999999 9", 0).has_value());
  EXPECT_FALSE(parse_payload("7 0 9223372036854775808", 0).has_value());  // above Nanos
}

}  // namespace
}  // namespace achat::load
