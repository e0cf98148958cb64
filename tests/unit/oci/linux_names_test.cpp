// oci/src/linux_names.cpp: capability, rlimit and signal names <-> numbers.
#include "runvirt/oci/linux_names.hpp"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>

namespace runvirt::oci {
namespace {

TEST(Capabilities, NamesMapToKernelNumbers) {
  EXPECT_EQ(capabilityNumber("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(capabilityNumber("CAP_NET_BIND_SERVICE"), CAP_NET_BIND_SERVICE);
  EXPECT_EQ(capabilityNumber("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(capabilityNumber("CAP_AUDIT_WRITE"), CAP_AUDIT_WRITE);
  EXPECT_EQ(capabilityNumber("CAP_CHECKPOINT_RESTORE"), CAP_CHECKPOINT_RESTORE);
}

TEST(Capabilities, UnknownAndMisspelledNamesAreRejected) {
  EXPECT_EQ(capabilityNumber("CAP_TELEPORT"), std::nullopt);
  EXPECT_EQ(capabilityNumber("SYS_ADMIN"), std::nullopt);
  EXPECT_EQ(capabilityNumber("cap_sys_admin"), std::nullopt);
}

TEST(Capabilities, ListCoversEveryNumberUpToTheLast) {
  EXPECT_EQ(capabilityNames().size(), std::size_t(CAP_LAST_CAP) + 1);
  for (std::size_t i = 0; i < capabilityNames().size(); ++i) {
    EXPECT_EQ(capabilityNumber(capabilityNames()[i]), int(i)) << capabilityNames()[i];
  }
}

TEST(Rlimits, NamesMapToResourceNumbers) {
  EXPECT_EQ(rlimitNumber("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(rlimitNumber("RLIMIT_NPROC"), RLIMIT_NPROC);
  EXPECT_EQ(rlimitNumber("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  EXPECT_EQ(rlimitNumber("NOFILE"), std::nullopt);
  EXPECT_EQ(rlimitNumber("RLIMIT_TELEPORTS"), std::nullopt);
}

TEST(Signals, AcceptsNameShortNameAndNumber) {
  EXPECT_EQ(parseSignal("KILL"), SIGKILL);
  EXPECT_EQ(parseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(parseSignal("9"), SIGKILL);
  EXPECT_EQ(parseSignal("TERM"), SIGTERM);
  EXPECT_EQ(parseSignal("SIGWINCH"), SIGWINCH);
  EXPECT_EQ(parseSignal("CLD"), SIGCHLD);
}

TEST(Signals, NamesAreCaseInsensitiveLikeRunc) {
  EXPECT_EQ(parseSignal("term"), SIGTERM);
  EXPECT_EQ(parseSignal("sigKill"), SIGKILL);
  EXPECT_EQ(parseSignal("rtmin+1"), SIGRTMIN + 1);
}

TEST(Signals, RealTimeSignalsWithOffsets) {
  EXPECT_EQ(parseSignal("RTMIN"), SIGRTMIN);
  EXPECT_EQ(parseSignal("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(parseSignal("SIGRTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(parseSignal("RTMAX"), SIGRTMAX);
  EXPECT_EQ(parseSignal("SIGRTMAX-3"), SIGRTMAX - 3);
  EXPECT_EQ(parseSignal(std::to_string(SIGRTMAX)), SIGRTMAX);
}

TEST(Signals, UnknownOrOutOfRangeIsRejected) {
  for (const char* text : {"", "NOPE", "SIG", "SIGNOPE", "0", "-9", "9x", "65", "RTMIN-1",
                           "RTMAX+1", "RTMIN+", "RTMIN+x", "RTMIN+100", "RTMAX-100"}) {
    EXPECT_EQ(parseSignal(text), std::nullopt) << "\"" << text << "\"";
  }
}

TEST(Signals, NamesForMessages) {
  EXPECT_EQ(signalName(SIGKILL), "SIGKILL");
  EXPECT_EQ(signalName(SIGCHLD), "SIGCHLD");
  EXPECT_EQ(signalName(SIGABRT), "SIGABRT");
  EXPECT_EQ(signalName(SIGRTMIN + 1), "SIG" + std::to_string(SIGRTMIN + 1));
}

TEST(Signals, EveryNameRoundTrips) {
  for (int signal = 1; signal < 32; ++signal) {
    auto name = signalName(signal);
    if (name == "SIG" + std::to_string(signal)) continue;  // no name (e.g. 32, 33)
    EXPECT_EQ(parseSignal(name), signal) << name;
  }
}

}  // namespace
}  // namespace runvirt::oci
