// runtime-cli/options/parse.cpp: runc-style command lines, as Docker's shim sends them.
#include "options/parse.hpp"

#include <gtest/gtest.h>

#include "runvirt/oci/linux_names.hpp"
#include "unit/test_util.hpp"

namespace runvirt::cli {
namespace {

using test::contains;
using test::errorOf;

const std::string kBundle =
    "/var/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/4f2c1a";
const std::string kId = "4f2c1a";

// runvirt <docker's global flags> <rest...>
CommandLine dockerLine(std::vector<std::string> rest) {
  std::vector<std::string> argv = {
      "runvirt",      "--root", "/var/run/docker/runtime-runc/moby", "--log", kBundle + "/log.json",
      "--log-format", "json"};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return parseCommandLine(argv);
}

TEST(DockerCommandLines, Create) {
  CommandLine line = dockerLine({"create", "--bundle", kBundle, "--pid-file", kBundle + "/init.pid",
                                 "--console-socket", "/tmp/pty123/pty.sock", kId});
  EXPECT_EQ(line.global.root, "/var/run/docker/runtime-runc/moby");
  EXPECT_EQ(line.global.log, kBundle + "/log.json");
  EXPECT_EQ(line.global.logFormat, "json");
  EXPECT_FALSE(line.global.debug);
  EXPECT_EQ(line.verb, "create");
  CreateOptions o = parseCreate(line.args);
  EXPECT_EQ(o.id, kId);
  EXPECT_EQ(o.bundle, kBundle);
  EXPECT_EQ(o.pidFile, kBundle + "/init.pid");
  EXPECT_EQ(o.consoleSocket, "/tmp/pty123/pty.sock");
}

TEST(DockerCommandLines, CreateWithoutTerminal) {
  CommandLine line =
      dockerLine({"create", "--bundle", kBundle, "--pid-file", kBundle + "/init.pid", kId});
  CreateOptions o = parseCreate(line.args);
  EXPECT_EQ(o.id, kId);
  EXPECT_EQ(o.consoleSocket, "");
}

TEST(DockerCommandLines, Start) {
  CommandLine line = dockerLine({"start", kId});
  EXPECT_EQ(line.verb, "start");
  EXPECT_EQ(parseIdOnly("start", line.args).id, kId);
}

TEST(DockerCommandLines, KillWithNumericSignalAfterTheId) {
  CommandLine line = dockerLine({"kill", kId, "9"});
  KillOptions o = parseKill(line.args);
  EXPECT_EQ(o.id, kId);
  EXPECT_EQ(o.signal, "9");
  EXPECT_FALSE(o.all);
  EXPECT_EQ(oci::parseSignal(o.signal), 9);
}

TEST(DockerCommandLines, Delete) {
  DeleteOptions plain = parseDelete(dockerLine({"delete", kId}).args);
  EXPECT_EQ(plain.id, kId);
  EXPECT_FALSE(plain.force);
  DeleteOptions forced = parseDelete(dockerLine({"delete", "--force", kId}).args);
  EXPECT_EQ(forced.id, kId);
  EXPECT_TRUE(forced.force);
}

TEST(DockerCommandLines, SystemdCgroupIsAcceptedBeforeTheVerb) {
  CommandLine line = parseCommandLine(
      {"runvirt", "--root", "/r", "--systemd-cgroup", "--log-format", "json", "start", kId});
  EXPECT_TRUE(line.global.systemdCgroup);
  EXPECT_EQ(line.global.root, "/r");
  EXPECT_EQ(line.verb, "start");
  EXPECT_EQ(line.args, std::vector<std::string>{kId});
}

TEST(GlobalFlags, Defaults) {
  CommandLine line = parseCommandLine({"runvirt", "list"});
  EXPECT_EQ(line.global.root, "/run/runvirt");
  EXPECT_EQ(line.global.logFormat, "text");
  EXPECT_EQ(line.global.log, "");
  EXPECT_EQ(line.verb, "list");
  EXPECT_TRUE(line.args.empty());
}

TEST(GlobalFlags, GoStyleSingleDash) {
  CommandLine line =
      parseCommandLine({"runvirt", "-root", "/x", "-log-format", "json", "-debug", "state", "id"});
  EXPECT_EQ(line.global.root, "/x");
  EXPECT_EQ(line.global.logFormat, "json");
  EXPECT_TRUE(line.global.debug);
  EXPECT_EQ(line.verb, "state");
}

TEST(GlobalFlags, EqualsForm) {
  CommandLine line =
      parseCommandLine({"runvirt", "--root=/x", "--log=/l.json", "--config=/c.toml", "ps", "id"});
  EXPECT_EQ(line.global.root, "/x");
  EXPECT_EQ(line.global.log, "/l.json");
  EXPECT_EQ(line.global.config, "/c.toml");
  EXPECT_EQ(line.verb, "ps");
  EXPECT_EQ(parsePs(line.args).id, "id");
}

TEST(GlobalFlags, GoBoolFlagValues) {
  CommandLine on = parseCommandLine({"runvirt", "--debug=true", "--systemd-cgroup=1", "list"});
  EXPECT_TRUE(on.global.debug);
  EXPECT_TRUE(on.global.systemdCgroup);
  CommandLine off = parseCommandLine({"runvirt", "--debug=false", "-systemd-cgroup=false", "list"});
  EXPECT_FALSE(off.global.debug);
  EXPECT_FALSE(off.global.systemdCgroup);
  EXPECT_EQ(off.verb, "list");
  EXPECT_TRUE(contains(errorOf([] {
                         parseCommandLine({"runvirt", "--debug=maybe", "list"});
                       }),
                       "invalid boolean value \"maybe\""));
  EXPECT_FALSE(parseDelete({"--force=false", kId}).force);
  EXPECT_TRUE(parseDelete({"--force=true", kId}).force);
}

TEST(GlobalFlags, IgnoredRuncFlagsAreAccepted) {
  CommandLine line =
      parseCommandLine({"runvirt", "--rootless", "false", "--criu", "/usr/sbin/criu", "list"});
  EXPECT_EQ(line.global.rootless, "false");
  EXPECT_EQ(line.verb, "list");
}

TEST(GlobalFlags, NoVerb) {
  CommandLine line = parseCommandLine({"runvirt", "--version"});
  EXPECT_TRUE(line.global.version);
  EXPECT_EQ(line.verb, "");
  EXPECT_TRUE(parseCommandLine({"runvirt", "-h"}).global.help);
}

TEST(GlobalFlags, VerbArgumentsAreNotGlobalFlags) {
  CommandLine line = parseCommandLine({"runvirt", "delete", "--force", "id"});
  EXPECT_EQ(line.verb, "delete");
  EXPECT_EQ(line.args, (std::vector<std::string>{"--force", "id"}));
}

TEST(GlobalFlags, BadLogFormat) {
  EXPECT_EQ(errorOf([] {
              parseCommandLine({"runvirt", "--log-format", "xml", "list"});
            }),
            "unknown log-format \"xml\"");
}

TEST(GlobalFlags, UnknownFlag) {
  EXPECT_TRUE(contains(errorOf([] {
                         parseCommandLine({"runvirt", "--bogus", "list"});
                       }),
                       "flag provided but not defined"));
}

TEST(GlobalFlags, MissingValue) {
  EXPECT_FALSE(errorOf([] { parseCommandLine({"runvirt", "--root"}); }).empty());
}

TEST(CreateFlags, EqualsAndGoStyle) {
  CreateOptions o =
      parseCreate({"--bundle=/b", "-pid-file", "/p", "--no-pivot", "--preserve-fds", "2", "id"});
  EXPECT_EQ(o.bundle, "/b");
  EXPECT_EQ(o.pidFile, "/p");
  EXPECT_TRUE(o.noPivot);
  EXPECT_EQ(o.preserveFds, 2u);
  EXPECT_EQ(parseCreate({"-b", "/short", "id"}).bundle, "/short");
  EXPECT_EQ(parseCreate({"id"}).bundle, ".");
}

TEST(CreateFlags, UnknownFlag) {
  EXPECT_EQ(errorOf([] {
              parseCreate({"--bundel", "/b", "id"});
            }),
            "flag provided but not defined: --bundel");
}

TEST(Kill, AllFlagAndNamedSignal) {
  KillOptions o = parseKill({"--all", "id", "KILL"});
  EXPECT_TRUE(o.all);
  EXPECT_EQ(o.id, "id");
  EXPECT_EQ(o.signal, "KILL");
  EXPECT_TRUE(parseKill({"-a", "id"}).all);
}

TEST(Kill, DefaultSignalIsTerm) {
  KillOptions o = parseKill({"id"});
  EXPECT_EQ(o.signal, "SIGTERM");
  EXPECT_EQ(oci::parseSignal(o.signal), 15);
}

TEST(Kill, ArgumentCount) {
  EXPECT_EQ(errorOf([] { parseKill({}); }), "\"kill\" requires a minimum of 1 argument(s)");
  EXPECT_EQ(errorOf([] {
              parseKill({"id", "9", "extra"});
            }),
            "\"kill\" requires a maximum of 2 argument(s)");
}

TEST(MissingId, EveryVerbNamesItself) {
  EXPECT_EQ(errorOf([] { parseIdOnly("start", {}); }), "\"start\" requires exactly 1 argument(s)");
  EXPECT_EQ(errorOf([] {
              parseIdOnly("state", {"a", "b"});
            }),
            "\"state\" requires exactly 1 argument(s)");
  EXPECT_EQ(errorOf([] {
              parseCreate({"--bundle", "/b"});
            }),
            "\"create\" requires exactly 1 argument(s)");
  EXPECT_EQ(errorOf([] { parseDelete({"--force"}); }), "\"delete\" requires exactly 1 argument(s)");
  EXPECT_EQ(errorOf([] { parseRun({}); }), "\"run\" requires exactly 1 argument(s)");
}

TEST(Run, DetachAndKeep) {
  RunOptions o = parseRun({"-d", "--keep", "--bundle", "/b", "id"});
  EXPECT_TRUE(o.detach);
  EXPECT_TRUE(o.keep);
  EXPECT_EQ(o.create.bundle, "/b");
  EXPECT_EQ(o.create.id, "id");
  EXPECT_FALSE(parseRun({"id"}).detach);
}

TEST(List, FormatAndQuiet) {
  ListOptions o = parseList({"--format", "json", "-q"});
  EXPECT_EQ(o.format, "json");
  EXPECT_TRUE(o.quiet);
  EXPECT_EQ(parseList({}).format, "table");
  EXPECT_EQ(errorOf([] { parseList({"--format", "yaml"}); }), "invalid format option");
  EXPECT_EQ(errorOf([] { parseList({"extra"}); }), "\"list\" requires exactly 0 argument(s)");
}

TEST(Spec, BundleAndRootless) {
  SpecOptions o = parseSpecCommand({"--bundle", "/b", "--rootless"});
  EXPECT_EQ(o.bundle, "/b");
  EXPECT_TRUE(o.rootless);
}

TEST(Monitor, RequiredFlags) {
  MonitorCommandOptions o =
      parseMonitor({"--id", "web", "--sync-fd", "3", "--console-socket", "/s"});
  EXPECT_EQ(o.id, "web");
  EXPECT_EQ(o.syncFd, 3);
  EXPECT_EQ(o.consoleSocket, "/s");
  EXPECT_FALSE(errorOf([] { parseMonitor({"--id", "web"}); }).empty());
}

}  // namespace
}  // namespace runvirt::cli

namespace runvirt::cli {
namespace {

TEST(ParseCheckAndEnv, Defaults) {
  CheckOptions c = parseCheck({});
  EXPECT_EQ(c.daemonJson, "/etc/docker/daemon.json");
  EXPECT_EQ(c.probeTimeout, 3);
  EXPECT_FALSE(parseEnv({}).json);
}

TEST(ParseCheckAndEnv, Flags) {
  CheckOptions c = parseCheck({"--daemon-json", "/tmp/d.json", "--probe-timeout=1.5"});
  EXPECT_EQ(c.daemonJson, "/tmp/d.json");
  EXPECT_EQ(c.probeTimeout, 1.5);
  EXPECT_TRUE(parseEnv({"--json"}).json);
  EXPECT_TRUE(parseEnv({"-json=true"}).json);
  EXPECT_THROW(parseEnv({"extra"}), Error);
  EXPECT_THROW(parseCheck({"--probe-timeout", "0"}), Error);
  EXPECT_THROW(parseCheck({"--fast"}), Error);
}

}  // namespace
}  // namespace runvirt::cli
