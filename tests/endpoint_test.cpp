// Unit tests of the command-line address parser (include/achat/endpoint.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "achat/endpoint.h"

namespace achat {
namespace {

TEST(Endpoint, ParsesEachForm) {
  struct Case {
    const char* text;
    const char* host;
    std::uint16_t port;
  };
  for (const Case& c : std::vector<Case>{{"127.0.0.1:8080", "127.0.0.1", 8080},
                                         {"localhost:18500", "localhost", 18500},
                                         {"chat-1.example.org.:1", "chat-1.example.org.", 1},
                                         {"my_service:80", "my_service", 80},
                                         {"[::1]:18500", "::1", 18500},
                                         {"[::]:0", "::", 0},
                                         {"[fe80::1%lo]:80", "fe80::1%lo", 80},
                                         {"[::ffff:10.0.0.1]:65535", "::ffff:10.0.0.1", 65535},
                                         {":8080", "", 8080}}) {
    const auto endpoint = Endpoint::parse(c.text);
    ASSERT_TRUE(endpoint) << c.text;
    EXPECT_EQ(endpoint->host, c.host) << c.text;
    EXPECT_EQ(endpoint->port, c.port) << c.text;
  }
}

TEST(Endpoint, RefusesEverythingElse) {
  for (const char* text :
       {"", ":", "8080", "localhost", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", "127.0.0.1:0x50", "::1:8080", "::1",
        "[::1]", "[::1]8080", "[::1]:", "[]:80", "[127.0.0.1]:80", "[localhost]:80",
        "[::1:80", "300.1.1.1:80", "127.0.0.1.5:80", "1234:80", "bad host:80", "-lead:80",
        "trail-:80", "a..b:80", ".:80", "h\xc3\xa9:80", "host/x:80"}) {
    EXPECT_FALSE(Endpoint::parse(text)) << '"' << text << '"';
  }
}

TEST(Endpoint, PrintsTheCommandLineForm) {
  for (const char* text : {"127.0.0.1:8080", "localhost:1", "[::1]:18500", ":0"}) {
    EXPECT_EQ(Endpoint::parse(text)->to_string(), text);
  }
  EXPECT_EQ(Endpoint{}.to_string(), "127.0.0.1:8080");
}

TEST(Endpoint, BadAddressErrorNamesTheFormsAccepted) {
  EXPECT_EQ(Endpoint::bad_address_error("x"),
            "bad address \"x\": expected HOST:PORT, [IPv6]:PORT or :PORT");
}

}  // namespace
}  // namespace achat
