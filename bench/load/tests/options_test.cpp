// Options: the presets' recipient patterns, and the command line that picks a pattern, a seed
// and whether a sender may address itself.
#include "options.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace achat::load {
namespace {

Options parse(std::initializer_list<std::string> args) {
  std::vector<std::string> words{"a-chat-load", "--server", "127.0.0.1:1"};
  words.insert(words.end(), args);
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  return parse_options(static_cast<int>(argv.size()), argv.data());
}

TEST(Options, EveryPresetButCrowdSpreadsRecipientsAtRandom) {
  for (const char* workload : {"fanout", "group", "latency", "crowd-active"}) {
    EXPECT_EQ(parse({"--workload", workload}).pattern, Pattern::kRandom) << workload;
  }
  EXPECT_EQ(parse({"--workload", "crowd"}).pattern, Pattern::kNext);
  EXPECT_EQ(parse({"--workload", "storm"}).pattern, Pattern::kNext);
}

TEST(Options, OnlyStormRejoins) {
  EXPECT_TRUE(parse({"--workload", "storm"}).rejoin);
  EXPECT_EQ(parse({"--workload", "storm"}).clients, 10000u);
  EXPECT_FALSE(parse({"--workload", "crowd"}).rejoin);
}

TEST(Options, CrowdActiveIsTenThousandClientsTalkingOpenLoop) {
  const Options options = parse({"--workload", "crowd-active"});
  EXPECT_EQ(options.clients, 10000u);
  EXPECT_EQ(options.recipients, 1u);
  EXPECT_TRUE(options.open_loop());
  EXPECT_EQ(options.rate, 2);
  EXPECT_EQ(options.duration_s, 10);
  EXPECT_EQ(options.messages, 20u);
}

TEST(Options, PatternSeedAndIncludeSelfFromTheCommandLine) {
  const Options options =
      parse({"--workload", "fanout", "--pattern=next", "--seed", "99", "--clients", "5"});
  EXPECT_EQ(options.pattern, Pattern::kNext);
  EXPECT_EQ(options.seed, 99u);
  EXPECT_FALSE(options.include_self);
  EXPECT_EQ(parse({"--workload", "fanout"}).seed, parse({"--workload", "group"}).seed);

  const Options self = parse({"--workload", "group", "--include-self", "--recipients", "50"});
  EXPECT_TRUE(self.include_self);
  EXPECT_EQ(self.recipients, 50u);
}

TEST(Options, ChurnIsAThousandSlotsForTenSeconds) {
  const Options options = parse({"--workload", "churn"});
  EXPECT_TRUE(options.churn);
  EXPECT_FALSE(options.rejoin);
  EXPECT_EQ(options.clients, 1000u);
  EXPECT_EQ(options.duration_s, 10);
  EXPECT_EQ(options.size, 64u);
  EXPECT_FALSE(options.open_loop());
  for (const char* workload : {"fanout", "group", "latency", "crowd", "crowd-active", "storm"}) {
    EXPECT_FALSE(parse({"--workload", workload}).churn) << workload;
  }

  const Options small = parse({"--workload", "churn", "--clients", "20", "--duration", "1"});
  EXPECT_EQ(small.clients, 20u);
  EXPECT_EQ(small.duration_s, 1);
}

// One line to itself per connection: an option shaping messages would be ignored, so it is
// refused; and a churn without a duration would never end.
TEST(Options, ChurnRefusesWhatItWouldIgnore) {
  for (const auto& [option, value] : std::vector<std::pair<std::string, std::string>>{
           {"--recipients", "2"}, {"--pattern", "next"}, {"--window", "4"}, {"--messages", "3"},
           {"--rate", "1"}}) {
    EXPECT_THROW(parse({"--workload", "churn", option, value}), UsageError) << option;
  }
  EXPECT_THROW(parse({"--workload", "churn", "--duration", "0"}), UsageError);
  EXPECT_THROW(parse({"--workload", "churn", "--duration", "5", "--deadline", "5"}), UsageError);
}

TEST(Options, RefusesWhatCannotBeDrawn) {
  EXPECT_THROW(parse({"--workload", "fanout", "--pattern", "nearest"}), UsageError);
  EXPECT_THROW(parse({"--workload", "crowd", "--include-self"}), UsageError);
  EXPECT_THROW(parse({"--workload", "group", "--recipients", "50"}), UsageError);
  EXPECT_THROW(parse({"--workload", "group", "--include-self", "--recipients", "51"}), UsageError);
  EXPECT_THROW(parse({"--workload", "crowd-passive"}), UsageError);
}

}  // namespace
}  // namespace achat::load
