// oci/src/error.cpp: runvirt::Error, context wrapping, errno messages.
#include "runvirt/error.hpp"

#include <gtest/gtest.h>

namespace runvirt {
namespace {

TEST(Error, WrapPrependsContext) {
  Error e("No such file or directory");
  e.wrap("open `config.json`").wrap("create container `x`");
  EXPECT_EQ(e.message(), "create container `x`: open `config.json`: No such file or directory");
  EXPECT_STREQ(e.what(), e.message().c_str());
}

TEST(Error, WithContextWrapsOnlyErrorsAndKeepsTheKind) {
  try {
    withContext("delete container `x`",
                [] { throw Error("container does not exist", ErrorKind::NotFound); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "delete container `x`: container does not exist");
    EXPECT_EQ(e.kind(), ErrorKind::NotFound);
  }
  EXPECT_EQ(withContext("ctx", [] { return 7; }), 7);
  EXPECT_THROW(withContext("ctx", [] { throw std::runtime_error("other"); }), std::runtime_error);
}

TEST(Error, ThrowErrnoMapsKinds) {
  auto kindOf = [](int errnum) {
    try {
      throwErrno("op", errnum);
    } catch (const Error& e) {
      EXPECT_EQ(e.errnum(), errnum);
      return e.kind();
    }
    return ErrorKind::Timeout;
  };
  EXPECT_EQ(kindOf(ENOENT), ErrorKind::NotFound);
  EXPECT_EQ(kindOf(EEXIST), ErrorKind::AlreadyExists);
  EXPECT_EQ(kindOf(EACCES), ErrorKind::Failure);
}

TEST(Error, ThrowErrnoAddsStrerror) {
  errno = ENOENT;
  try {
    throwErrno("open `/nope`");
  } catch (const Error& e) {
    EXPECT_EQ(e.message(), "open `/nope`: No such file or directory");
  }
}

TEST(Error, QuoteUsesBackticks) { EXPECT_EQ(quote("a b"), "`a b`"); }

}  // namespace
}  // namespace runvirt
