// Handing memory that a drained backlog freed back to the system.
#pragma once

namespace achat {

// Returns the free memory of every malloc arena to the system (glibc's malloc_trim), so that a
// backlog that has drained no longer counts in the server's RSS. Called by a writer after a
// large drain, never on the path of a line. Requests from several threads at once coalesce:
// one thread trims while the others return at once, and a request made during a trim is served
// by another trim after it, so the last drain is always followed by a trim.
void release_freed_memory() noexcept;

}  // namespace achat
