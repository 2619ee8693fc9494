#include "achat/login_name.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/uspoof.h>
#include <unicode/utf8.h>

#include <memory>
#include <stdexcept>

#include "achat/protocol.h"

namespace achat {

namespace {

// ICU's objects, created once on first use (a function-local static: C++ makes its
// initialisation thread-safe) and never changed afterwards. ICU documents the Normalizer2
// instances as thread-safe and the spoof checker's functions that take a const checker
// (uspoof_check2*, uspoof_getSkeleton*) as safe to call from many threads at once; only
// configuring a checker is not, and that happens here, before any other thread sees it. So every
// reader thread (logins) and the broker thread (recipients) share them without a lock.
class Icu {
 public:
  static const Icu& get() {
    static const Icu icu;
    return icu;
  }

  const icu::Normalizer2& nfkc_cf() const noexcept { return *nfkc_cf_; }
  const icu::Normalizer2& nfkc() const noexcept { return *nfkc_; }
  const USpoofChecker* checker() const noexcept { return checker_.get(); }

 private:
  struct CloseChecker {
    void operator()(USpoofChecker* checker) const noexcept { uspoof_close(checker); }
  };

  Icu() {
    UErrorCode status = U_ZERO_ERROR;
    nfkc_cf_ = icu::Normalizer2::getNFKCCasefoldInstance(status);
    nfkc_ = icu::Normalizer2::getNFKCInstance(status);
    checker_.reset(uspoof_open(&status));
    if (U_SUCCESS(status)) {
      uspoof_setChecks(checker_.get(),
                       USPOOF_RESTRICTION_LEVEL | USPOOF_MIXED_NUMBERS | USPOOF_INVISIBLE |
                           USPOOF_HIDDEN_OVERLAY,
                       &status);
    }
    if (U_SUCCESS(status)) uspoof_setRestrictionLevel(checker_.get(), USPOOF_MODERATELY_RESTRICTIVE);
    if (U_FAILURE(status)) {
      throw std::runtime_error(std::string("ICU could not be initialised: ") + u_errorName(status));
    }
  }

  const icu::Normalizer2* nfkc_cf_ = nullptr;
  const icu::Normalizer2* nfkc_ = nullptr;
  std::unique_ptr<USpoofChecker, CloseChecker> checker_;
};

// Why a code point is not PVALID in PRECIS IdentifierClass, grouped by what a user can do about it.
enum class Refusal {
  none,
  invisible,     // controls, format characters (bidi included), default-ignorables, noncharacters
  unassigned,    // not assigned in this ICU's Unicode version
  space,
  compatibility, // has a compatibility decomposition: fullwidth letters, ligatures, circled digits
  not_letter,    // non-ASCII symbols and punctuation, and letter-like symbols PRECIS leaves out
  contextual,    // PRECIS allows it only in a context, which this server does not check
  private_use,
};

bool is_ascii(std::string_view text) noexcept {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// RFC 8264 section 8, the derived property for IdentifierClass, step by step (the exceptions
// are RFC 5892 section 2.6's).
Refusal identifier_class(UChar32 c, const icu::Normalizer2& nfkc) {
  switch (c) {
    case 0x00DF: case 0x03C2: case 0x06FD: case 0x06FE: case 0x0F0B: case 0x3007:
      return Refusal::none;  // Exceptions, PVALID
    case 0x00B7: case 0x0375: case 0x05F3: case 0x05F4: case 0x30FB:
      return Refusal::contextual;  // Exceptions, CONTEXTO
    case 0x0640: case 0x07FA: case 0x302E: case 0x302F: case 0x3031: case 0x3032: case 0x3033:
    case 0x3034: case 0x3035: case 0x303B:
      return Refusal::not_letter;  // Exceptions, DISALLOWED
    default:
      break;
  }
  if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9)) return Refusal::contextual;
  const auto category = static_cast<UCharCategory>(u_charType(c));
  if (category == U_UNASSIGNED && !u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT)) {
    return Refusal::unassigned;
  }
  if (c >= 0x21 && c <= 0x7E) return Refusal::none;  // ASCII7
  if (u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL)) return Refusal::invisible;  // CONTEXTJ
  const auto hangul = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
  if (hangul == U_HST_LEADING_JAMO || hangul == U_HST_VOWEL_JAMO || hangul == U_HST_TRAILING_JAMO) {
    return Refusal::not_letter;  // OldHangulJamo
  }
  if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
      u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT) || category == U_CONTROL_CHAR) {
    return Refusal::invisible;  // PrecisIgnorableProperties, Controls
  }
  // Spaces are refused either as HasCompat (U+00A0) or as Spaces: say "space" for all of them.
  if (category == U_SPACE_SEPARATOR) return Refusal::space;
  {
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString alone(c);
    if (nfkc.normalize(alone, status) != alone || U_FAILURE(status)) return Refusal::compatibility;
  }
  switch (category) {
    case U_LOWERCASE_LETTER: case U_UPPERCASE_LETTER: case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER: case U_MODIFIER_LETTER: case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
      return Refusal::none;  // LetterDigits
    case U_SPACE_SEPARATOR:
      return Refusal::space;
    case U_FORMAT_CHAR: case U_LINE_SEPARATOR: case U_PARAGRAPH_SEPARATOR:
      return Refusal::invisible;
    case U_PRIVATE_USE_CHAR:
      return Refusal::private_use;
    default:
      return Refusal::not_letter;  // OtherLetterDigits, Symbols, Punctuation, the rest
  }
}

std::string code_point_name(UChar32 c) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string digits;
  for (UChar32 rest = c; rest != 0 || digits.size() < 4; rest >>= 4) {
    digits.insert(digits.begin(), kHex[static_cast<std::size_t>(rest & 0xF)]);
  }
  return "U+" + digits;
}

std::string refusal_text(Refusal refusal, UChar32 c) {
  const std::string which = " (" + code_point_name(c) + ")";
  switch (refusal) {
    case Refusal::invisible: return "login may not contain invisible or control characters" + which;
    case Refusal::unassigned: return "login may not contain unassigned code points" + which;
    case Refusal::space: return "login may not contain spaces" + which;
    case Refusal::compatibility:
      return "login may not contain compatibility characters such as ligatures or fullwidth "
             "forms; type the plain letters" + which;
    case Refusal::not_letter:
      return "login may contain only letters, digits, combining marks and ASCII punctuation" + which;
    case Refusal::contextual:
      return "login may not contain characters allowed only in context" + which;
    case Refusal::private_use: return "login may not contain private-use characters" + which;
    case Refusal::none: break;
  }
  return {};
}

// The first code point of `login` (valid UTF-8) that IdentifierClass refuses, as the reason.
std::optional<std::string> identifier_problem(std::string_view login, const Icu& icu) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(login.data());
  const auto length = static_cast<std::int32_t>(login.size());
  for (std::int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) return "login is not valid UTF-8";
    if (const Refusal refusal = identifier_class(c, icu.nfkc()); refusal != Refusal::none) {
      return refusal_text(refusal, c);
    }
  }
  return std::nullopt;
}

std::optional<std::string> spoof_problem(std::string_view login, const Icu& icu) {
  UErrorCode status = U_ZERO_ERROR;
  const std::int32_t failed = uspoof_check2UTF8(icu.checker(), login.data(),
                                                static_cast<std::int32_t>(login.size()), nullptr,
                                                &status);
  if (U_FAILURE(status)) return std::string("login could not be checked: ") + u_errorName(status);
  if (failed & USPOOF_RESTRICTION_LEVEL) {
    return "login mixes scripts that could disguise it (such as Latin with Cyrillic or Greek)";
  }
  if (failed & USPOOF_MIXED_NUMBERS) return "login mixes digits of different scripts";
  if (failed & (USPOOF_INVISIBLE | USPOOF_HIDDEN_OVERLAY)) {
    return "login repeats or hides a combining mark";
  }
  if (failed != 0) return "login looks like a spoof";
  return std::nullopt;
}

std::string ascii_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

}  // namespace

std::optional<LoginName> check_login(std::string_view login, std::size_t max_login_bytes,
                                     std::string& problem) {
  if (auto framing = login_problem(login, max_login_bytes)) {
    problem = std::move(*framing);
    return std::nullopt;
  }
  const Icu& icu = Icu::get();
  if (is_ascii(login)) {
    // ASCII's visible characters are all PVALID, and one script cannot mix: only a space (C0
    // controls and DEL were refused above) can fail. login_name_test checks this against ICU.
    if (const auto space = login.find(' '); space != std::string_view::npos) {
      problem = refusal_text(Refusal::space, ' ');
      return std::nullopt;
    }
  } else if (auto refusal = identifier_problem(login, icu)) {
    problem = std::move(*refusal);
    return std::nullopt;
  } else if (auto spoof = spoof_problem(login, icu)) {
    problem = std::move(*spoof);
    return std::nullopt;
  }
  LoginName name{std::string(login), address_key(login), {}};
  name.unique = unique_key(name.address);
  return name;
}

void load_login_rule() { Icu::get(); }

std::string address_key(std::string_view name) {
  // NFKC_Casefold maps ASCII only by lower-casing it (no ASCII character has a compatibility
  // decomposition or is default-ignorable), and the broker computes this once per recipient.
  if (is_ascii(name)) return ascii_lower(name);
  std::string folded;
  icu::StringByteSink<std::string> sink(&folded, static_cast<std::int32_t>(name.size()));
  UErrorCode status = U_ZERO_ERROR;
  Icu::get().nfkc_cf().normalizeUTF8(0, icu::StringPiece(name.data(), static_cast<std::int32_t>(name.size())),
                                     sink, nullptr, status);
  if (U_FAILURE(status)) return std::string(name);  // ill-formed input: only matches itself
  return folded;
}

std::string unique_key(std::string_view address) {
  std::string skeleton(address.size() * 2 + 8, '\0');
  for (int attempt = 0; attempt < 2; ++attempt) {
    UErrorCode status = U_ZERO_ERROR;
    const std::int32_t length = uspoof_getSkeletonUTF8(
        Icu::get().checker(), 0, address.data(), static_cast<std::int32_t>(address.size()),
        skeleton.data(), static_cast<std::int32_t>(skeleton.size()), &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
      skeleton.assign(static_cast<std::size_t>(length) + 1, '\0');
      continue;
    }
    if (U_FAILURE(status)) return std::string(address);
    skeleton.resize(static_cast<std::size_t>(length));
    return skeleton;
  }
  return std::string(address);
}

}  // namespace achat
