// Unit tests of telling a server's goodbye from a lost connection (src/client/disconnect_notice.h).
#include <gtest/gtest.h>

#include <string>

#include "disconnect_notice.h"

namespace achat::client {
namespace {

TEST(DisconnectNotice, RecognisesTheLinesAServerSendsBeforeClosing) {
  EXPECT_TRUE(is_disconnect_notice("error: server shutting down"));
  EXPECT_TRUE(is_disconnect_notice("error: server full"));
  EXPECT_TRUE(is_disconnect_notice("error: line longer than 65536 bytes, disconnecting"));
  EXPECT_TRUE(is_disconnect_notice("error: login \"alice\" is already online, disconnecting"));
  EXPECT_TRUE(is_disconnect_notice("error: cluster unavailable, try again"));
  EXPECT_TRUE(is_disconnect_notice("error: cluster unavailable, disconnecting"));
  EXPECT_FALSE(is_disconnect_notice("from bob: error: cluster unavailable, try again"));
  EXPECT_FALSE(is_disconnect_notice("error: not online: carol"));
  EXPECT_FALSE(is_disconnect_notice("from bob: error: server full"));
  EXPECT_FALSE(is_disconnect_notice("from bob: bye, disconnecting"));
}

TEST(DisconnectNotice, LoginRefusalsAreTheOnesAnotherLoginCanFix) {
  EXPECT_TRUE(is_login_refusal("error: login \"alice\" is already online, disconnecting"));
  EXPECT_TRUE(is_login_refusal("error: invalid login: contains ',', disconnecting"));
  EXPECT_TRUE(is_login_refusal("error: login \"bob\" is held by node n2, which has been silent for "
                               "4 s; free in at most 11 s, disconnecting"));
  EXPECT_FALSE(is_login_refusal("error: login timeout, disconnecting"));
  EXPECT_FALSE(is_login_refusal("error: server full"));
  EXPECT_FALSE(is_login_refusal("error: cluster unavailable, try again"));
}

TEST(DisconnectNotice, ClusterUnavailableIsTheOneTheSameLoginCanRetry) {
  EXPECT_TRUE(is_cluster_unavailable("error: cluster unavailable, try again"));
  EXPECT_TRUE(is_cluster_unavailable("error: cluster unavailable, disconnecting"));
  EXPECT_FALSE(is_cluster_unavailable("error: server full"));
  EXPECT_FALSE(is_cluster_unavailable("from bob: error: cluster unavailable, try again"));
}

TEST(LastServerLine, FindsTheNoticeInTheLastLineWhateverTheChunks) {
  LastServerLine last;
  last.feed("from bob: hi\nerror: server shut");
  EXPECT_FALSE(last.disconnect_notice());
  last.feed("ting down\n");
  EXPECT_EQ(last.disconnect_notice(), "error: server shutting down");
  last.feed("from bob: one more\n");
  EXPECT_FALSE(last.disconnect_notice());
  last.feed("error: server full");  // unterminated at the end of the stream
  EXPECT_EQ(last.disconnect_notice(), "error: server full");
  last.feed("\nfrom a\nfrom b\nerror: server full\n");
  EXPECT_EQ(last.disconnect_notice(), "error: server full");
  last.feed("from a\nerror: server shutting down");
  last.feed("\n");  // the newline alone in the last chunk
  EXPECT_EQ(last.disconnect_notice(), "error: server shutting down");
}

TEST(LastServerLine, AnOverlongLineIsNeverANotice) {
  LastServerLine last;
  last.feed("error: " + std::string(LastServerLine::kMaxKept, 'x') + ", disconnecting\n");
  EXPECT_FALSE(last.disconnect_notice());
  last.feed("error: server full\n");
  EXPECT_EQ(last.disconnect_notice(), "error: server full");
}

}  // namespace
}  // namespace achat::client
