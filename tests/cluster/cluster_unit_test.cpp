// The cluster's pieces that need no NATS: claim records, the claim book's fencing, envelopes,
// sequence checks, the directory, the byte bound on the way to the publisher, and the cluster
// options.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>

#include "default_node_id.h"
#include "server_options.h"
#include "cluster/bucket_shape.h"
#include "cluster/claim_arbiter.h"
#include "cluster/claim_book.h"
#include "cluster/claim_record.h"
#include "cluster/claims_leader.h"
#include "cluster/fence.h"
#include "cluster/directory.h"
#include "cluster/envelope.h"
#include "cluster/sequence_check.h"
#include "cluster/node_roster.h"
#include "cluster/peer_losses.h"
#include "cluster/presence.h"
#include "cluster/routes.h"

namespace achat::cluster {
namespace {

using namespace std::chrono_literals;

TEST(ClaimRecord, AnyLoginBecomesAValidKeyAndBack) {
  for (const std::string& login : std::vector<std::string>{"alice", "Zoë 🙂", "a b.c*>", std::string(32, 0x7e)}) {
    const std::string key = claim_key(login);
    EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
    EXPECT_EQ(login_of_key(key), login);
  }
  EXPECT_EQ(login_of_key("6"), std::nullopt);
  EXPECT_EQ(login_of_key("zz"), std::nullopt);
}

TEST(Fence, TheWindowIsTheTtlLessAQuarter) {
  EXPECT_EQ(fence_window(15'000ms), 11'250ms);
  EXPECT_EQ(fence_window(2'000ms), 1'500ms);
}

// A claim lapses a window after the *send* time of its last acknowledged write, once.
TEST(ClaimBook, AClaimLapsesOnceItsLastConfirmedWriteIsOlderThanTheWindow) {
  ClaimBook book;
  const auto t0 = ClaimBook::Clock::now();
  const auto alice = book.hold({claim_key("alice"), 7}, t0);
  book.hold({claim_key("bob"), 9}, t0 + 1s);
  ClaimBook::Clock::time_point next;
  EXPECT_TRUE(book.lapsed(t0 + 2s, 3s, next).empty());
  EXPECT_EQ(next, t0 + 3s);
  book.confirm(alice, t0 + 500ms);  // a refresh sent then was acknowledged
  book.advance(alice, 0, 7, 8);
  book.confirm(alice, t0 + 200ms);  // an older one answered late changes nothing
  EXPECT_TRUE(book.lapsed(t0 + 3s + 100ms, 3s, next).empty());
  EXPECT_EQ(next, t0 + 3s + 500ms);
  const auto lapsed = book.lapsed(t0 + 4s + 1ms, 3s, next);
  ASSERT_EQ(lapsed.size(), 2u);
  std::map<std::string, std::uint64_t> revisions;
  for (const auto& claim : lapsed) revisions[claim.key] = claim.lease_stamp.revision;
  // The lease's revision (the create's), which the broker compares, not the refreshed one.
  EXPECT_EQ(revisions[claim_key("alice")], 7u);
  EXPECT_EQ(revisions[claim_key("bob")], 9u);
  EXPECT_TRUE(book.lapsed(t0 + 10s, 3s, next).empty());  // reported once
  EXPECT_EQ(next, t0 + 13s);
}

// Issue 16, point 5: each revision is kept with the epoch of the stream it is in, an outcome
// from another stream never moves it, and a rebind wakes the keeper at once.
TEST(ClaimBook, KeepsEachRevisionsEpochAndWakesTheKeeperOnARebind) {
  ClaimBook book;
  const auto t0 = ClaimBook::Clock::now();
  const auto id = book.hold({claim_key("alice"), 7, 100}, t0);
  book.advance(id, 200, 7, 8);  // revision 7 of another stream: not this claim's
  ASSERT_EQ(book.held().size(), 1u);
  EXPECT_EQ(book.held()[0].second.revision, 7u);
  book.advance(id, 100, 7, 8);
  EXPECT_EQ(book.held()[0].second.revision, 8u);
  book.revise(id, 1, 200);  // claimed again in the stream made in its place
  EXPECT_EQ(book.held()[0].second.revision, 1u);
  EXPECT_EQ(book.held()[0].second.epoch, 200);
  EXPECT_FALSE(book.take_rebound());
  book.rebound();
  // Returns at once, not at the deadline: the keeper's next round starts now.
  const auto waited_from = ClaimBook::Clock::now();
  EXPECT_TRUE(book.wait_for_releases(waited_from + 60s).empty());
  EXPECT_LT(ClaimBook::Clock::now() - waited_from, 30s);
  EXPECT_TRUE(book.take_rebound());
  EXPECT_FALSE(book.take_rebound());
  ClaimBook::Clock::time_point next;
  book.lose(id);
  const auto lapsed = book.lapsed(t0, 3s, next);
  ASSERT_EQ(lapsed.size(), 1u);
  EXPECT_EQ(lapsed[0].lease_stamp, (ClaimStamp{100, 7}));  // the lease's, as the broker has it
}

TEST(ClaimBook, AReleasedClaimNeverLapses) {
  ClaimBook book;
  const auto t0 = ClaimBook::Clock::now();
  book.release(book.hold({claim_key("alice"), 7}, t0));
  ClaimBook::Clock::time_point next;
  EXPECT_TRUE(book.lapsed(t0 + 10s, 3s, next).empty());
}

// Found taken at a refresh: its session must end now, and the claim is not ours to refresh or
// delete.
TEST(ClaimBook, ALostClaimLapsesAtOnceAndIsNeitherRefreshedNorDeleted) {
  ClaimBook book;
  const auto t0 = ClaimBook::Clock::now();
  const auto id = book.hold({claim_key("alice"), 7}, t0);
  book.lose(id);
  EXPECT_TRUE(book.held().empty());
  EXPECT_FALSE(book.holds(id));
  ClaimBook::Clock::time_point next;
  const auto lapsed = book.lapsed(t0, 3s, next);
  ASSERT_EQ(lapsed.size(), 1u);
  EXPECT_EQ(lapsed[0].lease_stamp.revision, 7u);
  book.release(id);
  EXPECT_TRUE(book.wait_for_releases(t0).empty());
  EXPECT_TRUE(book.take_all().empty());
}

TEST(ClaimRecord, OwnerValueNamesNodeAndRun) {
  const ClaimOwner owner{"node-1", "00ff"};
  EXPECT_EQ(owner.to_value(), "node-1 00ff");
  const auto parsed = ClaimOwner::parse(owner.to_value());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->node, "node-1");
  EXPECT_EQ(parsed->incarnation, "00ff");
  EXPECT_FALSE(ClaimOwner::parse("node-1"));
  EXPECT_FALSE(ClaimOwner::parse("bad.node 00ff"));
  EXPECT_FALSE(ClaimOwner::parse("node "));
}

// Version 2 adds a per-claim nonce and an epoch; a value of version 1 ("<node> <run>") still
// reads, and so does a later version's with more fields.
TEST(ClaimRecord, ClaimValueIsVersionedAndReadsEveryVersion) {
  const ClaimValue value{ClaimOwner{"node-1", "00ff"}, "0123456789abcdef", 0};
  EXPECT_EQ(value.to_value(), "node-1 00ff 2 0123456789abcdef 0");
  const auto parsed = ClaimValue::parse(value.to_value());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->owner.node, "node-1");
  EXPECT_EQ(parsed->owner.incarnation, "00ff");
  EXPECT_EQ(parsed->nonce, "0123456789abcdef");
  EXPECT_EQ(parsed->epoch, 0u);
  EXPECT_EQ(parsed->version, 2u);
  // What the watcher and the refusal read: node and run, whatever the version.
  const auto owner = ClaimOwner::parse(value.to_value());
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->node, "node-1");
  EXPECT_EQ(owner->incarnation, "00ff");

  EXPECT_TRUE(parsed->typed.empty());

  // Since "/who" is cluster-wide, the login as typed follows the epoch; a node that predates it
  // reads node and run as before.
  const ClaimValue typed{ClaimOwner{"node-1", "00ff"}, "0123456789abcdef", 0, ClaimValue::kVersion, "Bob"};
  EXPECT_EQ(typed.to_value(), "node-1 00ff 2 0123456789abcdef 0 Bob");
  const auto with_login = ClaimValue::parse(typed.to_value());
  ASSERT_TRUE(with_login);
  EXPECT_EQ(with_login->typed, "Bob");
  EXPECT_EQ(with_login->nonce, "0123456789abcdef");
  ASSERT_TRUE(ClaimOwner::parse(typed.to_value()));
  EXPECT_EQ(ClaimOwner::parse(typed.to_value())->incarnation, "00ff");

  const auto old = ClaimValue::parse("node-1 00ff");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->version, 1u);
  EXPECT_EQ(old->owner.incarnation, "00ff");
  EXPECT_TRUE(old->nonce.empty());

  const auto later = ClaimValue::parse("node-1 00ff 3 abcd 7 something-new");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->version, 3u);
  EXPECT_EQ(later->nonce, "abcd");
  EXPECT_EQ(later->epoch, 7u);
  const auto no_epoch = ClaimValue::parse("node-1 00ff 2 abcd");
  ASSERT_TRUE(no_epoch);
  EXPECT_EQ(no_epoch->epoch, 0u);

  EXPECT_FALSE(ClaimValue::parse("node-1"));
  EXPECT_FALSE(ClaimValue::parse("node-1 00ff 2"));    // a version 2 needs its nonce
  EXPECT_FALSE(ClaimValue::parse("node-1 00ff x y"));  // not a version
  EXPECT_FALSE(ClaimValue::parse("bad.node 00ff 2 abcd 0"));

  EXPECT_EQ(random_nonce().size(), 16u);
  EXPECT_NE(random_nonce(), random_nonce());
}

TEST(Envelope, CarriesSeveralLinesInOrderAndRejectsMalformedPayloads) {
  std::string payload;
  Envelope::append_header(payload, "a", "run1", 42);
  Envelope::append_entry(payload, "bob,carol", "from alice: x: y\n");
  Envelope::append_entry(payload, "dave", "from erin: z\n");
  EXPECT_EQ(payload, "a run1 42\nbob,carol\nfrom alice: x: y\ndave\nfrom erin: z\n");
  const auto got = Envelope::decode(payload);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->origin, "a");
  EXPECT_EQ(got->incarnation, "run1");
  EXPECT_EQ(got->sequence, 42u);
  ASSERT_EQ(got->entries.size(), 2u);
  EXPECT_EQ(got->entries[0].recipients, "bob,carol");
  EXPECT_EQ(got->entries[0].line, "from alice: x: y\n");
  EXPECT_EQ(got->entries[1].recipients, "dave");
  EXPECT_EQ(got->entries[1].line, "from erin: z\n");
  for (const char* bad : {"", "a run1 42\n", "a run1 42\nbob\n", "a run1 x\nbob\nline\n",
                          "a 42\nbob\nline\n", "a run1 42\nbob\nno newline",
                          "a run1 42\nbob\nline\ncarol\n"}) {
    EXPECT_FALSE(Envelope::decode(bad)) << bad;
  }
}

TEST(SequenceCheck, CountsGapsDropsRepeatsAndStartsOverOnARestart) {
  SequenceCheck check;
  using V = SequenceCheck::Verdict;
  EXPECT_EQ(check.check("a", "r1", 7).verdict, V::first);  // joined mid-run: no gap
  EXPECT_EQ(check.check("a", "r1", 8).verdict, V::next);
  const auto gap = check.check("a", "r1", 11);
  EXPECT_EQ(gap.verdict, V::after_gap);
  EXPECT_EQ(gap.missing, 2u);
  EXPECT_EQ(check.check("a", "r1", 11).verdict, V::repeated);
  EXPECT_EQ(check.check("a", "r1", 9).verdict, V::repeated);
  EXPECT_EQ(check.check("b", "r9", 1).verdict, V::first);  // per origin
  EXPECT_EQ(check.check("a", "r2", 1).verdict, V::first);  // a restarted
  EXPECT_EQ(check.check("a", "r2", 2).verdict, V::next);
}

TEST(Directory, KnowsOtherNodesNamesUntilReleasedOrExpired) {
  Directory directory("self", 3000ms);
  const auto t0 = Directory::Clock::now();
  EXPECT_TRUE(directory.apply({"bob", "b", {1, 1}, "rb"}, t0));
  EXPECT_TRUE(directory.apply({"carol", "c", {1, 2}, "rc"}, t0));
  EXPECT_FALSE(directory.apply({"me", "self", {1, 3}, "rs"}, t0));
  ASSERT_TRUE(directory.node_of("bob", t0 + 1s));
  EXPECT_EQ(*directory.node_of("bob", t0 + 1s), "b");
  EXPECT_EQ(directory.node_of("me", t0), nullptr);  // this node's names are the broker's
  EXPECT_FALSE(directory.apply({"bob", "", {1, 4}, ""}, t0 + 1s));
  EXPECT_EQ(directory.node_of("bob", t0 + 1s), nullptr);
  directory.apply({"carol", "c", {1, 5}, "rc"}, t0 + 2s);  // a refresh
  EXPECT_TRUE(directory.node_of("carol", t0 + 4s));
  EXPECT_EQ(directory.node_of("carol", t0 + 6s), nullptr);  // its node stopped refreshing
  EXPECT_EQ(directory.size(), 0u);
}

TEST(Directory, HidesASilentNodesNamesUntilItIsHeardAgainAndDropsADeadRunsAtOnce) {
  Directory directory("self", 10s);
  const auto t0 = Directory::Clock::now();
  directory.apply({"bob", "b", {1, 1}, "r1"}, t0);
  directory.apply({"carol", "c", {1, 2}, "rc"}, t0);
  directory.apply(NodePresence{"b", false, ""});
  EXPECT_EQ(directory.node_of("bob", t0), nullptr);  // silent: "not online" here
  ASSERT_TRUE(directory.node_of("carol", t0));
  directory.apply(NodePresence{"b", true, ""});
  ASSERT_TRUE(directory.node_of("bob", t0));  // heard again, its claim still live
  EXPECT_EQ(*directory.node_of("bob", t0), "b");
  directory.apply({"dave", "b", {1, 3}, "r2"}, t0);  // a login on b's new run
  directory.apply(NodePresence{"b", true, "r1"});  // b restarted: run r1 is dead
  EXPECT_EQ(directory.node_of("bob", t0), nullptr);
  ASSERT_TRUE(directory.node_of("dave", t0));
  EXPECT_EQ(directory.size(), 2u);
}

// Issue 16, point 5: a claims stream deleted and made again restarts its revisions at 1, so
// changes are ordered by (epoch, revision): the new stream's low revisions replace the old
// stream's high ones, and a late change from the old stream is ignored.
TEST(Directory, OrdersChangesByEpochThenRevision) {
  Directory directory("self", 10s);
  const auto t0 = Directory::Clock::now();
  EXPECT_TRUE(directory.apply({"bob", "b", {100, 57}, "rb"}, t0));
  EXPECT_TRUE(directory.apply({"bob", "c", {200, 1}, "rc"}, t0));  // the stream made again
  ASSERT_TRUE(directory.node_of("bob", t0));
  EXPECT_EQ(*directory.node_of("bob", t0), "c");
  EXPECT_FALSE(directory.apply({"bob", "", {100, 58}, ""}, t0));  // the old stream's delete: stale
  ASSERT_TRUE(directory.node_of("bob", t0));
  EXPECT_FALSE(directory.apply({"bob", "b", {200, 0}, "rb"}, t0));  // older in the same epoch
  EXPECT_EQ(*directory.node_of("bob", t0), "c");
  EXPECT_FALSE(directory.apply({"bob", "", {200, 2}, ""}, t0));  // released in the new stream
  EXPECT_EQ(directory.node_of("bob", t0), nullptr);
  EXPECT_TRUE(ClaimStamp({200, 1}) > ClaimStamp({100, 57}));
}

// "/who" lists other nodes' logins as typed, as node_of() would find them: not a silent node's,
// not an expired claim's, and not one whose claim does not say how it was typed.
TEST(Directory, ListsOtherNodesLoginsAsTypedForWho) {
  Directory directory("self", 10s);
  const auto t0 = Directory::Clock::now();
  directory.apply({"bob", "b", {1, 1}, "rb", "Bob"}, t0);
  directory.apply({"carol", "c", {1, 2}, "rc", "carol"}, t0);
  directory.apply({"dave", "c", {1, 3}, "rc"}, t0);  // written by an earlier version
  directory.apply({"me", "self", {1, 4}, "rs", "me"}, t0);  // the broker's own
  directory.apply(NodePresence{"b", false, ""});
  const auto names = [&](Directory::Clock::time_point now) {
    std::vector<std::string_view> listed;
    directory.online_names(now, listed);
    std::sort(listed.begin(), listed.end());
    return std::vector<std::string>(listed.begin(), listed.end());
  };
  EXPECT_EQ(names(t0), std::vector<std::string>{"carol"});
  directory.apply(NodePresence{"b", true, ""});
  EXPECT_EQ(names(t0), (std::vector<std::string>{"Bob", "carol"}));
  directory.apply({"carol", "", {1, 5}, ""}, t0);  // released
  EXPECT_EQ(names(t0), std::vector<std::string>{"Bob"});
  EXPECT_TRUE(names(t0 + 11s).empty());  // b stopped refreshing
}

TEST(NodeRoster, ANodeFallsSilentAfterItsWindowAndReturnsWithItsNextBeat) {
  using Kind = NodeRoster::Change::Kind;
  NodeRoster roster("self", 3s);
  const auto t0 = NodeRoster::Clock::now();
  EXPECT_FALSE(roster.beat({"self", "r0"}, 1s, t0));  // its own beats
  auto joined = roster.beat({"b", "r1"}, 1s, t0);
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->kind, Kind::joined);
  EXPECT_FALSE(roster.beat({"b", "r1"}, 1s, t0 + 1s));
  EXPECT_EQ(roster.live(), 1u);
  NodeRoster::Clock::time_point next;
  EXPECT_TRUE(roster.sweep(t0 + 3s, next).empty());
  EXPECT_EQ(next, t0 + 4s);
  EXPECT_FALSE(roster.silence("b", t0 + 3s));
  const auto silent = roster.sweep(t0 + 4s, next);
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(silent[0].kind, Kind::silent);
  EXPECT_EQ(silent[0].silent_for, 3s);
  EXPECT_TRUE(roster.sweep(t0 + 5s, next).empty());  // once per silence
  EXPECT_EQ(roster.silence("b", t0 + 5s), 4s);
  EXPECT_EQ(roster.live(), 0u);
  auto back = roster.beat({"b", "r1"}, 1s, t0 + 6s);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, Kind::returned);
  EXPECT_FALSE(roster.silence("b", t0 + 6s));
  EXPECT_TRUE(roster.take_retired().empty());  // silence is no proof of death
}

TEST(NodeRoster, ASlowBeatingNodeGetsThreeOfItsIntervals) {
  NodeRoster roster("self", 1s);
  const auto t0 = NodeRoster::Clock::now();
  roster.beat({"b", "r1"}, 2s, t0);
  NodeRoster::Clock::time_point next;
  EXPECT_TRUE(roster.sweep(t0 + 5s, next).empty());
  EXPECT_EQ(roster.sweep(t0 + 6s, next).size(), 1u);
}

TEST(NodeRoster, ANewRunRetiresOnlyThePreviousRunAndADuplicateIsReportedOnce) {
  using Kind = NodeRoster::Change::Kind;
  NodeRoster roster("self", 3s);
  const auto t0 = NodeRoster::Clock::now();
  roster.beat({"b", "r1"}, 1s, t0);
  auto restarted = roster.beat({"b", "r2"}, 1s, t0 + 1s);
  ASSERT_TRUE(restarted);
  EXPECT_EQ(restarted->kind, Kind::restarted);
  EXPECT_EQ(restarted->previous_run, "r1");
  EXPECT_TRUE(roster.retired({"b", "r1"}));
  EXPECT_FALSE(roster.retired({"b", "r2"}));  // the live run's claims are never touched
  EXPECT_FALSE(roster.retired({"c", "r1"}));
  const auto retired = roster.take_retired();
  ASSERT_EQ(retired.size(), 1u);
  EXPECT_EQ(retired[0].node, "b");
  EXPECT_EQ(retired[0].incarnation, "r1");
  EXPECT_TRUE(roster.take_retired().empty());
  auto duplicate = roster.beat({"b", "r1"}, 1s, t0 + 2s);  // r1 is not dead: two processes
  ASSERT_TRUE(duplicate);
  EXPECT_EQ(duplicate->kind, Kind::duplicate);
  EXPECT_FALSE(roster.beat({"b", "r1"}, 1s, t0 + 3s));
  EXPECT_TRUE(roster.retired({"b", "r1"}));
  EXPECT_FALSE(roster.retired({"b", "r2"}));
}

TEST(NodeRoster, ANodeKnownOnlyFromItsClaimsFallsSilentIfItNeverBeats) {
  NodeRoster roster("self", 3s);
  const auto t0 = NodeRoster::Clock::now();
  roster.expect("b", t0);
  roster.expect("self", t0);
  NodeRoster::Clock::time_point next;
  EXPECT_EQ(roster.sweep(t0 + 3s, next).size(), 1u);
  EXPECT_EQ(roster.live(), 0u);
  auto joined = roster.beat({"b", "r1"}, 1s, t0 + 4s);
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->kind, NodeRoster::Change::Kind::joined);
  EXPECT_TRUE(roster.take_retired().empty());
}

TEST(PeerLosses, CountsLossesPerPeerNodeInBothDirections) {
  PeerLosses losses;
  EXPECT_TRUE(losses.snapshot().empty());
  losses.missing_from("c", 3);
  losses.dropped_for("b", 1);
  losses.missing_from("c", 2);
  const auto peers = losses.snapshot();
  ASSERT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers[0].node, "b");
  EXPECT_EQ(peers[0].dropped_for, 1u);
  EXPECT_EQ(peers[0].missing_from, 0u);
  EXPECT_EQ(peers[1].node, "c");
  EXPECT_EQ(peers[1].missing_from, 5u);
}

// What cnats hands over for a stream on three servers, one replica behind, one offline.
TEST(ClaimsLeader, TheLeaderAndHowManyCopiesAreCurrentComeFromTheStreamInfo) {
  EXPECT_EQ(placement_of(nullptr, "n").server, "");
  jsStreamInfo info{};
  EXPECT_EQ(placement_of(&info, "").replicas, 0u);  // no Cluster part: unknown
  EXPECT_EQ(placement_of(&info, "127.0.0.1:4222").server, "127.0.0.1:4222");  // a server alone
  EXPECT_EQ(placement_of(&info, "127.0.0.1:4222").current, 1u);
  jsPeerInfo behind{const_cast<char*>("nats-c"), false, false, 0, 12};
  jsPeerInfo offline{const_cast<char*>("nats-a"), true, true, 0, 0};
  jsPeerInfo* replicas[] = {&behind, &offline};
  jsClusterInfo cluster{const_cast<char*>("c1"), const_cast<char*>(""), replicas, 2};
  info.Cluster = &cluster;
  EXPECT_EQ(placement_of(&info, "").server, "");  // an election under way: unknown
  EXPECT_EQ(placement_of(&info, "").replicas, 0u);
  cluster.Leader = const_cast<char*>("nats-b");
  ClusterClaimsLeader placement = placement_of(&info, "");
  EXPECT_EQ(placement.server, "nats-b");
  EXPECT_EQ(placement.replicas, 3u);
  EXPECT_EQ(placement.current, 1u);
  behind.Current = true;
  EXPECT_EQ(placement_of(&info, "").current, 2u);
}

// The name comes from the network: it must not break a log line or a label.
TEST(ClaimsLeader, ServerNamesStayOnOneLineAndAreBounded) {
  EXPECT_EQ(printable_server_name("nats-b"), "nats-b");
  EXPECT_EQ(printable_server_name("a\nb\x01\xc3\xa9"), "a\\x0ab\\x01\\xc3\\xa9");
  EXPECT_EQ(printable_server_name("q\"s\\"), "q\"s\\");  // the label's writer escapes these
  EXPECT_EQ(printable_server_name(std::string(1000, 'x')).size(), kMaxServerNameBytes);
  ClaimsLeader leader;
  EXPECT_EQ(leader.get().server, "");
  leader.observe({"nats-a", 3, 3});
  leader.observe({"nats-a", 3, 2});
  EXPECT_EQ(leader.get().current, 2u);
  leader.observe({"nats-b", 3, 3});
  EXPECT_EQ(leader.get().server, "nats-b");
}

TEST(Presence, TheRefusalSaysWhoHoldsTheNameAndWhenItIsFree) {
  EXPECT_EQ(held_by_silent_node("Bob", "n2", 4'900ms, 10'100ms),
            "login \"Bob\" is held by node n2, which has been silent for 4 s; free in at most 11 s, "
            "disconnecting");
  EXPECT_EQ(held_by_silent_node("bob", "n2", 4s, -5ms),
            "login \"bob\" is held by node n2, which has been silent for 4 s; free in at most 0 s, "
            "disconnecting");
}

std::optional<ServerOptions> parse(const std::vector<std::string>& args, std::string& error,
                                   const std::map<std::string, std::string>& environment = {}) {
  return parse_server_options(args, error, [&](const char* name) -> const char* {
    const auto found = environment.find(name);
    return found == environment.end() ? nullptr : found->second.c_str();
  });
}

TEST(ClusterOptions, StandaloneUnlessAClusterIsGiven) {
  std::string error;
  const auto options = parse({}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_FALSE(options->config.cluster.enabled());
}

TEST(ClusterOptions, ServersNodeIdAndTtlFromCommandLineOrEnvironment) {
  std::string error;
  auto options = parse({"--cluster", "nats://10.0.0.1:4222,nats://10.0.0.2:4222", "--node-id=n1",
                        "--claim-ttl-ms=3000", "--node-silence-ms=1500"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->config.cluster.servers,
            (std::vector<std::string>{"nats://10.0.0.1:4222", "nats://10.0.0.2:4222"}));
  EXPECT_EQ(options->config.cluster.node_id, "n1");
  EXPECT_EQ(options->config.cluster.claim_ttl_ms, 3000u);
  EXPECT_EQ(options->config.cluster.node_silence_ms, 1500u);
  options = parse({"--node-id", "cli"}, error,
                  {{"ACHAT_CLUSTER", "nats://127.0.0.1:4222"}, {"ACHAT_NODE_ID", "env"}});
  ASSERT_TRUE(options) << error;
  EXPECT_TRUE(options->config.cluster.enabled());
  EXPECT_EQ(options->config.cluster.node_id, "cli");
}

TEST(ClusterOptions, NodeIdDefaultsToTheHostName) {
  std::string error;
  const auto options = parse({"--cluster", "nats://127.0.0.1:4222"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_TRUE(is_valid_node_id(options->config.cluster.node_id)) << options->config.cluster.node_id;
}

// web1.dc1 and web1.dc2 are two nodes, not one (issue 16, point 5); '_' never occurs in a host name.
TEST(ClusterOptions, DefaultNodeIdsOfHostsInDifferentDomainsDiffer) {
  EXPECT_EQ(achat::node_id_for_host("web1.dc1.example.org"), "web1_dc1_example_org");
  EXPECT_EQ(achat::node_id_for_host("web1.dc2.example.org."), "web1_dc2_example_org");
  EXPECT_EQ(achat::node_id_for_host("web1"), "web1");
  EXPECT_TRUE(is_valid_node_id(achat::node_id_for_host("web1.dc1.example.org")));
}

TEST(ClusterOptions, BadValuesAreRefusedWithAReason) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--cluster", "127.0.0.1:4222"},
           {"--cluster", "nats://a:1,"},
           {"--cluster", "nats://a:1", "--node-id", "has.dot"},
           {"--cluster", "nats://a:1", "--claim-ttl-ms", "10"},
           {"--cluster", "nats://a:1", "--node-silence-ms", "10"}}) {
    std::string error;
    EXPECT_FALSE(parse(args, error)) << args[1];
    EXPECT_FALSE(error.empty());
  }
}

// The broker never waits for the publisher: past the bound a line is dropped and counted, the
// ones that fit keep their order, and credit given back lets the next ones through.
TEST(Routes, LinesBeyondTheBoundToThePublisherAreDroppedAndCounted) {
  const std::string text(1000, 'x');
  const auto line = std::make_shared<const std::string>(text);
  const std::int64_t one = Forward{"b", "bob", line, 0, {}}.weight();
  ByteWindow to_publisher(3 * one);
  ByteWindow from_subscriber(1);
  ClusterStats stats;
  const PayloadLimit unknown_limit;
  auto [sender, receiver] = make_channel<Forward>();
  Routes routes(Directory("a", 60s), std::move(sender), unknown_limit, to_publisher, from_subscriber, stats);
  ASSERT_TRUE(routes.apply(DirectoryChange{"bob", "b", {1, 1}, "rb"}));
  for (std::uint64_t message = 1; message <= 5; ++message) ASSERT_EQ(routes.forward("bob", "bob", message, line), Routes::Forwarding::queued);
  routes.flush();
  std::array<Forward, 8> got;
  ASSERT_EQ(receiver.try_receive(got), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(got[i].message, i + 1);
  EXPECT_EQ(stats.forward_overflow.load(), 2u);
  ASSERT_EQ(stats.per_peer.snapshot().size(), 1u);
  EXPECT_EQ(stats.per_peer.snapshot()[0].dropped_for, 2u);
  EXPECT_EQ(to_publisher.used(), 3 * one);

  to_publisher.give_back(got[0].cost + got[1].cost + got[2].cost);  // the publisher handled them
  ASSERT_EQ(routes.forward("bob", "bob", 6, line), Routes::Forwarding::queued);
  routes.flush();
  ASSERT_EQ(receiver.try_receive(got), 1u);
  EXPECT_EQ(got[0].message, 6u);
  EXPECT_EQ(stats.forward_overflow.load(), 2u);
}

TEST(ClusterOptions, ClaimReplicasAreThreeWithThreeServersListedUnlessGiven) {
  std::string error;
  auto options = parse({"--cluster", "nats://a:1,nats://b:1,nats://c:1"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->config.cluster.replicas(), 3u);
  options = parse({"--cluster", "nats://a:1"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->config.cluster.replicas(), 1u);
  options = parse({"--cluster", "nats://a:1", "--claim-replicas", "3"}, error);
  ASSERT_TRUE(options) << error;
  EXPECT_EQ(options->config.cluster.replicas(), 3u);
  EXPECT_FALSE(parse({"--cluster", "nats://a:1", "--claim-replicas", "6"}, error));
}

// Races as the stream records them: D = a delete marker, the claimant's own write last.
TEST(ClaimArbiter, TheFirstWriteSinceTheLastDeleteWins) {
  constexpr std::int64_t kTtl = 15'000'000'000;
  ClaimArbiter alone(9, 10, kTtl);  // nobody in between
  EXPECT_FALSE(alone.feed({10, false, "me"}));
  EXPECT_TRUE(alone.won());

  ClaimArbiter second(9, 11, kTtl);  // another create got in first (#4320)
  EXPECT_EQ(second.next(), 10u);
  EXPECT_TRUE(second.feed({10, false, "first"}));
  EXPECT_EQ(second.next(), 11u);
  EXPECT_FALSE(second.feed({11, false, "me"}));
  EXPECT_FALSE(second.won());
  ASSERT_TRUE(second.winner());
  EXPECT_EQ(second.winner()->value, "first");

  ClaimArbiter after_release(0, 13, kTtl);  // a claim taken and released before mine
  EXPECT_TRUE(after_release.feed({10, false, "other"}));
  EXPECT_TRUE(after_release.feed({12, true, ""}));
  EXPECT_FALSE(after_release.feed({13, false, "me"}));
  EXPECT_TRUE(after_release.won());

  ClaimArbiter gone(9, 11, kTtl);  // mine is no longer there: no verdict
  EXPECT_FALSE(gone.feed({12, false, "later"}));
  EXPECT_FALSE(gone.reached());
  EXPECT_FALSE(gone.won());

  ClaimArbiter after_expiry(0, 12, kTtl);  // a write left unrefreshed for a TTL, not removed
  EXPECT_TRUE(after_expiry.feed({10, false, "other", 1'000}));
  EXPECT_TRUE(after_expiry.feed({11, false, "other", 2'000}));
  EXPECT_FALSE(after_expiry.feed({12, false, "me", 2'000 + kTtl}));
  EXPECT_TRUE(after_expiry.won());
}

// A create whose acknowledgement was lost: its revision is unknown, and its record is the one
// with its value (its nonce), not another claim's of the same node nor a put-back of it.
TEST(ClaimArbiter, ACreateWhoseRevisionIsUnknownIsFoundByItsNonce) {
  constexpr std::int64_t kTtl = 15'000'000'000;
  const std::string me = ClaimValue{ClaimOwner{"a", "01"}, "00000000000000aa", 0}.to_value();
  const std::string sibling = ClaimValue{ClaimOwner{"a", "01"}, "00000000000000bb", 0}.to_value();

  ClaimArbiter alone(0, me, kTtl);
  EXPECT_EQ(alone.mine(), 0u);
  EXPECT_FALSE(alone.feed({4, false, me}));
  EXPECT_TRUE(alone.won());
  EXPECT_EQ(alone.mine(), 4u);

  // The same node's other login of the name came first: it wins, and ours is found after it.
  ClaimArbiter second(0, me, kTtl);
  EXPECT_TRUE(second.feed({4, false, sibling}));
  EXPECT_EQ(second.mine(), 0u);
  EXPECT_FALSE(second.feed({6, false, me}));
  EXPECT_TRUE(second.reached());
  EXPECT_FALSE(second.won());
  EXPECT_EQ(second.mine(), 6u);
  ASSERT_TRUE(second.winner());
  EXPECT_EQ(second.winner()->value, sibling);

  // The first write since the last delete is an earlier one of the same claim (its create, then
  // a rewrite): the claim holds the name.
  ClaimArbiter again(0, 9, kTtl);
  EXPECT_TRUE(again.feed({8, false, me}));
  EXPECT_FALSE(again.feed({9, false, me}));
  EXPECT_TRUE(again.won());

  // Not there (yet): every record is taken, no verdict.
  ClaimArbiter absent(0, me, kTtl);
  EXPECT_TRUE(absent.feed({4, false, sibling}));
  EXPECT_TRUE(absent.feed({5, false, sibling, 0, true}));
  EXPECT_TRUE(absent.feed({7, true, ""}));
  EXPECT_EQ(absent.mine(), 0u);
  EXPECT_EQ(absent.next(), 8u);
  EXPECT_FALSE(absent.reached());
}

TEST(BucketShape, TheSameIsUsedTodaysOneReplicaBucketIsMigratedAnythingElseRefused) {
  const BucketShape wanted{15'000'000'000, 3, kClaimHistory, true};
  EXPECT_EQ(judge(wanted, wanted), ShapeVerdict::same);
  EXPECT_EQ(judge({15'000'000'000, 1, 1, true}, wanted), ShapeVerdict::migrate);
  EXPECT_EQ(judge({15'000'000'000, 1, 1, false}, wanted), ShapeVerdict::migrate);
  EXPECT_EQ(judge({2'000'000'000, 1, 1, true}, wanted), ShapeVerdict::refuse);  // another TTL
  EXPECT_EQ(judge({15'000'000'000, 1, kClaimHistory, true}, wanted), ShapeVerdict::refuse);
  EXPECT_EQ(judge(wanted, {15'000'000'000, 1, kClaimHistory, true}), ShapeVerdict::refuse);
  EXPECT_EQ(describe_mismatch({2'000'000'000, 1, 1, true}, wanted),
            "cluster: the claims bucket has a claim TTL of 2000 ms, 1 replica(s) and 1 message(s) per "
            "key; this node needs 15000 ms, 3 and 16: start every node with the same --claim-ttl-ms "
            "and --claim-replicas, or stop them all and delete the stream KV_achat_logins (README: "
            "\"Claims bucket\")");
}

}  // namespace
}  // namespace achat::cluster
