// Prints a run's Results: a human-readable summary, or one flat JSON object (one line, numbers
// and strings only, so shell tools can read it; bench/compare.sh does).
#pragma once

#include <cstdio>

#include "options.h"
#include "results.h"

namespace achat::load {

void print_text(std::FILE* out, const Options& options, const Results& results);
void print_json(std::FILE* out, const Options& options, const Results& results);

}  // namespace achat::load
