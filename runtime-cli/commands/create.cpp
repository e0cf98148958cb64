#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "runvirt/error.hpp"

namespace runvirt::cli {

namespace {

backend::CreateOptions toBackend(const CreateOptions& o) {
  return {o.id, o.bundle, o.pidFile, o.consoleSocket};
}

}  // namespace

int createCommand(const GlobalOptions& global, const Args& args) {
  CreateOptions options = parseCreate(args);
  withContext("runvirt create failed", [&] { makeRuntime(global).create(toBackend(options)); });
  return 0;
}

int runCommand(const GlobalOptions& global, const Args& args) {
  RunOptions options = parseRun(args);
  return withContext("runvirt run failed", [&] {
    return makeRuntime(global).run(toBackend(options.create), options.detach, options.keep);
  });
}

int startCommand(const GlobalOptions& global, const Args& args) {
  makeRuntime(global).start(parseIdOnly("start", args).id);
  return 0;
}

}  // namespace runvirt::cli
