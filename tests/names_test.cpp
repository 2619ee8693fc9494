// End-to-end: the login rule (include/achat/login_name.h) as a client on a loopback socket meets
// it: names that impersonate are refused, look-alikes cannot be online together, and a name is
// reached whatever its case while `from` lines show it as its holder typed it.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "test_client.h"
#include "test_server.h"

namespace achat::testing {
namespace {

// The names issue 15 found accepted, and a mixed-script look-alike of alice.
TEST(Names, NamesThatImpersonateAreRefusedAndCounted) {
  TestServer server;
  auto bob = TestClient::online(server.port(), "bob");
  const std::string invisible = "login may not contain invisible or control characters";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bob\xE2\x80\x8B", invisible + " (U+200B)"},          // zero-width space
      {"\xEF\xBB\xBF" "bob", invisible + " (U+FEFF)"},       // byte-order mark
      {"\xE2\x80\xAE" "bob", invisible + " (U+202E)"},       // right-to-left override
      {"\xC2\x9B" "x", invisible + " (U+009B)"},             // C1 control (CSI)
      {"\xD0\xB0lice", "login mixes scripts that could disguise it (such as Latin with Cyrillic or Greek)"},
  };
  for (const auto& [login, reason] : cases) {
    TestClient client(server.port());
    client.send(login + "\nbob: it is me\n");
    EXPECT_EQ(client.read_line(), "error: invalid login: " + reason + ", disconnecting");
    EXPECT_TRUE(client.closed_by_server());
  }
  EXPECT_EQ(server->stats().logins_refused.load(), cases.size());
  bob.send("bob: only mine\n");
  EXPECT_EQ(bob.read_line(), "from bob: only mine");  // nothing from the refused came first
}

TEST(Names, AnotherCaseOrALookAlikeIsAlreadyOnline) {
  TestServer server;
  auto bob = TestClient::online(server.port(), "bob");
  auto mary = TestClient::online(server.port(), "mary");
  TestClient upper(server.port());
  upper.send("Bob\nbob: I am bob\n");
  EXPECT_EQ(upper.read_line(), "error: login \"Bob\" is already online, disconnecting");
  EXPECT_TRUE(upper.closed_by_server());
  TestClient look_alike(server.port());
  look_alike.send("rnary\nbob: I am mary\n");
  EXPECT_EQ(look_alike.read_line(),
            "error: login \"rnary\" looks like \"mary\", which is already online, disconnecting");
  EXPECT_TRUE(look_alike.closed_by_server());
  // Cyrillic саре: one script, so the spoof check lets it through; the skeleton does not.
  auto cape = TestClient::online(server.port(), "cape");
  TestClient cyrillic(server.port());
  cyrillic.send("\xD1\x81\xD0\xB0\xD1\x80\xD0\xB5\n");
  EXPECT_EQ(cyrillic.read_line(), "error: login \"\xD1\x81\xD0\xB0\xD1\x80\xD0\xB5\" looks like "
                                  "\"cape\", which is already online, disconnecting");
  mary.send("bob: only the real ones spoke\n");
  EXPECT_EQ(bob.read_line(), "from mary: only the real ones spoke");
}

TEST(Names, RecipientsAreFoundWhateverTheirCaseAndSendersShownAsTyped) {
  TestServer server;
  auto bob = TestClient::online(server.port(), "bob");
  auto alice = TestClient::online(server.port(), "alice");
  alice.send("BOB: hi\n");
  EXPECT_EQ(bob.read_line(), "from alice: hi");
  auto ann = TestClient::online(server.port(), "Ann");
  ann.send("Bob, \xEF\xBD\x82\xEF\xBD\x8F\xEF\xBD\x82: once\n");  // Bob and fullwidth ｂｏｂ: one peer
  EXPECT_EQ(bob.read_line(), "from Ann: once");
  bob.send("ann, ANN: back\n");
  EXPECT_EQ(ann.read_line(), "from bob: back");
  ann.send("bob: next\n");
  EXPECT_EQ(bob.read_line(), "from Ann: next");  // "once" came once
  bob.send("bOb, nobody: hi\n");
  EXPECT_EQ(bob.read_line(), "from bob: hi");
  EXPECT_EQ(bob.read_line(), "error: not online: nobody");
}

}  // namespace
}  // namespace achat::testing
