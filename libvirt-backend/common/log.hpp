// runc-compatible logging: `--log FILE --log-format text|json --debug`.
// JSON lines carry level, msg and time, so containerd's shim can surface the last error.
#pragma once

#include <string>
#include <string_view>

namespace runvirt::log {

enum class Level { Debug, Info, Warning, Error };
enum class Format { Text, Json };

struct Options {
  std::string path;  // empty = stderr
  Format format = Format::Text;
  bool debug = false;
};

// Called once per process (the CLI and the monitor); later calls replace the sink.
void configure(const Options& options);
const Options& options();
// Lines below `minimum` are dropped (config.toml's log_level); debug lines still need --debug.
void setMinimumLevel(Level minimum);
// True when lines go to a file (then the CLI also prints its final error on stderr, as runc does).
bool toFile();

void write(Level level, std::string_view message);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

// "2026-11-23T14:42:25.123456789Z": RFC 3339 UTC with nanoseconds (runc's `created`).
std::string nowRfc3339Nano();
// Seconds since an arbitrary fixed point (CLOCK_MONOTONIC), for phase timings.
double monotonicSeconds();

}  // namespace runvirt::log
