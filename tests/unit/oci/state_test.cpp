// oci/src/state.cpp: runc's `state` document and the hook state on stdin.
#include "runvirt/oci/state.hpp"

#include <gtest/gtest.h>

namespace runvirt::oci {
namespace {

State sampleState() {
  State s;
  s.id = "web";
  s.status = Status::Running;
  s.pid = 4242;
  s.bundle = "/run/bundle";
  s.rootfs = "/run/bundle/rootfs";
  s.created = "2024-01-02T03:04:05.123456789Z";
  s.owner = "";
  return s;
}

TEST(State, StatusNames) {
  EXPECT_EQ(toString(Status::Creating), "creating");
  EXPECT_EQ(toString(Status::Created), "created");
  EXPECT_EQ(toString(Status::Running), "running");
  EXPECT_EQ(toString(Status::Paused), "paused");
  EXPECT_EQ(toString(Status::Stopped), "stopped");
}

TEST(State, RuncStateHasEveryField) {
  nlohmann::json expected = {{"ociVersion", "1.0.2-dev"},
                             {"id", "web"},
                             {"pid", 4242},
                             {"status", "running"},
                             {"bundle", "/run/bundle"},
                             {"rootfs", "/run/bundle/rootfs"},
                             {"created", "2024-01-02T03:04:05.123456789Z"},
                             {"owner", ""}};
  EXPECT_EQ(toRuncStateJson(sampleState()), expected);
}

TEST(State, HookStateIsTheRuntimeSpecSubset) {
  nlohmann::json expected = {{"ociVersion", "1.0.2-dev"},
                             {"id", "web"},
                             {"status", "running"},
                             {"pid", 4242},
                             {"bundle", "/run/bundle"}};
  EXPECT_EQ(toHookStateJson(sampleState()), expected);
}

TEST(State, AnnotationsOnlyWhenPresent) {
  State s = sampleState();
  EXPECT_FALSE(toRuncStateJson(s).contains("annotations"));
  s.annotations = {{"io.kubernetes.pod", "p"}};
  EXPECT_EQ(toRuncStateJson(s)["annotations"]["io.kubernetes.pod"], "p");
  EXPECT_EQ(toHookStateJson(s)["annotations"]["io.kubernetes.pod"], "p");
}

}  // namespace
}  // namespace runvirt::oci
