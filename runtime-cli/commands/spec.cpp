#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "commands/commands.hpp"
#include "options/parse.hpp"
#include "common/files.hpp"
#include "runvirt/error.hpp"
#include "runvirt/oci/spec_json.hpp"

namespace runvirt::cli {

// `runvirt spec`: a starting config.json, as `runc spec` writes one.
int specCommand(const GlobalOptions&, const Args& args) {
  SpecOptions options = parseSpecCommand(args);
  std::string path = options.bundle + "/config.json";
  if (backend::pathExists(path)) throw Error("File config.json exists. Remove it first.");
  backend::writeFileAtomic(path, oci::toJson(oci::defaultSpec()).dump(1, '\t') + "\n", 0644);
  return 0;
}

}  // namespace runvirt::cli
