#include "mount_plan.hpp"

#include <sys/mount.h>

#include <algorithm>

#include "runvirt/oci/mount_options.hpp"

namespace runvirt::agent {

namespace {

MountStep planBind(const Mount& mount, const oci::MountOptions& options) {
  MountStep step;
  step.kind = MountStep::Kind::Bind;
  step.source = mount.source;
  step.flags = MS_BIND | (options.flags & MS_REC);
  // mount(2) ignores every flag but MS_REC on the first bind call: a remount applies them.
  step.remountFlags = options.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
  return step;
}

MountStep planFilesystem(const Mount& mount, const oci::MountOptions& options) {
  MountStep step;
  bool cgroup = mount.type == "cgroup" || mount.type == "cgroup2";
  step.kind = cgroup ? MountStep::Kind::Cgroup : MountStep::Kind::Filesystem;
  step.type = cgroup ? "cgroup2" : mount.type;
  step.source = mount.source.empty() ? step.type : mount.source;
  step.flags = options.flags & ~MS_REMOUNT;
  // cgroup v1 controller names ("cpu,memory") mean nothing to cgroup2.
  if (!cgroup) step.data = options.data;
  return step;
}

}  // namespace

std::vector<MountStep> planMounts(const std::vector<Mount>& mounts) {
  std::vector<MountStep> steps;
  for (const auto& mount : mounts) {
    auto options = oci::parseMountOptions(mount.options);
    MountStep step = oci::isBindMount(mount.type, mount.options) ? planBind(mount, options)
                                                                 : planFilesystem(mount, options);
    step.destination = cleanContainerPath(mount.destination);
    step.propagation = options.propagation;
    steps.push_back(std::move(step));
  }
  return steps;
}

bool needsDevPopulation(const std::vector<MountStep>& steps) {
  return std::any_of(steps.begin(), steps.end(), [](const MountStep& s) {
    return s.destination == "/dev" && s.kind == MountStep::Kind::Filesystem && s.type == "tmpfs";
  });
}

}  // namespace runvirt::agent
