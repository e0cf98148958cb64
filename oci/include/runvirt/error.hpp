// runvirt::Error: the one error type of host and guest code.
// Context is added in front as the error travels up ("create container `x`: open `y`: No such
// file").
#pragma once

#include <cerrno>
#include <exception>
#include <string>
#include <string_view>

namespace runvirt {

// What kind of failure this is, for callers that must react differently
// (e.g. `delete` treats a missing domain as success). Messages are for people.
enum class ErrorKind {
  Failure,
  NotFound,
  AlreadyExists,
  InvalidArgument,
  NotRunning,
  Timeout,
};

class Error : public std::exception {
 public:
  explicit Error(std::string message, ErrorKind kind = ErrorKind::Failure, int errnum = 0);

  // Prepends "context: " to the message and returns *this, for rethrowing.
  Error& wrap(std::string_view context);

  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& message() const { return message_; }
  ErrorKind kind() const { return kind_; }
  int errnum() const { return errnum_; }

 private:
  std::string message_;
  ErrorKind kind_;
  int errnum_;
};

// Throws Error("<message>: <strerror(errno)>") with the current errno.
[[noreturn]] void throwErrno(std::string_view message);
[[noreturn]] void throwErrno(std::string_view message, int errnum);

// Runs f(); an Error escaping it gets `context` prepended.
template <class F>
auto withContext(std::string_view context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (Error& e) {
    e.wrap(context);
    throw;
  }
}

// "`value`": how runvirt quotes values in its own messages.
std::string quote(std::string_view value);

}  // namespace runvirt
