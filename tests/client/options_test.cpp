// Unit tests of the client's command-line parser and line reassembly.
#include <gtest/gtest.h>

#include <vector>

#include "line_splitter.h"
#include "options.h"

namespace achat::client {
namespace {

ParsedOptions parse(std::vector<const char*> arguments) { return parse_options(arguments); }

TEST(ClientOptions, DefaultsToLocalhost8080WithoutLogin) {
  const auto parsed = parse({});
  ASSERT_FALSE(parsed.error);
  EXPECT_EQ(parsed.options.server.to_string(), "127.0.0.1:8080");
  EXPECT_FALSE(parsed.options.login);
  EXPECT_FALSE(parsed.options.help);
}

TEST(ClientOptions, TakesAnAddressAndALoginInAnyOrder) {
  for (const auto& arguments : {std::vector<const char*>{"10.0.0.7:9000", "--login", "alice"},
                                std::vector<const char*>{"--login=alice", "10.0.0.7:9000"}}) {
    const auto parsed = parse(arguments);
    ASSERT_FALSE(parsed.error) << *parsed.error;
    EXPECT_EQ(parsed.options.server.to_string(), "10.0.0.7:9000");
    EXPECT_EQ(parsed.options.login, "alice");
  }
}

TEST(ClientOptions, PortOnlyMeansLocalhost) {
  const auto parsed = parse({":9001"});
  ASSERT_FALSE(parsed.error);
  EXPECT_EQ(parsed.options.server.host, "");  // Socket::connect_to resolves it as localhost
  EXPECT_EQ(parsed.options.server.port, 9001);
}

TEST(ClientOptions, TakesHostNamesAndIPv6Addresses) {
  EXPECT_EQ(parse({"localhost:18500"}).options.server.host, "localhost");
  EXPECT_EQ(parse({"[::1]:18500"}).options.server.host, "::1");
  EXPECT_EQ(parse({"[::1]:18500"}).options.server.port, 18500);
}

TEST(ClientOptions, HelpWinsOverEverythingAfterIt) {
  const auto parsed = parse({"--help", "--bogus"});
  EXPECT_FALSE(parsed.error);
  EXPECT_TRUE(parsed.options.help);
}

TEST(ClientOptions, VersionIsAnOption) {
  for (const char* flag : {"--version", "-V"}) {  // -V as the server takes it
    const auto parsed = parse({flag});
    EXPECT_FALSE(parsed.error) << flag;
    EXPECT_TRUE(parsed.options.version) << flag;
  }
  EXPECT_FALSE(parse({}).options.version);
}

TEST(ClientOptions, ExplainsWhatIsWrong) {
  EXPECT_EQ(parse({"--login"}).error, "--login needs a NAME");
  EXPECT_EQ(parse({"--what"}).error, "unknown option --what (see --help)");
  EXPECT_EQ(parse({"1.2.3.4:5", "6.7.8.9:10"}).error,
            "unexpected argument '6.7.8.9:10': only one HOST:PORT may be given");
  EXPECT_EQ(parse({"host:port"}).error,
            "bad address \"host:port\": expected HOST:PORT, [IPv6]:PORT or :PORT");
}

TEST(ClientOptions, HelpDocumentsTheExitStatuses) {
  const std::string help = usage_text("a-chat-client");
  EXPECT_NE(help.find("--version"), std::string::npos);
  EXPECT_NE(help.find("Exit status:\n  0  you quit"), std::string::npos) << help;
  EXPECT_NE(help.find("\n  1  the connection failed"), std::string::npos) << help;
  EXPECT_NE(help.find("\n  2  bad command line"), std::string::npos) << help;
}

TEST(LineSplitter, ReassemblesLinesAcrossChunks) {
  LineSplitter splitter;
  splitter.feed("from bob: he");
  EXPECT_FALSE(splitter.next_line());
  splitter.feed("llo\nfrom carol: x\nfrom");
  EXPECT_EQ(splitter.next_line(), "from bob: hello");
  EXPECT_EQ(splitter.next_line(), "from carol: x");
  EXPECT_FALSE(splitter.next_line());
  splitter.feed("\n\n");
  EXPECT_EQ(splitter.next_line(), "from");
  EXPECT_EQ(splitter.next_line(), "");
  EXPECT_FALSE(splitter.next_line());
  splitter.feed("tail");
  EXPECT_EQ(splitter.take_rest(), "tail");
  EXPECT_EQ(splitter.take_rest(), "");
}

}  // namespace
}  // namespace achat::client
