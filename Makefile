# runvirt: a runc-compatible OCI runtime that runs every container in its own libvirt VM.
#
#   make            build runvirt, the static guest agent and the tests
#   make demo       install deps, build, install, start daemons, run a busybox bundle in a VM
#   make check      install deps, build, install, start daemons, run every test
#   make unit       unit and golden tests only (no daemons needed)
#   make golden     rewrite golden files from the current code (review the diff!)
#   make install    install into $(DESTDIR)$(PREFIX) and build the guest image
#
# Layering (enforced by include paths and link lines below):
#   runtime-cli -> libvirt-backend -> guest/protocol -> oci;  guest/agent -> guest/protocol -> oci

CXX       ?= g++
CXXFLAGS  ?= -O2 -g
CXXFLAGS  += -std=c++20 -Wall -Wextra -Werror -MMD -MP
PREFIX    ?= /usr/local
LIBDIR    ?= $(PREFIX)/lib/runvirt
GUESTDIR  ?= /var/lib/runvirt/guest
B         := build

OCI_SRC     := $(wildcard oci/src/*.cpp)
PROTO_SRC   := $(wildcard guest/protocol/src/*.cpp)
AGENT_SRC   := $(wildcard guest/agent/*.cpp)
BACKEND_SRC := $(wildcard libvirt-backend/src/*.cpp)
CLI_SRC     := $(filter-out runtime-cli/main.cpp,$(wildcard runtime-cli/*.cpp runtime-cli/*/*.cpp))
UNIT_SRC    := $(wildcard tests/unit/*.cpp tests/unit/*/*.cpp tests/fakes/*.cpp)
INTEG_SRC   := $(wildcard tests/integration/*.cpp)
DOCKER_SRC  := $(wildcard tests/docker/*.cpp)
SUPPORT_SRC := $(wildcard tests/support/*.cpp)

obj = $(patsubst %.cpp,$(B)/obj/%.o,$(1))

INC_OCI     := -Ioci/include
INC_PROTO   := $(INC_OCI) -Iguest/protocol/include
INC_BACKEND := $(INC_PROTO) -Ilibvirt-backend/include
INC_CLI     := $(INC_BACKEND) -Iruntime-cli

$(call obj,$(OCI_SRC)):     INCLUDES := $(INC_OCI)
$(call obj,$(PROTO_SRC)):   INCLUDES := $(INC_PROTO)
$(call obj,$(AGENT_SRC)):   INCLUDES := $(INC_PROTO) -Iguest/agent
$(call obj,$(BACKEND_SRC)): INCLUDES := $(INC_BACKEND)
$(call obj,$(CLI_SRC) runtime-cli/main.cpp): INCLUDES := $(INC_CLI)
$(call obj,$(UNIT_SRC)):    INCLUDES := $(INC_CLI) -Iguest/agent -Itests
$(call obj,$(INTEG_SRC) $(DOCKER_SRC) $(SUPPORT_SRC)): INCLUDES := $(INC_CLI) -Itests

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
GUEST_IMAGE := $(B)/guest/initrd.img

.PHONY: all deps build guest unit integration docker-tests check demo golden install uninstall daemons clean indent
all: build
build: $(RUNVIRT) $(AGENT) $(UNIT) $(INTEG) $(DOCKERT)

$(B)/obj/%.o: %.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) $(INCLUDES) -c $< -o $@

$(LIBOCI): $(call obj,$(OCI_SRC))
$(LIBPROTO): $(call obj,$(PROTO_SRC))
$(LIBBACKEND): $(call obj,$(BACKEND_SRC))
$(LIBCLI): $(call obj,$(CLI_SRC))
$(B)/%.a:
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(RUNVIRT): $(call obj,runtime-cli/main.cpp) $(LIBCLI) $(LIBBACKEND) $(LIBPROTO) $(LIBOCI)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(HOST_LIBS)

# The agent is PID 1 of the guest's initramfs: fully static, no NSS, no libseccomp.
$(AGENT): $(call obj,$(AGENT_SRC)) $(LIBPROTO) $(LIBOCI)
	$(CXX) $(CXXFLAGS) -static -o $@ $^

# Objects before archives: the agent's objects need symbols from libagentproto and liboci.
$(UNIT): $(call obj,$(UNIT_SRC)) $(filter-out $(B)/obj/guest/agent/main.o,$(call obj,$(AGENT_SRC))) $(LIBCLI) $(LIBBACKEND) $(LIBPROTO) $(LIBOCI)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(HOST_LIBS) -lgtest -lgtest_main -pthread

# Integration tests only drive the runvirt binary: they link no runvirt library.
$(INTEG): $(call obj,$(INTEG_SRC) $(SUPPORT_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread

# Docker tests drive the docker CLI only.
$(DOCKERT): $(call obj,$(DOCKER_SRC) $(SUPPORT_SRC))
	$(CXX) $(CXXFLAGS) -o $@ $^ -lgtest -lgtest_main -pthread

# Guest image for the build tree (tests use it through build/test-config.toml).
guest: $(GUEST_IMAGE)
$(GUEST_IMAGE): $(AGENT) guest/image/build-guest-image.sh
	bash guest/image/build-guest-image.sh --agent $(AGENT) --out $(B)/guest

deps:
	bash scripts/install-deps.sh

daemons:
	bash scripts/start-daemons.sh

unit: $(UNIT) $(AGENT)
	$(UNIT)
	@# The agent is PID 1 of an initramfs without libc: it must stay fully static.
	@if readelf -l $(AGENT) | grep -q INTERP; then echo "$(AGENT) is not static" >&2; exit 1; fi

golden: $(UNIT)
	UPDATE_GOLDEN=1 $(UNIT) --gtest_filter='*Golden*'

integration: $(RUNVIRT) $(INTEG) $(GUEST_IMAGE)
	bash tests/integration/run.sh

# Needs `make install` first: Docker runs the installed runvirt.
docker-tests: $(DOCKERT)
	bash tests/docker/run.sh

install: $(RUNVIRT) $(AGENT)
	install -D -m 0755 $(RUNVIRT) $(DESTDIR)$(PREFIX)/bin/runvirt
	install -D -m 0755 $(AGENT) $(DESTDIR)$(LIBDIR)/runvirt-agent
	install -D -m 0755 guest/image/build-guest-image.sh $(DESTDIR)$(LIBDIR)/build-guest-image
	[ -n "$(DESTDIR)" ] || $(LIBDIR)/build-guest-image --agent $(LIBDIR)/runvirt-agent --out $(GUESTDIR)

uninstall:
	rm -f $(PREFIX)/bin/runvirt
	rm -rf $(LIBDIR) $(GUESTDIR)

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

indent:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
