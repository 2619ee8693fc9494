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

void Envelope::append_header(std::string& payload, std::string_view origin,
                             std::string_view incarnation, std::uint64_t sequence) {
  payload.append(origin).append(" ").append(incarnation).append(" ").append(std::to_string(sequence));
  payload += '\n';
}

void Envelope::append_entry(std::string& payload, std::string_view recipients, std::string_view line) {
  payload.append(recipients).append("\n").append(line);
}

std::optional<Envelope> Envelope::decode(std::string_view payload) {
  Envelope envelope;
  const auto origin = take_until(payload, ' ');
  const auto incarnation = take_until(payload, ' ');
  const auto sequence = take_until(payload, '\n');
  if (!origin || !incarnation || !sequence || payload.empty()) return std::nullopt;
  const auto [end, error] = std::from_chars(sequence->data(), sequence->data() + sequence->size(),
                                            envelope.sequence);
  if (error != std::errc() || end != sequence->data() + sequence->size()) return std::nullopt;
  envelope.origin = *origin;
  envelope.incarnation = *incarnation;
  while (!payload.empty()) {
    const auto recipients = take_until(payload, '\n');
    const auto line_end = payload.find('\n');
    if (!recipients || line_end == std::string_view::npos) return std::nullopt;
    envelope.entries.push_back({*recipients, payload.substr(0, line_end + 1)});
    payload.remove_prefix(line_end + 1);
  }
  return envelope;
}

}  // namespace achat::cluster
