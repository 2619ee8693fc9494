// The real a-chat-client binary in piped mode (stdin and stdout are pipes) against a fake
// server owned by the test: exact bytes in both directions, half-close, exit statuses.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace achat::client::testing {
namespace {

std::vector<std::string> client_command(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), client_path());
  return arguments;
}

TEST(PipedClient, SendsLoginAndStdinLinesInOrderPrintsServerLinesAndHalfClosesAtEndOfStdin) {
  FakeServer server;
  ChildProcess client(client_command({server.address(), "--login", "alice"}));
  ASSERT_TRUE(server.accept_client());
  EXPECT_EQ(server.receive(6), "alice\n");

  ASSERT_TRUE(client.write_stdin("bob: hello\n"));
  ASSERT_TRUE(client.write_stdin("carol, bob: hi there\n"));
  const std::string expected_upload = "alice\nbob: hello\ncarol, bob: hi there\n";
  EXPECT_EQ(server.receive(expected_upload.size()), expected_upload);

  ASSERT_TRUE(server.send("from bob: hello alice\n"));
  EXPECT_EQ(client.read_stdout(22), "from bob: hello alice\n");

  // End of stdin: the client half-closes but keeps printing what the server sends.
  client.close_stdin();
  ASSERT_TRUE(server.wait_for_eof());
  EXPECT_EQ(server.received(), expected_upload);
  ASSERT_TRUE(server.send("from carol: after your eof\nfrom bob: bye\n"));
  const std::string expected_output =
      "from bob: hello alice\nfrom carol: after your eof\nfrom bob: bye\n";
  EXPECT_EQ(client.read_stdout(expected_output.size()), expected_output);
  server.close();

  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_EQ(client.out(), expected_output);
  EXPECT_EQ(client.err(), "");
}

TEST(PipedClient, WithoutLoginOptionTheFirstStdinLineIsTheLogin) {
  FakeServer server;
  ChildProcess client(client_command({server.address()}));
  ASSERT_TRUE(server.accept_client());
  ASSERT_TRUE(client.write_stdin("alice\nbob: hi\n"));
  client.close_stdin();
  ASSERT_TRUE(server.wait_for_eof());
  EXPECT_EQ(server.received(), "alice\nbob: hi\n");
  server.close();
  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_EQ(client.out(), "");
  EXPECT_EQ(client.err(), "");
}

TEST(PipedClient, EmptyStdinSendsOnlyTheLoginThenHalfCloses) {
  FakeServer server;
  ChildProcess client(client_command({"--login", "alice", server.address()}));
  ASSERT_TRUE(server.accept_client());
  client.close_stdin();
  ASSERT_TRUE(server.wait_for_eof());
  EXPECT_EQ(server.received(), "alice\n");
  server.close();
  EXPECT_EQ(client.wait_exit(), 0);
}

TEST(PipedClient, UnterminatedLastStdinLineIsSentWithANewline) {
  FakeServer server;
  ChildProcess client(client_command({server.address(), "--login=alice"}));
  ASSERT_TRUE(server.accept_client());
  ASSERT_TRUE(client.write_stdin("bob: one\nbob: two"));
  EXPECT_EQ(server.receive(15), "alice\nbob: one\n");  // a partial line waits for its end
  client.close_stdin();
  ASSERT_TRUE(server.wait_for_eof());
  EXPECT_EQ(server.received(), "alice\nbob: one\nbob: two\n");
  server.close();
  EXPECT_EQ(client.wait_exit(), 0);
}

// A client started with --login alice whose login the fake server has read. Owns both; test
// thread only.
class PipedClientLoggedIn : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.accept_client());
    ASSERT_EQ(server_.receive(6), "alice\n");
  }

  // Ends stdin and waits until the server sees the half-close.
  void end_stdin() {
    client_.close_stdin();
    ASSERT_TRUE(server_.wait_for_eof());
  }

  FakeServer server_;
  ChildProcess client_{client_command({server_.address(), "--login", "alice"})};
};

TEST_F(PipedClientLoggedIn, LoginRefusalIsShownOnStderrAndExitsOne) {
  const std::string refusal = "error: login \"alice\" is already online, disconnecting";
  ASSERT_TRUE(server_.send(refusal + "\n"));
  server_.close();  // stdin stays open: the client must not wait for it
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.out(), refusal + "\n");
  EXPECT_EQ(client_.err(), "disconnected by the server: " + refusal + "\n");
}

// A cluster that cannot confirm the login is a failure with its reason, not a clean close.
TEST_F(PipedClientLoggedIn, ClusterUnavailableIsShownOnStderrAndExitsOne) {
  const std::string notice = "error: cluster unavailable, try again";
  ASSERT_TRUE(server_.send(notice + "\n"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.out(), notice + "\n");
  EXPECT_EQ(client_.err(), "disconnected by the server: " + notice + "\n");
}

// Even after everything was sent: the session was ended, not finished.
TEST_F(PipedClientLoggedIn, ClusterUnavailableDuringTheSessionAfterEndOfStdinExitsOne) {
  ASSERT_NO_FATAL_FAILURE(end_stdin());
  const std::string notice = "error: cluster unavailable, disconnecting";
  ASSERT_TRUE(server_.send(notice + "\n"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.err(), "disconnected by the server: " + notice + "\n");
}

// The server's notice wins even when our side had finished: the user must learn why.
TEST_F(PipedClientLoggedIn, ShutdownNoticeAfterEndOfStdinStillExitsOne) {
  ASSERT_NO_FATAL_FAILURE(end_stdin());
  ASSERT_TRUE(server_.send("from bob: last words\nerror: server shutting down\n"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.out(), "from bob: last words\nerror: server shutting down\n");
  EXPECT_EQ(client_.err(), "disconnected by the server: error: server shutting down\n");
}

TEST_F(PipedClientLoggedIn, UnterminatedNoticeCountsToo) {
  ASSERT_TRUE(server_.send("error: server full"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.out(), "error: server full\n");
  EXPECT_EQ(client_.err(), "disconnected by the server: error: server full\n");
}

// A crash looks like an orderly close without a notice: the client cannot tell them apart
// from the socket alone, so anything the user did not ask for is "connection lost".
TEST_F(PipedClientLoggedIn, ServerClosingBeforeEndOfStdinWithoutANoticeIsALostConnection) {
  ASSERT_TRUE(server_.send("from bob: hi\n"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.out(), "from bob: hi\n");
  EXPECT_EQ(client_.err(), "connection lost\n");
}

// An ordinary error line is not a goodbye: after end of stdin and a clean close, status 0.
TEST_F(PipedClientLoggedIn, AnErrorLineThatKeepsTheConnectionIsNotANotice) {
  ASSERT_TRUE(client_.write_stdin("carol: hi\n"));
  ASSERT_NO_FATAL_FAILURE(end_stdin());
  ASSERT_TRUE(server_.send("error: not online: carol\n"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 0);
  EXPECT_EQ(client_.out(), "error: not online: carol\n");
  EXPECT_EQ(client_.err(), "");
}

// Closing a socket with unread input makes Linux send a reset instead of an orderly close:
// end_stdin() has the server read everything first.
TEST_F(PipedClientLoggedIn, LastServerLineWithoutNewlineIsPrintedAsALine) {
  ASSERT_NO_FATAL_FAILURE(end_stdin());
  ASSERT_TRUE(server_.send("from bob: one\nfrom bob: two"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 0);
  EXPECT_EQ(client_.out(), "from bob: one\nfrom bob: two\n");
}

// Piped output is for programs: bytes exactly as received, tabs and control characters too.
TEST_F(PipedClientLoggedIn, CopiesServerBytesUnchanged) {
  ASSERT_NO_FATAL_FAILURE(end_stdin());
  ASSERT_TRUE(server_.send("from bob: a\tb\x01" "c\n"));
  server_.close();
  EXPECT_EQ(client_.wait_exit(), 0);
  EXPECT_EQ(client_.out(), "from bob: a\tb\x01" "c\n");
}

TEST_F(PipedClientLoggedIn, ServerResetPrintsConnectionLostAndExitsOne) {
  ASSERT_TRUE(server_.send("from bob: still here\n"));
  EXPECT_EQ(client_.read_stdout(21), "from bob: still here\n");
  server_.reset();
  EXPECT_EQ(client_.wait_exit(), 1);
  EXPECT_EQ(client_.out(), "from bob: still here\n");
  EXPECT_EQ(client_.err(), "connection lost\n");
}

TEST(PipedClient, ConnectsToAHostNameAndToPortOnlyAsLocalhost) {
  for (const std::string prefix : {"localhost:", ":"}) {
    FakeServer server;  // IPv4 127.0.0.1: "localhost" may resolve to ::1 first, then to it
    ChildProcess client(client_command({prefix + std::to_string(server.port()), "--login", "al"}));
    ASSERT_TRUE(server.accept_client()) << prefix;
    client.close_stdin();
    ASSERT_TRUE(server.wait_for_eof());
    EXPECT_EQ(server.received(), "al\n");
    server.close();
    EXPECT_EQ(client.wait_exit(), 0);
  }
}

// Both directions at once with more data than the socket buffers hold, while the fake server
// sends everything before it reads anything: a client that blocked in one direction would
// deadlock here.
TEST(PipedClient, CopiesBothDirectionsAtOnceWithoutDeadlock) {
  std::string upload = "alice\n";
  std::string download;
  for (int i = 0; i < 60'000; ++i) {
    upload += "bob: line number " + std::to_string(i) + " from alice, padded a bit more\n";
    download += "from bob: line number " + std::to_string(i) + " to alice, padded too\n";
  }
  FakeServer server;
  ChildProcess client(client_command({server.address()}));
  ASSERT_TRUE(server.accept_client());

  std::thread writer([&client, &upload] {
    client.write_stdin(upload);
    client.close_stdin();
  });
  std::thread sender([&server, &download] { server.send(download); });
  EXPECT_EQ(client.read_stdout(download.size()).size(), download.size());
  sender.join();
  EXPECT_TRUE(server.wait_for_eof());
  writer.join();
  EXPECT_TRUE(server.received() == upload) << "received " << server.received().size()
                                           << " of " << upload.size() << " bytes";
  server.close();
  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_TRUE(client.out() == download);
}

TEST(PipedClient, RefusedConnectionExitsOneWithAReason) {
  // A bound socket that does not listen: connecting to its port is refused.
  Socket bound = Socket::listen_on(Endpoint{"127.0.0.1", 0}, 1);
  const auto port = bound.local_port();
  bound = Socket();  // closed: nothing listens on the port now
  ChildProcess client(client_command({"127.0.0.1:" + std::to_string(port)}));
  EXPECT_EQ(client.wait_exit(), 1);
  EXPECT_EQ(client.err(), "a-chat-client: cannot connect to 127.0.0.1:" +
                              std::to_string(port) + ": Connection refused\n");
  EXPECT_EQ(client.out(), "");
}

TEST(PipedClient, HelpPrintsUsageAndExitsZero) {
  ChildProcess client(client_command({"--help"}));
  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_TRUE(client.out().starts_with("usage: a-chat-client [HOST:PORT] [--login NAME]"))
      << client.out();
  EXPECT_NE(client.out().find("Exit status:"), std::string::npos) << client.out();
  EXPECT_EQ(client.err(), "");
}

TEST(PipedClient, VersionPrintsTheProjectVersionAndExitsZero) {
  ChildProcess client(client_command({"--version"}));
  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_EQ(client.out(), "a-chat-client " ACHAT_VERSION "\n");
  EXPECT_EQ(client.err(), "");
}

TEST(PipedClient, UnknownOptionAndBadAddressSayWhatIsWrong) {
  ChildProcess unknown(client_command({"--x"}));
  EXPECT_EQ(unknown.wait_exit(), 2);
  EXPECT_EQ(unknown.err(), "a-chat-client: unknown option --x (see --help)\n");
  ChildProcess bad(client_command({"::1:8080"}));
  EXPECT_EQ(bad.wait_exit(), 2);
  EXPECT_EQ(bad.err(),
            "a-chat-client: bad address \"::1:8080\": expected HOST:PORT, [IPv6]:PORT or :PORT\n");
}

class BadArguments : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(BadArguments, PrintOneLineOnStderrAndExitTwo) {
  ChildProcess client(client_command(GetParam()));
  EXPECT_EQ(client.wait_exit(), 2);
  EXPECT_EQ(client.out(), "");
  EXPECT_TRUE(client.err().starts_with("a-chat-client: ")) << client.err();
  EXPECT_TRUE(client.err().ends_with("\n")) << client.err();
  EXPECT_EQ(client.err().find('\n'), client.err().size() - 1) << client.err();
}

INSTANTIATE_TEST_SUITE_P(
    PipedClient, BadArguments,
    ::testing::Values(std::vector<std::string>{"not-an-address"},
                      std::vector<std::string>{"127.0.0.1:99999"},
                      std::vector<std::string>{"127.0.0.1:"},
                      std::vector<std::string>{"localhost"},
                      std::vector<std::string>{"[::1]"},
                      std::vector<std::string>{"[localhost]:8080"},
                      std::vector<std::string>{"bad host:8080"},
                      std::vector<std::string>{""},
                      std::vector<std::string>{"--login"},
                      std::vector<std::string>{"--login", ""},
                      std::vector<std::string>{"--login=a\tb"},
                      std::vector<std::string>{"--frobnicate"},
                      std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));

}  // namespace
}  // namespace achat::client::testing
