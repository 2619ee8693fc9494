#include "broker.h"
#include "achat/login_name.h"
#include "achat/protocol.h"
#include "test_client.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace achat {
namespace {

using testing::eventually;

// Drives a Broker on its own thread through its channels, as readers and writers would.
class BrokerHarness {
 public:
  struct Client {
    std::shared_ptr<Connection> connection;
    std::optional<OutboxSender> outbox;  // the reader's copy
    std::optional<OutboxReceiver> received;
  };

  explicit BrokerHarness(Limits limits = {}, std::int64_t budget = std::int64_t{1} << 40)
      : budget_(budget), limits_(limits) {
    auto [inbox, inbox_receiver] = make_channel<BrokerEvent>();
    auto [reaper, reaper_receiver] = make_channel<WriterDone>();
    inbox_.emplace(std::move(inbox));
    reaper_.emplace(std::move(reaper));
    thread_ = std::thread([this, broker = Broker(std::move(inbox_receiver), std::move(reaper_receiver),
                                                 limits_, stats_, budget_)]() mutable { broker.run(); });
  }
  ~BrokerHarness() { finish(); }

  Client connect(ConnectionId id) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    ::close(fds[1]);
    auto [outbox, received] = make_outbox();
    return Client{std::make_shared<Connection>(id, Socket(fds[0]), "test:" + std::to_string(id), budget_),
                  std::move(outbox), std::move(received)};
  }

  // As a reader would: `name` checked by the login rule first (which it must pass).
  LoginVerdict login(Client& client, std::string name) {
    std::string problem;
    auto checked = check_login(name, Limits{}.max_login_bytes, problem);
    EXPECT_TRUE(checked) << name << ": " << problem;
    std::promise<LoginVerdict> promise;
    auto verdict = promise.get_future();
    inbox_->send(std::make_unique<LoginRequest>(
        LoginRequest{client.connection, checked.value_or(LoginName{name, name, name}), *client.outbox,
                     std::move(promise), nullptr}));
    return verdict.get();
  }

  void say(const Client& from, std::string recipients, std::string text) {
    inbox_->send(ChatMessage{from.connection->id(), std::move(recipients),
                             std::make_shared<const std::string>(text)});
  }
  void bad_line(const Client& from, std::string reply) {
    inbox_->send(BadLine{from.connection->id(), std::move(reply)});
  }
  void who(const Client& from) { inbox_->send(WhoRequest{from.connection->id()}); }
  void reader_gone(const Client& client, bool server_stopping = false) {
    inbox_->send(ReaderGone{client.connection->id(), server_stopping});
  }
  void writer_done(const Client& client) { reaper_->send(WriterDone{client.connection->id(), 0}); }
  // Hands the broker `events` with one wake-up, so that (idle before) it takes them in one round.
  void one_round(std::vector<BrokerEvent> events) { ASSERT_TRUE(inbox_->send_bulk(events)); }

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
    OutboxBatch received;
    std::array<OutboundLine, 16> batch;
    while (client.received->receive(received)) {
      while (const std::size_t n = received.take(batch)) {
        for (std::size_t i = 0; i < n; ++i) lines.push_back(*batch[i]);
      }
    }
    return lines;
  }

  Stats stats_;
  QueueBudget budget_;

 private:
  Limits limits_;
  std::optional<Sender<BrokerEvent>> inbox_;
  std::optional<Sender<WriterDone>> reaper_;
  std::thread thread_;
};

using Lines = std::vector<std::string>;

// What every peer still online gets last when the inbox closes (the server stopping).
const std::string kGoodbye = "error: server shutting down\n";

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
                   "from bob: two\n", kGoodbye}));
  EXPECT_EQ(BrokerHarness::lines_for(bob), (Lines{"from alice: hi\n", kGoodbye}));
  EXPECT_EQ(BrokerHarness::lines_for(carol), (Lines{"from alice: hi\n", kGoodbye}));
  EXPECT_EQ(broker.stats_.deliveries_routed.load(), 5u);
}

TEST(Broker, RefusesALoginThatIsOnline) {
  BrokerHarness broker;
  auto first = broker.connect(1), second = broker.connect(2);
  ASSERT_EQ(broker.login(first, "alice"), std::nullopt);
  EXPECT_EQ(broker.login(second, "alice"), "login \"alice\" is already online");
  broker.say(second, "alice", "from alice: forged\n");  // a refused connection has no identity
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(first), Lines{kGoodbye});
  EXPECT_EQ(BrokerHarness::lines_for(second), Lines{});
}

// One login per uniqueness key (the confusable skeleton of the case-folded name), so another
// case or a look-alike of an online name is refused, naming the one it collides with.
TEST(Broker, RefusesAnotherCaseOrALookAlikeOfALoginThatIsOnline) {
  BrokerHarness broker;
  auto bob = broker.connect(1), mary = broker.connect(2), other = broker.connect(3);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  ASSERT_EQ(broker.login(mary, "mary"), std::nullopt);
  EXPECT_EQ(broker.login(other, "Bob"), "login \"Bob\" is already online");
  EXPECT_EQ(broker.login(other, "BOB"), "login \"BOB\" is already online");
  EXPECT_EQ(broker.login(other, "rnary"), "login \"rnary\" looks like \"mary\", which is already online");
  EXPECT_EQ(broker.login(other, "m\xC3\xA1ry"), std::nullopt);  // mári is another name
  broker.finish();
}

// Recipients are matched by address key (NFKC_Casefold), so any case reaches a login, once per
// message, and the sender's line is delivered as its reader formatted it.
TEST(Broker, FindsRecipientsByTheirAddressKey) {
  BrokerHarness broker;
  auto alice = broker.connect(1), bob = broker.connect(2);
  ASSERT_EQ(broker.login(alice, "Alice"), std::nullopt);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  broker.say(alice, "BOB, Bob, \xEF\xBD\x82\xEF\xBD\x8F\xEF\xBD\x82", "from Alice: hi\n");
  broker.say(bob, "alice, b0b", "from bob: hello\n");
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(bob),
            (Lines{"from Alice: hi\n", "error: not online: b0b\n", kGoodbye}));
  EXPECT_EQ(BrokerHarness::lines_for(alice), (Lines{"from bob: hello\n", kGoodbye}));
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
  EXPECT_EQ(BrokerHarness::lines_for(bob_again), (Lines{"from alice: again\n", kGoodbye}));
  EXPECT_EQ(BrokerHarness::lines_for(alice), (Lines{"error: not online: bob\n", kGoodbye}));
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
  EXPECT_EQ(BrokerHarness::lines_for(bob), (Lines{"from alice: still routed\n", kGoodbye}));
  EXPECT_EQ(BrokerHarness::lines_for(alice), (Lines{kGoodbye}));
}

TEST(Broker, ErrorRepliesComeInTheOrderOfTheLinesTheyAnswer) {
  BrokerHarness broker;
  auto alice = broker.connect(1);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  broker.bad_line(alice, "first bad");
  broker.say(alice, "nobody", "from alice: lost\n");
  broker.bad_line(alice, "second bad");
  broker.say(alice, "alice", "from alice: kept\n");
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(alice),
            (Lines{"error: first bad\n", "error: not online: nobody\n", "error: second bad\n",
                   "from alice: kept\n", kGoodbye}));
  EXPECT_EQ(broker.stats_.protocol_errors.load(), 2u);
  EXPECT_EQ(broker.stats_.not_online_replies.load(), 1u);
}

// A cut client's reader may still be sending (it has not seen the end of its socket yet) and
// may be held by flow control: every event it handed over must give its credit back, even after
// its writer has finished, or that reader (and so the server's shutdown) would wait forever.
TEST(Broker, ACutClientsReaderGetsItsCreditBackAfterItsWriterIsDone) {
  Limits limits;
  const std::string line = "from bob: " + std::string(100, 'x') + "\n";
  limits.max_outbound_bytes = static_cast<std::size_t>(queued_cost(line));
  BrokerHarness broker(limits);
  auto sloth = broker.connect(1), bob = broker.connect(2);
  ASSERT_EQ(broker.login(sloth, "sloth"), std::nullopt);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  broker.say(bob, "sloth", line);
  broker.say(bob, "sloth", line);  // past the cap: sloth is cut
  ASSERT_TRUE(eventually([&] { return !sloth.connection->end_reason().empty(); }));
  broker.writer_done(sloth);
  auto carol = broker.connect(3);
  ASSERT_EQ(broker.login(carol, "carol"), std::nullopt);  // a login makes the broker reap first
  // sloth's reader, still running, hands over one more line the way a reader does.
  const ChatMessage late{1, "bob", std::make_shared<const std::string>("from sloth: late\n")};
  const std::int32_t cost = unrouted_cost(late);
  sloth.connection->wait_to_hand_over(cost, cost);
  broker.say(sloth, "bob", *late.delivery);
  // Once the broker has handled it, the credit is back: a reader allowed one such event at a
  // time can hand over the next without waiting.
  auto next = std::async(std::launch::async, [&] { sloth.connection->wait_to_hand_over(cost, cost); });
  const bool credited = next.wait_for(testing::kDeadline) == std::future_status::ready;
  if (!credited) sloth.connection->routed(cost);  // lets the waiter go, so the test can end
  EXPECT_TRUE(credited) << "the cut client's reader never got its credit back";
  broker.reader_gone(sloth);
  broker.finish();
}

// Lines stay queued here: the harness's writers never run, so nothing is written.
TEST(Broker, AClientPastItsOutboundCapIsCutAndOthersAreServed) {
  Limits limits;
  const std::string line = "from alice: " + std::string(100, 'x') + "\n";
  limits.max_outbound_bytes = 10 * static_cast<std::size_t>(queued_cost(line));
  BrokerHarness broker(limits);
  auto alice = broker.connect(1), sloth = broker.connect(2), reader = broker.connect(3);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  ASSERT_EQ(broker.login(sloth, "sloth"), std::nullopt);
  ASSERT_EQ(broker.login(reader, "reader"), std::nullopt);
  for (int i = 0; i < 11; ++i) broker.say(alice, "sloth", line);
  broker.say(alice, "reader", line);
  broker.finish();
  // Cut: what it had was handed to its writer (which finds the socket shut down and discards
  // it) in earlier rounds at most, and it is told nothing more.
  EXPECT_LE(BrokerHarness::lines_for(sloth).size(), 10u);
  EXPECT_EQ(sloth.connection->end_reason(), "slow consumer: more than " +
                                                std::to_string(limits.max_outbound_bytes) +
                                                " bytes queued");
  EXPECT_EQ(BrokerHarness::lines_for(reader), (Lines{line, kGoodbye}));
  EXPECT_EQ(broker.stats_.slow_consumers.load(), 1u);
}

TEST(Broker, AClientThatLeavesTooManyErrorRepliesUnreadGetsOneLastLineAndIsCut) {
  Limits limits;
  limits.max_error_bytes = 4 * static_cast<std::size_t>(queued_cost(format_error("bad")));
  BrokerHarness broker(limits);
  auto alice = broker.connect(1);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  const std::int64_t cost = queued_cost(format_error("bad"));
  // Replies of one round are not yet unread, so five fit; once they sit unread (the harness's
  // writer never writes), the next reply cuts the client.
  for (int i = 0; i < 5; ++i) broker.bad_line(alice, "bad");
  ASSERT_TRUE(eventually([&] { return alice.connection->queued_errors() == 5 * cost; }));
  for (int i = 0; i < 5; ++i) broker.bad_line(alice, "bad");
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(alice),
            (Lines{"error: bad\n", "error: bad\n", "error: bad\n", "error: bad\n", "error: bad\n",
                   "error: too many errors, disconnecting\n"}));
  EXPECT_EQ(broker.stats_.error_floods.load(), 1u);
}

TEST(Broker, OverTheServerWideBudgetTheLargestBacklogIsCutFirst) {
  const std::string line = "from alice: " + std::string(100, 'x') + "\n";
  const std::int64_t cost = queued_cost(line);
  BrokerHarness broker(Limits{}, /*budget=*/10 * cost);
  auto alice = broker.connect(1), big = broker.connect(2), small = broker.connect(3);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  ASSERT_EQ(broker.login(big, "big"), std::nullopt);
  ASSERT_EQ(broker.login(small, "small"), std::nullopt);
  for (int i = 0; i < 7; ++i) broker.say(alice, "big", line);
  for (int i = 0; i < 3; ++i) broker.say(alice, "small", line);
  broker.say(alice, "small", line);  // the 11th line: over budget, so "big" goes
  broker.finish();
  EXPECT_LE(BrokerHarness::lines_for(big).size(), 7u);  // no more after the cut
  EXPECT_EQ(BrokerHarness::lines_for(small), (Lines{line, line, line, line, kGoodbye}));
  EXPECT_NE(big.connection->end_reason().find("largest backlog"), std::string::npos);
  EXPECT_EQ(broker.stats_.budget_cuts.load(), 1u);
}

// A peer that leaves mid-round hands its lines to its writer at once; they must still count
// against the budget for the rest of that round. Here bob, leaving, holds the largest backlog
// (8 lines of the 10 the budget allows), so carol's third line cuts him: his writer discards
// his queue, and carol's lines fit.
TEST(Broker, LinesOfAPeerThatLeavesMidRoundStillCountAgainstTheBudgetThatRound) {
  const std::string line = "from alice: " + std::string(100, 'x') + "\n";
  const std::int64_t cost = queued_cost(line);
  BrokerHarness broker(Limits{}, /*budget=*/10 * cost);
  auto alice = broker.connect(1), bob = broker.connect(2), carol = broker.connect(3);
  ASSERT_EQ(broker.login(alice, "alice"), std::nullopt);
  ASSERT_EQ(broker.login(bob, "bob"), std::nullopt);
  ASSERT_EQ(broker.login(carol, "carol"), std::nullopt);
  const auto shared = std::make_shared<const std::string>(line);
  std::vector<BrokerEvent> round;
  for (int i = 0; i < 8; ++i) round.emplace_back(ChatMessage{1, "bob", shared});
  round.emplace_back(ReaderGone{2, false});
  for (int i = 0; i < 4; ++i) round.emplace_back(ChatMessage{1, "carol", shared});
  broker.one_round(std::move(round));
  ASSERT_TRUE(eventually([&] { return !bob.connection->end_reason().empty(); }))
      << "all 12 lines queued against a budget of 10";
  EXPECT_NE(bob.connection->end_reason().find("largest backlog (" + std::to_string(8 * cost)),
            std::string::npos) << bob.connection->end_reason();
  EXPECT_EQ(broker.stats_.budget_cuts.load(), 1u);
  broker.finish();
  EXPECT_EQ(BrokerHarness::lines_for(carol), (Lines{line, line, line, line, kGoodbye}));
  EXPECT_EQ(carol.connection->end_reason(), "");
}

TEST(Broker, AWhoReplyIsNeverLongerThanTheLongestLineAClientCanBeSent) {
  Limits limits;
  limits.max_line_bytes = 64;  // longest delivery: "from " + 32-byte login + ": " + 64 + "\n" = 104
  BrokerHarness broker(limits);
  std::vector<BrokerHarness::Client> members;
  for (ConnectionId id = 1; id <= 10; ++id) {
    members.push_back(broker.connect(id));
    ASSERT_EQ(broker.login(members.back(), "member_number_0" + std::to_string(id - 1)), std::nullopt);
  }
  broker.who(members[0]);
  broker.finish();
  const Lines received = BrokerHarness::lines_for(members[0]);
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0], "online: member_number_00, member_number_01, member_number_02, "
                         "member_number_03, ... and 6 more\n");
  EXPECT_LE(received[0].size(), 104u);
}

}  // namespace
}  // namespace achat
