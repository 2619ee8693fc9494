// Unit tests of the login rule and its keys (include/achat/login_name.h).
#include "achat/login_name.h"

#include <gtest/gtest.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>

#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace achat {
namespace {

constexpr std::size_t kMaxLoginBytes = 32;

std::optional<LoginName> accepted(std::string_view login) {
  std::string problem;
  auto name = check_login(login, kMaxLoginBytes, problem);
  EXPECT_TRUE(name) << login << ": " << problem;
  return name;
}

// The reason `login` is refused ("" if it is accepted).
std::string refusal(std::string_view login) {
  std::string problem;
  if (check_login(login, kMaxLoginBytes, problem)) return "";
  return problem;
}

TEST(LoginName, AcceptsLettersDigitsAndMarksOfOneScriptAndAsciiPunctuation) {
  for (const char* login : {"alice", "Bob", "bob_2", "x.y-z!", "\xC3\xA9lodie" /* élodie */,
                            "Jose\xCC\x81" /* José, e + U+0301 */, "Stra\xC3\x9F" "e" /* Straße */,
                            "\xD0\x90\xD0\xBB\xD0\xB8\xD1\x81\xD0\xB0" /* Алиса */,
                            "\xCE\x91\xCE\xBB\xCE\xAF\xCE\xBA\xCE\xB7" /* Αλίκη */,
                            "\xE6\x97\xA5\xE6\x9C\xAC" /* 日本 */,
                            "taro\xE5\xA4\xAA\xE9\x83\x8E" /* Latin with Han: not a disguise */}) {
    EXPECT_TRUE(accepted(login).has_value()) << login;
  }
}

// The names issue 15 found accepted, and one of each other class PRECIS IdentifierClass refuses.
TEST(LoginName, RefusesInvisibleAndControlCharacters) {
  const std::string invisible = "login may not contain invisible or control characters";
  EXPECT_EQ(refusal("bob\xE2\x80\x8B"), invisible + " (U+200B)");  // zero-width space
  EXPECT_EQ(refusal("\xEF\xBB\xBF" "bob"), invisible + " (U+FEFF)");  // byte-order mark
  EXPECT_EQ(refusal("\xE2\x80\xAE" "bob"), invisible + " (U+202E)");  // right-to-left override
  EXPECT_EQ(refusal("\xE2\x81\xA6" "bob"), invisible + " (U+2066)");  // left-to-right isolate
  EXPECT_EQ(refusal("bob\xE2\x80\x8E"), invisible + " (U+200E)");    // left-to-right mark
  EXPECT_EQ(refusal("\xC2\x9B" "x"), invisible + " (U+009B)");       // C1 control: CSI
  EXPECT_EQ(refusal("b\xE2\x80\x8D" "ob"), invisible + " (U+200D)");  // zero-width joiner
  EXPECT_EQ(refusal("bob\xC2\xAD"), invisible + " (U+00AD)");        // soft hyphen
  EXPECT_EQ(refusal("bob\xF3\xA0\x80\x81"), invisible + " (U+E0001)");  // language tag
  EXPECT_EQ(refusal("bob\xEF\xBF\xBE"), invisible + " (U+FFFE)");    // noncharacter
  // C0 controls and DEL are refused by the protocol's framing rule first.
  EXPECT_EQ(refusal("a\tb"), "login may not contain control characters");
  EXPECT_EQ(refusal("a\x7F"), "login may not contain control characters");
}

TEST(LoginName, RefusesEveryOtherClassOutsidePrecisIdentifierClass) {
  EXPECT_EQ(refusal("a b"), "login may not contain spaces (U+0020)");
  EXPECT_EQ(refusal("a\xC2\xA0" "b"), "login may not contain spaces (U+00A0)");
  EXPECT_EQ(refusal("a\xCD\xB8"), "login may not contain unassigned code points (U+0378)");
  const std::string compatibility =
      "login may not contain compatibility characters such as ligatures or fullwidth forms; "
      "type the plain letters";
  EXPECT_EQ(refusal("\xEF\xAC\x81" "sh"), compatibility + " (U+FB01)");      // ﬁ
  EXPECT_EQ(refusal("\xEF\xBD\x82" "ob"), compatibility + " (U+FF42)");      // fullwidth b
  EXPECT_EQ(refusal("bob\xE2\x91\xA0"), compatibility + " (U+2460)");        // circled 1
  const std::string letters =
      "login may contain only letters, digits, combining marks and ASCII punctuation";
  EXPECT_EQ(refusal("bob\xE2\x99\xA5"), letters + " (U+2665)");  // a heart
  EXPECT_EQ(refusal("bob\xE2\x80\xA2"), letters + " (U+2022)");  // a bullet
  EXPECT_EQ(refusal("\xE1\x84\x80"), letters + " (U+1100)");     // old Hangul jamo
  EXPECT_EQ(refusal("\xEE\x80\x80"), "login may not contain private-use characters (U+E000)");
  EXPECT_EQ(refusal("l\xC2\xB7l"), "login may not contain characters allowed only in context (U+00B7)");
}

TEST(LoginName, RefusesNamesTheSpoofCheckerFinds) {
  // Cyrillic а (U+0430) among Latin letters: what the restriction level is for.
  EXPECT_EQ(refusal("\xD0\xB0lice"),
            "login mixes scripts that could disguise it (such as Latin with Cyrillic or Greek)");
  EXPECT_EQ(refusal("p\xD0\xB0yp\xD0\xB0l"),
            "login mixes scripts that could disguise it (such as Latin with Cyrillic or Greek)");
  EXPECT_EQ(refusal("x1\xE0\xA5\xA7"), "login mixes digits of different scripts");  // 1 and १
  EXPECT_EQ(refusal("a\xCC\x81\xCC\x81"), "login repeats or hides a combining mark");  // á́
}

TEST(LoginName, KeepsTheLengthLimitInBytes) {
  EXPECT_EQ(refusal(""), "login is empty");
  EXPECT_EQ(refusal(std::string(33, 'x')), "login longer than 32 bytes");
  EXPECT_TRUE(accepted(std::string(32, 'x')).has_value());
  EXPECT_EQ(refusal(std::string(16, 'x') + std::string(6, 'y') + "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"),
            "login longer than 32 bytes");
  EXPECT_EQ(refusal("a,b"), "login may not contain ',' or ':'");
  EXPECT_EQ(refusal("\xFF"), "login is not valid UTF-8");
}

TEST(LoginName, TheAddressKeyIgnoresCaseAndCompatibilityForms) {
  const auto bob = accepted("Bob");
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->typed, "Bob");  // what `from` lines show
  EXPECT_EQ(bob->address, "bob");
  EXPECT_EQ(address_key("BOB"), "bob");
  EXPECT_EQ(address_key("\xEF\xBC\xA2\xEF\xBC\xAF\xEF\xBC\xA2"), "bob");  // fullwidth ＢＯＢ
  EXPECT_EQ(address_key("STRASSE"), address_key("Stra\xC3\x9F" "e"));
  EXPECT_EQ(address_key("Jose\xCC\x81"), address_key("JOS\xC3\x89"));     // decomposed and not
  EXPECT_EQ(address_key("b0b"), "b0b");
}

TEST(LoginName, LookAlikesShareTheUniquenessKey) {
  auto unique = [](std::string_view login) {
    const auto name = accepted(login);
    return name ? name->unique : std::string();
  };
  EXPECT_EQ(unique("Bob"), unique("bob"));
  EXPECT_EQ(unique("BOB"), unique("bob"));
  EXPECT_EQ(unique("rnary"), unique("mary"));   // rn and m
  EXPECT_EQ(unique("a1ice"), unique("alice"));  // 1 and l
  // A whole name in Cyrillic letters that look Latin passes the script check, but not this one.
  EXPECT_EQ(unique("\xD1\x81\xD0\xB0\xD1\x80\xD0\xB5"), unique("cape"));  // саре
  EXPECT_NE(unique("alice"), unique("bob"));
  EXPECT_NE(unique("b0b"), unique("bob"));  // 0 is confusable with O, not o (UTS #39 data)
}

// check_login and address_key take a fast path for ASCII; ICU itself must agree with it.
TEST(LoginName, TheAsciiFastPathAgreesWithIcu) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* fold = icu::Normalizer2::getNFKCCasefoldInstance(status);
  USpoofChecker* checker = uspoof_open(&status);
  uspoof_setChecks(checker, USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS | USPOOF_INVISIBLE |
                               USPOOF_HIDDEN_OVERLAY, &status);
  uspoof_setRestrictionLevel(checker, USPOOF_MODERATELY_RESTRICTIVE);
  ASSERT_TRUE(U_SUCCESS(status)) << u_errorName(status);
  std::string all;
  for (char c = 0x21; c < 0x7F; ++c) {
    if (c == ',' || c == ':') continue;
    all += c;
    const std::string login = std::string("A") + c + "z";
    std::string icu_folded;
    fold->normalize(icu::UnicodeString::fromUTF8(login), status).toUTF8String(icu_folded);
    EXPECT_EQ(address_key(login), icu_folded) << login;
    EXPECT_EQ(uspoof_check2UTF8(checker, login.data(), static_cast<int32_t>(login.size()), nullptr, &status), 0)
        << login;
    EXPECT_TRUE(accepted(login).has_value());
  }
  EXPECT_EQ(uspoof_check2UTF8(checker, all.data(), static_cast<int32_t>(all.size()), nullptr, &status), 0);
  uspoof_close(checker);
}

// Reader threads check logins at once while the broker computes keys: the shared ICU objects
// must give every thread the answer one thread gets (run under TSan too). Run alone
// (--gtest_filter), the threads also race to load ICU's data.
TEST(LoginName, ManyThreadsAtOnceGetTheSameAnswers) {
  const std::vector<std::string> logins = {"Alice", "\xC3\xA9lodie", "\xD0\xB0lice", "bob\xE2\x80\x8B",
                                           "rnary", "\xD1\x81\xD0\xB0\xD1\x80\xD0\xB5", "x1\xE0\xA5\xA7"};
  std::vector<std::vector<std::string>> seen(8);
  std::vector<std::thread> threads;
  for (auto& answers : seen) {
    threads.emplace_back([&logins, &answers] {
      for (int round = 0; round < 200; ++round) {
        for (const auto& login : logins) {
          std::string problem;
          const auto name = check_login(login, kMaxLoginBytes, problem);
          answers.push_back(name ? name->address + "|" + name->unique + "|" + unique_key(address_key(login))
                                 : problem);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& answers : seen) EXPECT_EQ(answers, seen.front());
  ASSERT_EQ(seen.front().size(), 200 * logins.size());
  EXPECT_EQ(seen.front()[0], "alice|alice|alice");
}

}  // namespace
}  // namespace achat
