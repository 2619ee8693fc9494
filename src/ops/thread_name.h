// Names the calling thread, so `top -H`, `ps -L` and profilers tell readers, writers and the
// broker apart.
#pragma once

#include <pthread.h>

#include <string>
#include <string_view>

namespace achat {

inline void name_this_thread(std::string_view name) {
  const std::string truncated(name.substr(0, 15));  // the kernel keeps 15 bytes
  ::pthread_setname_np(::pthread_self(), truncated.c_str());
}

}  // namespace achat
