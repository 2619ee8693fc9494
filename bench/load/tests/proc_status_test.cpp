// process_cpu_seconds: reads the CPU a process has used, which is what the server's CPU per
// delivered line is computed from; and a process that is gone yields nothing.
#include "proc_status.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace achat::load {
namespace {

double own_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST(ProcStatus, CpuSecondsGrowWithTheWorkDone) {
  const auto before = process_cpu_seconds(::getpid());
  ASSERT_TRUE(before.has_value());
  const double burn_until = own_cpu_seconds() + 0.2;
  volatile unsigned spin = 0;
  while (own_cpu_seconds() < burn_until) spin = spin + 1;
  const auto after = process_cpu_seconds(::getpid());
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(*after - *before, 0.2);
  EXPECT_LT(*after - *before, 0.25);  // the test's own overhead, not seconds for ticks
}

TEST(ProcStatus, NothingForAProcessThatIsGone) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_FALSE(process_cpu_seconds(child).has_value());
  EXPECT_FALSE(sample_process(child).has_value());
}

}  // namespace
}  // namespace achat::load
