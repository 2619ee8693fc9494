#include "envelope.h"

#include <charconv>

namespace achat::cluster {

namespace {

// Splits off the text before `separator`; nullopt if there is none.
std::optional<std::string_view> take_until(std::string_view& text, char separator) {
  const auto at = text.find(separator);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string_view head = text.substr(0, at);
  text.remove_prefix(at + 1);
  return head;
}

}  // namespace

std::string Envelope::encode() const {
  const std::string number = std::to_string(sequence);
  std::string payload;
  payload.reserve(origin.size() + incarnation.size() + number.size() + recipients.size() +
                  line.size() + 4);
  payload.append(origin).append(" ").append(incarnation).append(" ").append(number);
  payload.append("\n").append(recipients).append("\n").append(line);
  return payload;
}

std::optional<Envelope> Envelope::decode(std::string_view payload) {
  Envelope envelope;
  const auto origin = take_until(payload, ' ');
  const auto incarnation = take_until(payload, ' ');
  const auto sequence = take_until(payload, '\n');
  const auto recipients = take_until(payload, '\n');
  if (!origin || !incarnation || !sequence || !recipients || payload.empty() ||
      payload.back() != '\n') {
    return std::nullopt;
  }
  const auto [end, error] = std::from_chars(sequence->data(), sequence->data() + sequence->size(),
                                            envelope.sequence);
  if (error != std::errc() || end != sequence->data() + sequence->size()) return std::nullopt;
  envelope.origin = *origin;
  envelope.incarnation = *incarnation;
  envelope.recipients = *recipients;
  envelope.line = payload;
  return envelope;
}

}  // namespace achat::cluster
