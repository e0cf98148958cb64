// Whole-file reads for host and guest alike: one read loop, errors that name the path.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace runvirt {

// The whole file. Throws Error("open <path>: <strerror>") (ErrorKind::NotFound when it does not
// exist) or Error("read <path>: <strerror>").
std::string readFile(const std::string& path);

// std::nullopt when the file does not exist; every other failure throws as readFile() does.
std::optional<std::string> readFileIfExists(const std::string& path);

// readFile() for a file whose size is not runvirt's to choose (one a spec names): throws
// Error("read <path>: larger than <maxBytes> bytes", ErrorKind::InvalidArgument) past `maxBytes`.
std::string readFileBounded(const std::string& path, std::size_t maxBytes);

// What `fd` holds from its offset to end of file (a memfd, a file opened elsewhere); `name` is for
// errors ("read <name>: ...").
std::string readAll(int fd, const std::string& name);

}  // namespace runvirt
