// libvirt-backend/common/signal_sets.cpp: the members of each process's signal set, pinned.
#include "common/signal_sets.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace runvirt::backend {
namespace {

std::vector<int> members(const sigset_t& set) {
  std::vector<int> out;
  for (int s = 1; s < NSIG; ++s) {
    if (sigismember(&set, s) == 1) out.push_back(s);
  }
  return out;
}

TEST(SignalSets, MonitorTakesTheStandardSignalsButChildFaultsAndStops) {
  EXPECT_EQ(members(monitorSignals()),
            (std::vector<int>{SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM,
                              SIGSTKFLT, SIGCONT, SIGURG, SIGXCPU, SIGXFSZ, SIGVTALRM, SIGPROF,
                              SIGWINCH, SIGIO, SIGPWR}));
}

TEST(SignalSets, ExecMonitorAlsoTakesTheStops) {
  EXPECT_EQ(members(execMonitorSignals()),
            (std::vector<int>{SIGHUP,    SIGINT,    SIGQUIT, SIGUSR1,  SIGUSR2, SIGALRM, SIGTERM,
                              SIGSTKFLT, SIGCONT,   SIGTSTP, SIGTTIN,  SIGTTOU, SIGURG,  SIGXCPU,
                              SIGXFSZ,   SIGVTALRM, SIGPROF, SIGWINCH, SIGIO,   SIGPWR}));
}

TEST(SignalSets, ForegroundTakesWhatPeopleAndSupervisorsSend) {
  EXPECT_EQ(members(foregroundSignals()),
            (std::vector<int>{SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGCONT,
                              SIGWINCH}));
}

}  // namespace
}  // namespace runvirt::backend
