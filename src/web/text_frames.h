// WebSocket text frames as a server sends them (RFC 6455 section 5.2), built by hand so that a
// writer's whole batch goes out in one socket write (see web_session.cpp). No Beast here.
#pragma once

#include <span>
#include <string>

#include "achat/outbox.h"

namespace achat::web {

// Replaces `frames` with one frame per line, in order: FIN set, opcode 1 (text), unmasked (a
// server's frames are never masked), the payload's length in its shortest encoding (7, 16 or 64
// bits), the payload being the line without its "\n". `frames` ends up the size of the lines
// plus at most 10 bytes per line: what it holds is bounded by the batch its caller holds.
void encode_text_frames(std::span<const OutboundLine> lines, std::string& frames);

}  // namespace achat::web
