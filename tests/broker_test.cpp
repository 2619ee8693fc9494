#include "achat/broker.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace achat {
namespace {

// Drives a Broker on its own thread through its channels, as readers and writers would.
class BrokerHarness {
 public:
  struct Client {
    std::shared_ptr<Connection> connection;
    std::optional<Sender<OutboundLine>> outbox;  // the reader's copy
    std::optional<Receiver<OutboundLine>> received;
  };

  BrokerHarness() {
    auto [inbox, inbox_receiver] = make_channel<BrokerEvent>();
    auto [reaper, reaper_receiver] = make_channel<WriterDone>();
    inbox_.emplace(std::move(inbox));
    reaper_.emplace(std::move(reaper));
    thread_ = std::thread([this, broker = Broker(std::move(inbox_receiver), std::move(reaper_receiver),
                                                 limits_, stats_)]() mutable { broker.run(); });
  }
  ~BrokerHarness() { finish(); }

  Client connect(ConnectionId id) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ::close(fds[1]);
    auto [outbox, received] = make_channel<OutboundLine>();
    return Client{std::make_shared<Connection>(id, Socket(fds[0]), "test:" + std::to_string(id)),
                  std::move(outbox), std::move(received)};
  }

  LoginVerdict login(Client& client, std::string name) {
    std::promise<LoginVerdict> promise;
    auto verdict = promise.get_future();
    inbox_->send(std::make_unique<LoginRequest>(
        LoginRequest{client.connection, std::move(name), *client.outbox, std::move(promise), nullptr}));
    return verdict.get();
  }

  void say(const Client& from, std::string recipients, std::string text) {
    inbox_->send(ChatMessage{from.connection->id(), std::move(recipients),
                             std::make_shared<const std::string>(text)});
  }
  void reader_gone(const Client& client, bool server_stopping = false) {
    inbox_->send(ReaderGone{client.connection->id(), server_stopping});
  }
  void writer_done(const Client& client) { reaper_->send(WriterDone{client.connection->id(), 0}); }

  // Closes the inbox and the reaper, as the end of every reader and writer would, and waits
  // for the broker to return.
  void finish() {
    inbox_.reset();
    reaper_.reset();
    if (thread_.joinable()) thread_.join();
  }

  // Everything queued for `client` once its channel closes (the reader's copy is dropped here).
  static std::vector<std::string> lines_for(Client& client) {
    client.outbox.reset();
    std::vector<std::string> lines;
    std::array<OutboundLine, 16> batch;
    while (const std::size_t n = client.received->receive(batch)) {
      for (std::size_t i = 0; i < n; ++i) lines.push_back(*batch[i]);
    }
    return lines;
  }

  Stats stats_;

 private:
  Limits limits_;
  std::optional<Sender<BrokerEvent>> inbox_;
  std::optional<Sender<WriterDone>> reaper_;
  std::thread thread_;
};

using Lines = std::vector<std::string>;

TEST(Broker, RoutesToEachListedOnlinePeerOnceAndReportsUnknownNames) {
  BrokerHarness broker;
  auto alice = broker.connect(1), bob = broker.connect(2), carol = broker.connect(3);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  ASSERT_EQ(broker.login(carol, "carol"), std::nullopt);
  broker.say(alice, "bob, dave, carol, bob, alice, erin", "from alice: hi\n");
  broker.say(bob, "alice", "from bob: one\n");
  broker.say(bob, "alice", "from bob: two\n");
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(alice),
            (Lines{"from alice: hi\n", "error: not online: dave, erin\n", "from bob: one\n",
                   "from bob: two\n"}));
  EXPECT_EQ(BrokerHarness::lines_for(bob), (Lines{"from alice: hi\n"}));
  EXPECT_EQ(BrokerHarness::lines_for(carol), (Lines{"from alice: hi\n"}));
  EXPECT_EQ(broker.stats_.deliveries_routed.load(), 5u);
}

TEST(Broker, RefusesALoginThatIsOnline) {
  BrokerHarness broker;
  auto first = broker.connect(1), second = broker.connect(2);
  ASSERT_EQ(broker.login(first, "alice"), std::nullopt);
  EXPECT_EQ(broker.login(second, "alice"), "login \"alice\" is already online");
  broker.say(second, "alice", "from alice: forged\n");  // a refused connection has no identity
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(first), Lines{});
  EXPECT_EQ(BrokerHarness::lines_for(second), Lines{});
}

TEST(Broker, ReaderGoneStopsDeliveryButKeepsTheNameUntilTheWriterIsDone) {
  BrokerHarness broker;
  auto alice = broker.connect(1), bob = broker.connect(2), bob_again = broker.connect(3);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  broker.say(alice, "bob", "from alice: before\n");
  broker.reader_gone(bob);
  broker.say(alice, "bob", "from alice: after\n");  // bob is leaving: alice is told
  EXPECT_EQ(broker.login(bob_again, "bob"), "login \"bob\" is already online");
  // bob's channel is closed by the broker once bob's reader copy goes too.
  EXPECT_EQ(BrokerHarness::lines_for(bob), (Lines{"from alice: before\n"}));
  broker.writer_done(bob);
  EXPECT_EQ(broker.login(bob_again, "bob"), std::nullopt);
  broker.say(alice, "bob", "from alice: again\n");
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(bob_again), (Lines{"from alice: again\n"}));
  EXPECT_EQ(BrokerHarness::lines_for(alice), (Lines{"error: not online: bob\n"}));
}

TEST(Broker, WhenTheServerStopsReadingWritersStayOpenUntilEveryReaderIsRouted) {
  BrokerHarness broker;
  auto alice = broker.connect(1), bob = broker.connect(2);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  broker.reader_gone(bob, /*server_stopping=*/true);
  broker.say(alice, "bob", "from alice: still routed\n");
  broker.reader_gone(alice, /*server_stopping=*/true);
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(bob), (Lines{"from alice: still routed\n"}));
}

}  // namespace
}  // namespace achat
