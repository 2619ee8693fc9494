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

TEST(PipedClient, ServerClosingFirstEndsTheClientWithStatusZero) {
  FakeServer server;
  ChildProcess client(client_command({server.address(), "--login", "alice"}));
  ASSERT_TRUE(server.accept_client());
  EXPECT_EQ(server.receive(6), "alice\n");
  ASSERT_TRUE(server.send("error: login \"alice\" is already online\n"));
  server.close();  // stdin stays open: the client must not wait for it
  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_EQ(client.out(), "error: login \"alice\" is already online\n");
  EXPECT_EQ(client.err(), "");
}

TEST(PipedClient, LastServerLineWithoutNewlineIsPrintedAsALine) {
  FakeServer server;
  ChildProcess client(client_command({server.address(), "--login", "alice"}));
  ASSERT_TRUE(server.accept_client());
  // Read what the client sent first: closing a socket with unread input makes Linux send a
  // reset instead of an orderly close.
  EXPECT_EQ(server.receive(6), "alice\n");
  ASSERT_TRUE(server.send("from bob: one\nfrom bob: two"));
  server.close();
  EXPECT_EQ(client.wait_exit(), 0);
  EXPECT_EQ(client.out(), "from bob: one\nfrom bob: two\n");
}

TEST(PipedClient, ServerResetPrintsConnectionLostAndExitsOne) {
  FakeServer server;
  ChildProcess client(client_command({server.address(), "--login", "alice"}));
  ASSERT_TRUE(server.accept_client());
  EXPECT_EQ(server.receive(6), "alice\n");
  ASSERT_TRUE(server.send("from bob: still here\n"));
  EXPECT_EQ(client.read_stdout(21), "from bob: still here\n");
  server.reset();
  EXPECT_EQ(client.wait_exit(), 1);
  EXPECT_EQ(client.out(), "from bob: still here\n");
  EXPECT_EQ(client.err(), "connection lost\n");
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
  EXPECT_EQ(client.err(), "");
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
                      std::vector<std::string>{"localhost:8080"},
                      std::vector<std::string>{"--login"},
                      std::vector<std::string>{"--login", ""},
                      std::vector<std::string>{"--login=a\tb"},
                      std::vector<std::string>{"--frobnicate"},
                      std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));

}  // namespace
}  // namespace achat::client::testing
