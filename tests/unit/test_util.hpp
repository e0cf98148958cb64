// Helpers shared by the unit tests: temporary directories, files, golden files, errors.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>

#include "runvirt/error.hpp"

namespace runvirt::test {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/runvirt-test-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes `content` to `path`, creating the parent directories.
inline void writeFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline bool exists(const std::string& path) { return std::filesystem::exists(path); }

// The repository root: $RUNVIRT_SOURCE_DIR, else the parent of the test binary's directory
// (build/unit-tests), else the current directory.
inline std::string sourceDir() {
  if (const char* env = std::getenv("RUNVIRT_SOURCE_DIR"); env && *env) return env;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto root = exe.parent_path().parent_path();
    if (std::filesystem::is_directory(root / "tests" / "golden")) return root.string();
  }
  return std::filesystem::current_path().string();
}

inline std::string goldenPath(const std::string& relative) {
  return sourceDir() + "/tests/golden/" + relative;
}

// `make golden` sets UPDATE_GOLDEN=1: golden tests then rewrite their expected files.
inline bool updatingGolden() {
  const char* env = std::getenv("UPDATE_GOLDEN");
  return env && std::string(env) == "1";
}

// Compares `actual` byte for byte with tests/golden/<relative>, or rewrites that file.
inline void expectGolden(const std::string& relative, const std::string& actual) {
  std::string path = goldenPath(relative);
  if (updatingGolden()) {
    writeFile(path, actual);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << path << " is missing; run `make golden` to create it";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "differs from " << path << " (after review: `make golden`)";
}

// The message of the runvirt::Error that `f` throws; a test failure when it throws none.
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const runvirt::Error& e) {
    return e.message();
  }
  ADD_FAILURE() << "expected a runvirt::Error";
  return "";
}

// EXPECT_TRUE(contains(message, "part")) prints both strings when it fails.
inline ::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

// What `f` returns, run in a child process that may map only `extraBytes` more than this one:
// for reads of files that never end (/dev/zero), so that a regression fails with "out of memory"
// instead of taking the machine's. An exception becomes its what().
template <class F>
std::string inChildWithMemoryLimit(F&& f, std::size_t extraBytes = std::size_t(256) << 20) {
  int fds[2];
  if (pipe(fds) < 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string result;
    std::ifstream statm("/proc/self/statm");
    std::size_t pages = 0;
    statm >> pages;
    rlimit limit{};
    limit.rlim_cur = limit.rlim_max =
        pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) + extraBytes;
    try {
      if (setrlimit(RLIMIT_AS, &limit) < 0) throw std::runtime_error("setrlimit failed");
      result = f();
    } catch (const std::bad_alloc&) {
      result = "out of memory";
    } catch (const std::exception& e) {
      result = e.what();
    }
    [[maybe_unused]] ssize_t n = write(fds[1], result.data(), result.size());
    _exit(0);
  }
  close(fds[1]);
  std::string result;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) result.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  waitpid(pid, nullptr, 0);
  return result;
}

// The pid of a process that has exited and been reaped: nothing runs under it any more.
inline pid_t deadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// A child process that sleeps until killed; killed and reaped at the end of the test.
class SleepingChild {
 public:
  SleepingChild() {
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) pause();
    }
  }
  ~SleepingChild() {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  SleepingChild(const SleepingChild&) = delete;
  SleepingChild& operator=(const SleepingChild&) = delete;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

}  // namespace runvirt::test
