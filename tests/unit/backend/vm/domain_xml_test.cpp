// libvirt-backend/vm/domain_xml.cpp: the domain XML of each case in
// tests/golden/domain-xml/<case>/, from its config.json with the identity, runtime config and host
// below. `make golden` rewrites expected.xml.
#include <gtest/gtest.h>

#include "vm/vm_config.hpp"
#include "runvirt/oci/spec_json.hpp"
#include "unit/test_util.hpp"

namespace runvirt::backend {
namespace {

using test::contains;

constexpr unsigned kHostCpus = 4;
// A host's TSC rate (the golden files must not depend on the machine that runs the test).
constexpr HostFacts kHost{kHostCpus, 2096005};

VmIdentity goldenIdentity() {
  return {"runvirt-0123456789abcdef",
          {VmOwner::Kind::Container, "golden", "/run/runvirt", 4242, 123456},
          {"/run/runvirt-vms/runvirt-0123456789abcdef"}};
}

RuntimeConfig goldenRuntimeConfig() {
  RuntimeConfig c;
  c.kernel = "/var/lib/runvirt/guest/vmlinux";
  c.initrd = "/var/lib/runvirt/guest/initrd.img";
  c.qemu = "/usr/bin/qemu-system-x86_64";
  c.virtiofsd = "/usr/lib/qemu/virtiofsd";
  c.defaultVcpus = 1;
  c.defaultMemoryMiB = 512;
  c.memoryOverheadMiB = 128;
  c.kernelParams = "";
  c.qemuUser = "libvirt-qemu";
  return c;
}

struct XmlCase {
  std::string name;  // tests/golden/domain-xml/<name>/
  Accelerator accelerator = Accelerator::Tcg;
  bool debug = false;
  std::vector<NetworkInterface> interfaces;
  bool dnsRelay = false;
};

XmlCase xmlCase(std::string name, Accelerator accelerator = Accelerator::Tcg, bool debug = false,
                std::vector<NetworkInterface> interfaces = {}, bool dnsRelay = false) {
  return {std::move(name), accelerator, debug, std::move(interfaces), dnsRelay};
}

void PrintTo(const XmlCase& c, std::ostream* os) { *os << c.name; }

std::string buildCase(const XmlCase& c) {
  oci::Spec spec = oci::loadSpec(test::goldenPath("domain-xml/" + c.name));
  VmConfig vm =
      planVm(spec, goldenRuntimeConfig(), goldenIdentity(), c.accelerator, kHost, c.debug);
  vm.interfaces = c.interfaces;
  vm.dnsRelay = c.dnsRelay;
  return buildDomainXml(vm);
}

class DomainXmlGolden : public ::testing::TestWithParam<XmlCase> {};

TEST_P(DomainXmlGolden, MatchesExpectedXml) {
  test::expectGolden("domain-xml/" + GetParam().name + "/expected.xml", buildCase(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DomainXmlGolden,
    ::testing::Values(xmlCase("default"), xmlCase("limits"), xmlCase("kvm", Accelerator::Kvm),
                      xmlCase("debug", Accelerator::Tcg, true),
                      xmlCase("tap", Accelerator::Tcg, false, {{"rv-tap0", "52:54:00:12:34:56"}}),
                      // Docker user-defined network: two NICs and the DNS port.
                      xmlCase("network", Accelerator::Tcg, false,
                              {{"rv0123456789", "02:42:ac:12:00:02"},
                               {"rvabcdef0123", "02:42:ac:13:00:02"}},
                              true)),
    [](const ::testing::TestParamInfo<XmlCase>& info) { return info.param.name; });

// The numbers behind the golden files, so a `make golden` cannot quietly accept wrong ones.
TEST(DomainXml, LimitsCaseSizesTheVm) {
  std::string xml = buildCase(xmlCase("limits"));
  EXPECT_TRUE(contains(xml, "<memory unit='MiB'>384</memory>"));  // 256 MiB limit + 128 overhead
  EXPECT_TRUE(contains(xml, "<vcpu>2</vcpu>"));                   // quota 150000 / period 100000
}

TEST(DomainXml, DefaultCaseIsTcg) {
  std::string xml = buildCase(xmlCase("default"));
  EXPECT_TRUE(contains(xml, "<domain type='qemu' "));
  EXPECT_TRUE(contains(xml, "<cpu mode='maximum'/>"));
  EXPECT_TRUE(contains(xml, "<memory unit='MiB'>512</memory>"));
  EXPECT_FALSE(contains(xml, "<interface"));
  EXPECT_TRUE(contains(xml, "<features>\n    <tcg>\n      <tb-cache unit='MiB'>16</tb-cache>"));
}

TEST(DomainXml, TbCacheOnlyUnderTcgAndWhenSet) {
  EXPECT_FALSE(contains(buildCase(xmlCase("kvm", Accelerator::Kvm)), "<tcg>"));
  RuntimeConfig config = goldenRuntimeConfig();
  config.tcgTbCacheMiB = 0;
  VmConfig vm =
      planVm(oci::defaultSpec(), config, goldenIdentity(), Accelerator::Tcg, kHost, false);
  EXPECT_FALSE(contains(buildDomainXml(vm), "<features>"));
}

TEST(DomainXml, KvmCaseUsesTheHostCpu) {
  std::string xml = buildCase(xmlCase("kvm", Accelerator::Kvm));
  EXPECT_TRUE(contains(xml, "<domain type='kvm' "));
  EXPECT_TRUE(contains(xml, "<cpu mode='host-passthrough'/>"));
}

// An idle TCG guest must be able to sleep: it gets the rates of its APIC timer and TSC on the
// command line instead of calibrating them (vm_config.cpp). KVM keeps its own timers: the same
// host facts give its guest neither parameter.
TEST(DomainXml, TimerRatesOnTheCommandLineUnderTcgOnly) {
  std::string tcg = buildCase(xmlCase("default"));
  EXPECT_TRUE(
      contains(tcg, " lapic_timer_period=4000000 tsc_early_khz=2096005 panic=-1</cmdline>"));
  EXPECT_FALSE(contains(tcg, "noapictimer"));
  std::string kvm = buildCase(xmlCase("kvm", Accelerator::Kvm));
  EXPECT_FALSE(contains(kvm, "lapic_timer_period"));
  EXPECT_FALSE(contains(kvm, "tsc_early_khz"));
}

TEST(DomainXml, AgentChannelAndShareUseTheVmPaths) {
  std::string xml = buildCase(xmlCase("default"));
  EXPECT_TRUE(contains(
      xml, "<source mode='bind' path='/run/runvirt-vms/runvirt-0123456789abcdef/agent.sock'/>"));
  EXPECT_TRUE(contains(xml, "<target type='virtio' name='org.runvirt.agent.0'/>"));
  EXPECT_TRUE(contains(xml, "<source dir='/run/runvirt-vms/runvirt-0123456789abcdef/share'/>"));
  EXPECT_TRUE(contains(xml, "<target dir='runvirt'/>"));
}

TEST(DomainXml, ValuesAreEscaped) {
  VmConfig vm = planVm(oci::defaultSpec(), goldenRuntimeConfig(), goldenIdentity(),
                       Accelerator::Tcg, kHost, false);
  vm.owner.stateRoot = "/tmp/a'b&c";
  vm.cmdline = "x=<y>";
  std::string xml = buildDomainXml(vm);
  EXPECT_TRUE(contains(xml, "root='/tmp/a&apos;b&amp;c'"));
  EXPECT_TRUE(contains(xml, "<cmdline>x=&lt;y&gt;</cmdline>"));
}

TEST(DomainXml, DnsPortOnlyWhenRelaying) {
  EXPECT_FALSE(contains(buildCase(xmlCase("tap")), "org.runvirt.dns.0"));
  std::string xml = buildCase(xmlCase("network", Accelerator::Tcg, false, {}, true));
  EXPECT_TRUE(contains(
      xml, "<source mode='bind' path='/run/runvirt-vms/runvirt-0123456789abcdef/dns.sock'/>"));
  EXPECT_TRUE(contains(xml, "<target type='virtio' name='org.runvirt.dns.0'/>"));
}

TEST(DomainXml, TheImageRootfsIsCachedAndTheVolumesStayCoherent) {
  std::string xml = buildCase(xmlCase("default"));
  auto rootfs = xml.find("<target dir='runvirt'/>"),
       volumes = xml.find("<target dir='runvirt-volumes'/>");
  ASSERT_NE(rootfs, std::string::npos);
  ASSERT_NE(volumes, std::string::npos);
  // Exactly one cache element, and it belongs to the rootfs share (before its target).
  auto cache = xml.find("<cache mode='always'/>");
  ASSERT_NE(cache, std::string::npos);
  EXPECT_LT(cache, rootfs);
  EXPECT_EQ(xml.find("<cache ", cache + 1), std::string::npos);
  EXPECT_TRUE(contains(xml, "<source dir='/run/runvirt-vms/runvirt-0123456789abcdef/volumes'/>"));
}

TEST(DomainXml, HostBlockDevicesAreVirtioDisksWithTheirSerialAndARootPortEach) {
  oci::Spec spec = oci::loadSpec(test::goldenPath("domain-xml/default"));
  VmConfig vm =
      planVm(spec, goldenRuntimeConfig(), goldenIdentity(), Accelerator::Tcg, kHost, false);
  std::string before = buildDomainXml(vm);
  vm.disks = {{7, 0, "/dev/loop0", "runvirt-disk-0", false},
              {7, 1, "/dev/loop1", "runvirt-disk-1", true}};
  std::string xml = buildDomainXml(vm);
  EXPECT_TRUE(contains(xml,
                       "<disk type='block' device='disk'>\n"
                       "      <driver name='qemu' type='raw' cache='none'/>\n"
                       "      <source dev='/dev/loop0'/>\n"
                       "      <target dev='vda' bus='virtio'/>\n"
                       "      <serial>runvirt-disk-0</serial>\n"
                       "    </disk>"))
      << xml;
  EXPECT_TRUE(contains(xml,
                       "<target dev='vdb' bus='virtio'/>\n      <serial>runvirt-disk-1</serial>\n"
                       "      <readonly/>"));
  auto ports = [](const std::string& text) {
    std::size_t n = 0;
    for (auto at = text.find("pcie-root-port"); at != std::string::npos;
         at = text.find("pcie-root-port", at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(ports(xml), ports(before) + 2);
}

TEST(DomainXml, Q35WithARootPortPerDeviceAndFourFreeForHotPlug) {
  std::string xml =
      buildCase(xmlCase("tap", Accelerator::Tcg, false, {{"rv-tap0", "52:54:00:12:34:56"}}));
  EXPECT_TRUE(contains(xml, "machine='q35'"));
  std::size_t ports = 0;
  for (auto at = xml.find("model='pcie-root-port'"); at != std::string::npos;
       at = xml.find("model='pcie-root-port'", at + 1)) {
    ++ports;
  }
  // virtio-serial, two virtio-fs and the one NIC of the `tap` case, plus four empty ones.
  EXPECT_EQ(ports, 4u + 4u);
  // Native PCI Express hot-plug on those ports: the guest has no ACPI.
  EXPECT_TRUE(
      contains(xml, "<qemu:arg value='ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off'/>"));
}

TEST(DomainXml, APluggedNicIsTheSameElementWithItsAlias) {
  NetworkInterface nic{"rv0123456789", "02:42:ac:11:00:02"};
  EXPECT_EQ(interfaceXml(nic),
            "<interface type='ethernet'>\n  <mac address='02:42:ac:11:00:02'/>\n"
            "  <target dev='rv0123456789' managed='no'/>\n  <model type='virtio'/>\n"
            "  <alias name='ua-rv0123456789'/>\n</interface>\n");
  std::string xml =
      buildCase(xmlCase("tap", Accelerator::Tcg, false, {{"rv0123456789", "02:42:ac:11:00:02"}}));
  EXPECT_TRUE(contains(xml, "<alias name='ua-rv0123456789'/>"));
}

TEST(DomainXml, IsDeterministic) {
  EXPECT_EQ(buildCase(xmlCase("tap")), buildCase(xmlCase("tap")));
}

}  // namespace
}  // namespace runvirt::backend
