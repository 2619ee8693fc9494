// Which logins the server accepts, and the keys that address them and keep them unique.
// Built on ICU (libicu), the field's standard Unicode library, rather than tables of our own.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace achat {

// A login that passed check_login(), in its three forms.
struct LoginName {
  // As its holder typed it (trimmed): shown in `from` lines, logs and the operator's list.
  std::string typed;
  // ICU's NFKC_Casefold of `typed`: a recipient reaches this login when address_key() of the
  // name the sender wrote equals it, so `BOB: hi` reaches bob.
  std::string address;
  // The confusable skeleton (Unicode TS #39) of `address`: at most one login per skeleton is
  // online, so `Bob`, `bob` and look-alikes such as `rnary`/`mary` cannot be online together.
  // The cluster's claims are keyed by it.
  std::string unique;
};

// The login rule, in order (the first that fails is the reason):
//  1. protocol.h's login_problem(): not empty, at most `max_login_bytes`, valid UTF-8, no ','
//     or ':' (they separate recipients from text), no C0 control or DEL;
//  2. every code point is PVALID in PRECIS IdentifierClass (RFC 8264), derived from ICU's
//     properties: letters, digits and combining marks of any script, and ASCII's visible
//     characters. Refused: control, format, bidi, default-ignorable and unassigned code points,
//     spaces, non-ASCII symbols and punctuation, compatibility forms (U+FB01 'fi', fullwidth
//     letters), old Hangul jamo; and, stricter than PRECIS, the few code points PRECIS allows
//     only in a context (U+00B7, Arabic-Indic digits, ...), whose rules are not checked here;
//  3. ICU's spoof checker at USPOOF_MODERATELY_RESTRICTIVE passes it: no mix of scripts that
//     could disguise it (Latin with Cyrillic or Greek, say; Latin with Han, Kana or Hangul is
//     fine), no mix of digits from different scripts, no combining mark repeated or hidden.
// Returns the name's forms, or nullopt with `problem` set to the reason, which starts with
// "login" and is ASCII (offending code points are written U+XXXX).
// Thread-safe: every thread may call it at once (the ICU objects it shares are immutable).
std::optional<LoginName> check_login(std::string_view login, std::size_t max_login_bytes,
                                     std::string& problem);

// Loads ICU's data and builds the shared checker now, which the first call of any function here
// would otherwise do (about 1-5 ms): the server calls it at start, so a broken ICU stops the
// start rather than failing every login. Throws std::runtime_error if ICU cannot be loaded.
void load_login_rule();

// The address key of a recipient's name as a sender wrote it (any valid UTF-8): NFKC_Casefold,
// with a fast path for ASCII (lower-casing). Thread-safe.
std::string address_key(std::string_view name);

// The uniqueness key of an address key (see LoginName::unique). Thread-safe.
std::string unique_key(std::string_view address);

}  // namespace achat
