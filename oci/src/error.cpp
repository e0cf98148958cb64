#include "runvirt/error.hpp"

#include <cstring>

namespace runvirt {

Error::Error(std::string message, ErrorKind kind, int errnum)
    : message_(std::move(message)), kind_(kind), errnum_(errnum) {}

Error& Error::wrap(std::string_view context) {
  message_ = std::string(context) + ": " + message_;
  return *this;
}

void throwErrno(std::string_view message, int errnum) {
  ErrorKind kind = errnum == ENOENT   ? ErrorKind::NotFound
                   : errnum == EEXIST ? ErrorKind::AlreadyExists
                                      : ErrorKind::Failure;
  throw Error(std::string(message) + ": " + std::strerror(errnum), kind, errnum);
}

void throwErrno(std::string_view message) { throwErrno(message, errno); }

std::string quote(std::string_view value) { return "`" + std::string(value) + "`"; }

}  // namespace runvirt
