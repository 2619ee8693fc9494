// End-to-end: a real server on a loopback port, real sockets, exact bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

TEST(Server, TutorialSession) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  alice.send("bob: hello\n");
  EXPECT_EQ(bob.read_line(), "from alice: hello");
  bob.send("alice, bob: hi!\n");
  EXPECT_EQ(alice.read_line(), "from bob: hi!");
  EXPECT_EQ(bob.read_line(), "from bob: hi!");
}

// limits.h: max_clients 0 means "sized to the process", for a library user as for main.
TEST(Server, DefaultLimitsAdmitClients) {
  quiet_logs();
  ServerConfig config;
  config.endpoint.host = "127.0.0.1";
  config.endpoint.port = 0;
  Server server(config);
  server.start();
  auto alice = TestClient::online(server.port(), "alice");
  alice.send("alice: me\n");
  EXPECT_EQ(alice.read_line(), "from alice: me");
}

TEST(Server, MultipleRecipientsSelfDeliveryAndDuplicatesOnce) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  auto carol = TestClient::online(server.port(), "carol");
  alice.send("bob, carol, alice, bob: all of us\n");
  EXPECT_EQ(alice.read_line(), "from alice: all of us");
  EXPECT_EQ(bob.read_line(), "from alice: all of us");
  EXPECT_EQ(carol.read_line(), "from alice: all of us");
  // bob was listed twice: if he had got it twice, the second copy would come before this.
  alice.send("bob: next\n");
  EXPECT_EQ(bob.read_line(), "from alice: next");
}

TEST(Server, TrimsNamesAndTextAndKeepsColonsInText) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  alice.send("   bob   :   time: 12:30, place: here   \n");
  EXPECT_EQ(bob.read_line(), "from alice: time: 12:30, place: here");
}

TEST(Server, CarriesUtf8AndStripsCrlf) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "\xC3\xA9lodie");
  auto bob = TestClient::online(server.port(), "bob");
  alice.send("bob: caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80\r\n");
  EXPECT_EQ(bob.read_line(), "from \xC3\xA9lodie: caf\xC3\xA9 \xE2\x98\x95 \xF0\x9F\x98\x80");
  TestClient windows(server.port());
  windows.send("win\r\nbob: crlf\r\n");
  EXPECT_EQ(bob.read_line(), "from win: crlf");
}

TEST(Server, UnknownRecipientsAreReportedAndOthersStillGetIt) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  alice.send("nobody, bob: hi\n");
  EXPECT_EQ(bob.read_line(), "from alice: hi");
  EXPECT_EQ(alice.read_line(), "error: not online: nobody");
  alice.send("no colon here\n");
  EXPECT_EQ(alice.read_line(), "error: expected \"name, name: text\", line dropped: \"no colon here\"");
  alice.send("bob: still connected\n");
  EXPECT_EQ(bob.read_line(), "from alice: still connected");
}

TEST(Server, KeepsOrderOfTenThousandMessagesPerPair) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  constexpr int kMessages = 10'000;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) burst += "bob: " + std::to_string(i) + "\n";
  alice.send(burst);
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(bob.read_line(), "from alice: " + std::to_string(i));
  }
}

TEST(Server, LoginIsFreeAgainOnceTheOldSessionIsGone) {
  TestServer server;
  auto bob = TestClient::online(server.port(), "bob");
  {
    auto alice = TestClient::online(server.port(), "alice");
    alice.shutdown_write();
    EXPECT_TRUE(alice.closed_by_server());
  }
  // The old writer reports done asynchronously: retry until the login is accepted.
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  std::optional<std::string> answer;
  while (std::chrono::steady_clock::now() < until) {
    TestClient again(server.port());
    again.send("alice\nalice: back\n");
    answer = again.read_line();
    if (answer == "from alice: back") {
      again.send("bob: I am back\n");
      EXPECT_EQ(bob.read_line(), "from alice: I am back");
      return;
    }
    ASSERT_EQ(answer, "error: login \"alice\" is already online, disconnecting");
  }
  FAIL() << "alice could not log in again; last answer: " << answer.value_or("<none>");
}

TEST(Server, RefusesDuplicateLoginWhichCannotSend) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  TestClient impostor(server.port());
  impostor.send("alice\nbob: I am alice\n");
  EXPECT_EQ(impostor.read_line(), "error: login \"alice\" is already online, disconnecting");
  EXPECT_TRUE(impostor.closed_by_server());
  alice.send("bob: the real alice\n");
  EXPECT_EQ(bob.read_line(), "from alice: the real alice");  // nothing forged came first
}

TEST(Server, HalfClosedClientStillReceivesWhatItSentItself) {
  TestServer server;
  TestClient me(server.port());
  me.send("me\nme: hi\n");
  me.shutdown_write();
  EXPECT_EQ(me.read_line(), "from me: hi");
  EXPECT_TRUE(me.closed_by_server());
}

TEST(Server, ResetMidLineEndsOnlyThatClient) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  {
    auto doomed = TestClient::online(server.port(), "doomed");
    doomed.send("alice: this line never ends");
    doomed.reset();
  }
  {
    TestClient early(server.port());
    early.send("half-a-log");
    early.reset();
  }
  bob.send("alice: still here\n");
  EXPECT_EQ(alice.read_line(), "from bob: still here");
  alice.send("doomed: are you there?\n");
  // doomed may still be finishing; either way alice hears nothing from the half line.
  alice.send("alice: marker\n");
  auto line = alice.read_line();
  if (line == "error: not online: doomed") line = alice.read_line();
  EXPECT_EQ(line, "from alice: marker");
}

TEST(Server, ServesAThousandConcurrentClients) {
  TestServer server;
  constexpr int kClients = 1000;
  std::vector<TestClient> clients;
  clients.reserve(kClients);
  for (int i = 0; i < kClients; ++i) clients.push_back(TestClient::online(server.port(), "c" + std::to_string(i)));
  EXPECT_GE(server->threads(), 2u * kClients);
  for (int i = 0; i < kClients; ++i) {
    clients[static_cast<std::size_t>(i)].send("c" + std::to_string((i + 1) % kClients) + ": from your left\n");
  }
  for (int i = 0; i < kClients; ++i) {
    ASSERT_EQ(clients[static_cast<std::size_t>(i)].read_line(),
              "from c" + std::to_string((i + kClients - 1) % kClients) + ": from your left");
  }
}

TEST(Server, StopDeliversEverythingAlreadyAccepted) {
  TestServer server;
  auto alice = TestClient::online(server.port(), "alice");
  auto bob = TestClient::online(server.port(), "bob");
  constexpr int kMessages = 2000;
  std::string burst;
  for (int i = 0; i < kMessages; ++i) burst += "bob: " + std::to_string(i) + "\n";
  alice.send(burst);
  // The server has accepted the last message once alice hears her own marker behind it.
  alice.send("alice: sent\n");
  ASSERT_EQ(alice.read_line(), "from alice: sent");
  server->stop();
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(bob.read_line(), "from alice: " + std::to_string(i));
  EXPECT_TRUE(bob.closed_by_server());
  EXPECT_TRUE(alice.closed_by_server());
  EXPECT_EQ(server->stats().lines_undeliverable.load(), 0u);
}

}  // namespace
}  // namespace achat::testing
