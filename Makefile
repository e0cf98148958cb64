# runvirt: a runc-compatible OCI runtime that runs every container in its own libvirt VM.
#
#   make            build runvirt, the static guest agent, the guest kernel and the tests
#   make guest-kernel  only the runvirt guest kernel (guest/kernel; ~4 min on 2 cores)
#   make demo       install deps, build, install, start daemons, run a busybox bundle in a VM
#   make check      install deps, build, install, start daemons, run every test
#   make unit       unit and golden tests only (no daemons needed)
#   make unit-asan  the unit tests built under ASan+UBSan (build/asan/)
#   make fuzz       libFuzzer targets (tests/fuzz/) for the parsers of untrusted input, each run
#                   FUZZ_SECONDS (60) on a copy of its seed corpus (build/fuzz/)
#   make fault-tests   daemons and VM parts killed under running containers (tests/faults/)
#   make golden     rewrite golden files from the current code (review the diff!)
#   make install    install into $(DESTDIR)$(PREFIX) and build the guest image
#   make deb        build/deb/runvirt_$(VERSION)_amd64.deb (dpkg-buildpackage, packaging/deb)
#   make rpm        build/rpm/RPMS/x86_64/runvirt-$(VERSION)-1.x86_64.rpm (rpmbuild, packaging/rpm)
#   make package-test  install, use and purge the real deb (tests/package/run.sh; last in `check`)
#   make bench      benchmark the installed runvirt against runc, crun, runsc (bench/; 20-40 min)
#   make bench-quick   the same as a smoke run (a few minutes; report in build/bench/)
#
# Layering (enforced by include paths and link lines below, and inside libvirt-backend/ by the
# LAYERS table, checked by `make layering` as part of `make unit`):
#   runtime-cli -> libvirt-backend -> guest/protocol -> oci;  guest/agent -> guest/protocol -> oci

CXX       ?= g++
CXXFLAGS  ?= -O2 -g
CXXFLAGS  += -std=c++20 -Wall -Wextra -Werror -MMD -MP
# CPPFLAGS and LDFLAGS are empty here; package builds pass dpkg-buildflags' (hardening) in them.
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib/runvirt
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
GUESTDIR  ?= /var/lib/runvirt/guest
B         := build

# The one version number; packaging/deb/debian/changelog and packaging/rpm/runvirt.spec must
# agree (`make deb` and `make rpm` check). A package build has no .git: it reads .commit.
VERSION   := 0.1.0
ifeq ($(origin COMMIT),undefined)
COMMIT    := $(shell cat .commit 2>/dev/null || git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
endif

OCI_SRC     := $(wildcard oci/src/*.cpp)
PROTO_SRC   := $(wildcard guest/protocol/src/*.cpp)
AGENT_SRC   := $(wildcard guest/agent/*.cpp)
# libvirt-backend/ is one folder per process and trust zone (libvirt-backend/README.md).
BACKEND_ZONES := common vm storage network state cgroups teardown control monitor lifecycle admin
BACKEND_SRC := $(foreach zone,$(BACKEND_ZONES),$(wildcard libvirt-backend/$(zone)/*.cpp))
CLI_SRC     := $(filter-out runtime-cli/main.cpp,$(wildcard runtime-cli/*.cpp runtime-cli/*/*.cpp))
UNIT_SRC    := $(wildcard tests/unit/*.cpp tests/unit/*/*.cpp tests/unit/*/*/*.cpp tests/fakes/*.cpp)
INTEG_SRC   := $(wildcard tests/integration/*.cpp)
DOCKER_SRC  := $(wildcard tests/docker/*.cpp)
FAULT_SRC   := $(wildcard tests/faults/*.cpp) tests/integration/harness.cpp
SUPPORT_SRC := $(wildcard tests/support/*.cpp)

obj = $(patsubst %.cpp,$(B)/obj/%.o,$(1))

INC_OCI     := -Ioci/include
INC_PROTO   := $(INC_OCI) -Iguest/protocol/include
INC_BACKEND := $(INC_PROTO) -Ilibvirt-backend
INC_CLI     := $(INC_BACKEND) -Iruntime-cli

$(call obj,$(OCI_SRC)):     INCLUDES := $(INC_OCI)
$(call obj,$(PROTO_SRC)):   INCLUDES := $(INC_PROTO)
$(call obj,$(AGENT_SRC)):   INCLUDES := $(INC_PROTO) -Iguest/agent
$(call obj,$(BACKEND_SRC)): INCLUDES := $(INC_BACKEND)
$(call obj,$(CLI_SRC) runtime-cli/main.cpp): INCLUDES := $(INC_CLI)
$(call obj,$(UNIT_SRC)):    INCLUDES := $(INC_CLI) -Iguest/agent -Itests
$(call obj,$(INTEG_SRC) $(DOCKER_SRC) $(FAULT_SRC) $(SUPPORT_SRC)): INCLUDES := $(INC_CLI) -Itests

LIBOCI     := $(B)/liboci.a
LIBPROTO   := $(B)/libagentproto.a
LIBBACKEND := $(B)/librunvirt.a
LIBCLI     := $(B)/libruntimecli.a
HOST_LIBS  := -lvirt -lseccomp -lboost_program_options

RUNVIRT := $(B)/runvirt
AGENT   := $(B)/runvirt-agent
UNIT    := $(B)/unit-tests
INTEG   := $(B)/integration-tests
DOCKERT := $(B)/docker-tests
FAULTT  := $(B)/fault-tests
GUEST_IMAGE := $(B)/guest/initrd.img
GUEST_KERNEL := $(B)/guest-kernel/vmlinux

.PHONY: all deps build guest guest-kernel unit integration docker-tests check demo golden install install-package uninstall \
        daemons clean indent deb rpm package-test bench bench-quick layering fault-tests unit-asan fuzz
all: build
build: $(RUNVIRT) $(AGENT) $(GUEST_KERNEL) $(UNIT) $(INTEG) $(DOCKERT) $(FAULTT)

$(B)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CPPFLAGS) $(CXXFLAGS) $(INCLUDES) -c $< -o $@

# `runvirt --version` and `runvirt env`: rebuilt when the version or the commit changes.
VERSION_STAMP := $(B)/version-$(VERSION)-$(COMMIT).stamp
$(VERSION_STAMP):
	@mkdir -p $(B) && rm -f $(B)/version-*.stamp && touch $@
$(B)/obj/runtime-cli/commands/common.o: $(VERSION_STAMP)
$(B)/obj/runtime-cli/commands/common.o: CPPFLAGS += -DRUNVIRT_VERSION='"$(VERSION)"' -DRUNVIRT_COMMIT='"$(COMMIT)"'

$(LIBOCI): $(call obj,$(OCI_SRC))
$(LIBPROTO): $(call obj,$(PROTO_SRC))
$(LIBBACKEND): $(call obj,$(BACKEND_SRC))
$(LIBCLI): $(call obj,$(CLI_SRC))
$(B)/%.a:
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(RUNVIRT): $(call obj,runtime-cli/main.cpp) $(LIBCLI) $(LIBBACKEND) $(LIBPROTO) $(LIBOCI)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(HOST_LIBS)

# The agent is PID 1 of the guest's initramfs: fully static, no NSS, no libseccomp.
$(AGENT): $(call obj,$(AGENT_SRC)) $(LIBPROTO) $(LIBOCI)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -static -o $@ $^

# Objects before archives: the agent's objects need symbols from libagentproto and liboci.
$(UNIT): $(call obj,$(UNIT_SRC)) $(filter-out $(B)/obj/guest/agent/main.o,$(call obj,$(AGENT_SRC))) $(LIBCLI) $(LIBBACKEND) $(LIBPROTO) $(LIBOCI)
	$(CXX) $(CXXFLAGS) $(LDFLAGS) -o $@ $^ $(HOST_LIBS) -lgtest -lgtest_main -pthread

# Integration tests only drive the runvirt binary: they link no runvirt library.
$(INTEG): $(call obj,$(INTEG_SRC) $(SUPPORT_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread

# Docker tests drive the docker CLI only.
$(DOCKERT): $(call obj,$(DOCKER_SRC) $(SUPPORT_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread

# Fault-injection tests drive the daemons, docker and the runvirt binary.
$(FAULTT): $(call obj,$(FAULT_SRC) $(SUPPORT_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread

# The runvirt guest kernel from Debian's linux-source-6.1 (~4 min; the script skips an
# up-to-date build, so a copied build/guest-kernel saves the package builds from repeating it).
guest-kernel: $(GUEST_KERNEL)
$(GUEST_KERNEL): guest/kernel/build-guest-kernel.sh guest/kernel/runvirt-guest.config
	bash guest/kernel/build-guest-kernel.sh --out $(B)/guest-kernel

# Guest image for the build tree (tests use it through build/test-config.toml).
guest: $(GUEST_IMAGE)
$(GUEST_IMAGE): $(AGENT) $(GUEST_KERNEL) guest/image/build-guest-image.sh
	bash guest/image/build-guest-image.sh --agent $(AGENT) --vmlinux $(GUEST_KERNEL) --out $(B)/guest

deps:
	bash scripts/install-deps.sh

daemons:
	bash scripts/start-daemons.sh

# What each folder may include besides its own headers ("runvirt" = oci/ and guest/protocol/).
# Inside libvirt-backend/, a zone includes only the zones below it (libvirt-backend/README.md).
LAYERS := oci:runvirt guest/protocol:runvirt guest/agent:runvirt \
  libvirt-backend/common:runvirt \
  libvirt-backend/vm:runvirt,common \
  libvirt-backend/storage:runvirt,common,vm \
  libvirt-backend/network:runvirt,common,vm \
  libvirt-backend/state:runvirt,common,storage,network \
  libvirt-backend/cgroups:runvirt,common,vm,storage,state \
  libvirt-backend/teardown:runvirt,common,vm,storage,network,cgroups \
  libvirt-backend/control:runvirt,common \
  libvirt-backend/monitor:runvirt,common,vm,storage,network,state,cgroups,teardown,control \
  libvirt-backend/lifecycle:runvirt,common,vm,storage,network,state,cgroups,teardown,control,monitor \
  libvirt-backend/admin:runvirt,common,vm \
  runtime-cli:runvirt,commands,options,common,vm,lifecycle,admin,monitor
layering:
	LIBVIRT_FILES=libvirt-backend/vm/libvirt_hypervisor.cpp SECCOMP_FILES=libvirt-backend/vm/seccomp_compile.cpp \
	BOOST_FILES=runtime-cli/options/parse.cpp bash scripts/check-layering.sh $(LAYERS)

unit: $(UNIT) $(AGENT) layering
	$(UNIT)
	@# The agent is PID 1 of an initramfs without libc: it must stay fully static.
	@if readelf -l $(AGENT) | grep -q INTERP; then echo "$(AGENT) is not static" >&2; exit 1; fi

# The same unit tests under ASan+UBSan, from their own objects in $(B)/asan. With g++: clang 14
# cannot capture structured bindings in lambdas (C++20), which the tree does. Flags go in through
# the environment so the Makefile's own (-std, -W..., -MMD) are still appended to them.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
unit-asan:
	@# g++ 12 warns falsely (maybe-uninitialized in std::regex's std::function) under ASan.
	CXX=g++ CXXFLAGS='$(ASAN_FLAGS) -Wno-maybe-uninitialized' LDFLAGS='-fsanitize=address,undefined' $(MAKE) B=$(B)/asan $(B)/asan/unit-tests
	$(B)/asan/unit-tests

# Neither is in `check` yet: runtime_config_fuzz still finds toml++ 3.3 aborts and undefined
# behaviour, and the g++ ASan build has not been seen through to a passing run.
# libFuzzer targets, one per parser of untrusted input (tests/fuzz/). Their library objects are
# compiled again with coverage instrumentation and ASan+UBSan in $(B)/fuzz, never in $(B)/obj;
# a target takes from the archive only what it calls.
FUZZ_SECONDS ?= 60
FZ           := $(B)/fuzz
FUZZ_TARGETS := $(basename $(notdir $(wildcard tests/fuzz/*_fuzz.cpp)))
FUZZ_LIB_SRC := $(OCI_SRC) $(PROTO_SRC) \
  $(foreach zone,common storage network state control,$(wildcard libvirt-backend/$(zone)/*.cpp))
fuzzobj = $(patsubst %.cpp,$(FZ)/obj/%.o,$(1))

$(FZ)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	clang++ $(ASAN_FLAGS) -fsanitize=fuzzer-no-link -std=c++20 -Wall -Wextra -Werror -MMD -MP $(INC_CLI) -c $< -o $@

$(FZ)/libfuzzed.a: $(call fuzzobj,$(FUZZ_LIB_SRC))

# Kept, so that a second `make fuzz` does not compile them again.
.SECONDARY: $(call fuzzobj,$(wildcard tests/fuzz/*_fuzz.cpp))
$(FZ)/%_fuzz: $(FZ)/obj/tests/fuzz/%_fuzz.o $(FZ)/libfuzzed.a
	clang++ $(ASAN_FLAGS) -fsanitize=fuzzer -o $@ $^ $(HOST_LIBS)

# Each target runs on its corpus in $(FZ)/corpus (the seeds copied in, plus what earlier runs
# found): generated inputs never land in tests/. A crash, a sanitizer report, an uncaught
# exception or a timeout fails the run and leaves the input in $(FZ)/artifacts/<target>/.
fuzz: $(addprefix $(FZ)/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FZ)/corpus/$$t $(FZ)/artifacts/$$t; \
	  cp tests/fuzz/corpus/$$t/* $(FZ)/corpus/$$t/; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s (log: $(FZ)/$$t.log)"; \
	  if ! $(FZ)/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -artifact_prefix=$(FZ)/artifacts/$$t/ \
	       $(FZ)/corpus/$$t > $(FZ)/$$t.log 2>&1; then \
	    tail -n 60 $(FZ)/$$t.log >&2; echo "fuzz: $$t FAILED" >&2; exit 1; \
	  fi; \
	  grep -E '^(#[0-9]+.*DONE|Done [0-9]+ runs)' $(FZ)/$$t.log | sed "s|^|fuzz: $$t: |"; \
	done

golden: $(UNIT)
	UPDATE_GOLDEN=1 $(UNIT) --gtest_filter='*Golden*'

integration: $(RUNVIRT) $(INTEG) $(GUEST_IMAGE)
	bash tests/integration/run.sh

# Needs `make install` first: Docker runs the installed runvirt.
docker-tests: $(DOCKERT)
	bash tests/docker/run.sh

# Stops, kills and restarts libvirtd, virtlogd and dockerd (and puts them back); needs `make install`.
fault-tests: $(RUNVIRT) $(FAULTT) $(GUEST_IMAGE)
	bash tests/faults/run.sh

install: $(RUNVIRT) $(AGENT) $(GUEST_KERNEL)
	install -D -m 0755 $(RUNVIRT) $(DESTDIR)$(PREFIX)/bin/runvirt
	install -D -m 0755 $(AGENT) $(DESTDIR)$(LIBDIR)/runvirt-agent
	@# Not executable: package strippers would remove its notes, the PVH entry among them.
	install -D -m 0644 $(GUEST_KERNEL) $(DESTDIR)$(LIBDIR)/guest-kernel/vmlinux
	install -D -m 0644 $(B)/guest-kernel/kernel-version $(DESTDIR)$(LIBDIR)/guest-kernel/kernel-version
	install -D -m 0755 guest/image/build-guest-image.sh $(DESTDIR)$(LIBDIR)/build-guest-image
	install -D -m 0644 packaging/runvirt.8 $(DESTDIR)$(MANDIR)/man8/runvirt.8
	[ -n "$(DESTDIR)" ] || $(LIBDIR)/build-guest-image --agent $(LIBDIR)/runvirt-agent --out $(GUESTDIR)

# What the deb and the rpm install (debian/rules and runvirt.spec call this, PREFIX=/usr): `install`
# plus the configuration file, the kernel hook and the maintainer scripts' shared helper.
SUBST = sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@GUESTDIR@|$(GUESTDIR)|g'
install-package: install
	@[ -n "$(DESTDIR)" ] || { echo "install-package is for package builds: set DESTDIR" >&2; exit 1; }
	install -D -m 0644 packaging/config.toml $(DESTDIR)$(SYSCONFDIR)/runvirt/config.toml
	install -d $(DESTDIR)$(SYSCONFDIR)/kernel/postinst.d
	$(SUBST) packaging/kernel-hook.sh > $(DESTDIR)$(SYSCONFDIR)/kernel/postinst.d/zz-runvirt
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/kernel/postinst.d/zz-runvirt
	$(SUBST) packaging/host-setup.sh > $(DESTDIR)$(LIBDIR)/host-setup
	chmod 0755 $(DESTDIR)$(LIBDIR)/host-setup

uninstall:
	rm -f $(PREFIX)/bin/runvirt $(MANDIR)/man8/runvirt.8
	rm -rf $(LIBDIR) $(GUESTDIR)

# Packages, built from a copy of the source tree in build/deb and build/rpm (never in place);
# rebuilt when a source file changes.
PACKAGE_SOURCES := $(shell find Makefile README.md oci guest libvirt-backend runtime-cli packaging scripts tests -type f 2>/dev/null)
DEB := $(B)/deb/runvirt_$(VERSION)_amd64.deb
RPM := $(B)/rpm/RPMS/x86_64/runvirt-$(VERSION)-1.x86_64.rpm

deb: $(DEB)
$(DEB): $(PACKAGE_SOURCES) $(GUEST_KERNEL)
	bash packaging/deb/build.sh $(VERSION) $(COMMIT)

rpm: $(RPM)
$(RPM): $(PACKAGE_SOURCES) $(GUEST_KERNEL)
	bash packaging/rpm/build.sh $(VERSION) $(COMMIT)

# Needs the daemons and the development install (`make install`, whose Docker registration it
# restores at the end): install, check, docker run --runtime=kata, purge; rpm contents vs the deb.
package-test: $(DEB) $(RPM)
	bash tests/package/run.sh $(DEB) $(RPM)

# The two set-up commands of the README.
demo:
	bash scripts/install-deps.sh
	$(MAKE) -j$$(nproc) build
	$(MAKE) install
	bash scripts/start-daemons.sh
	bash scripts/demo.sh

check:
	bash scripts/install-deps.sh
	$(MAKE) -j$$(nproc) build
	$(MAKE) install
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) docker-tests
	$(MAKE) fault-tests
	$(MAKE) package-test
	@# The README's front door: `make demo` must keep working (it once broke unnoticed).
	bash scripts/demo.sh

# Benchmarks of the installed runvirt (not part of `check`): bench/README.md.
bench:
	bash bench/run.sh

bench-quick:
	bash bench/run.sh --quick

indent:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj $(FZ)/obj -name '*.d' 2>/dev/null)
