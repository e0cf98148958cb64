// The guest side of the agent channel for unit tests: plays runvirt-agent (guest/agent/) on one end
// of a socketpair, or listening on a unix socket as QEMU's chardev does, in its own thread. It says
// hello, takes the host's hello, answers every request with success unless scripted otherwise,
// sends a process's output and exit when told (or right after start/exec), and records what the
// host sent. Misbehaviour for the host's error paths: no hello, a wrong hello, a flood of hellos,
// a channel closed in the middle of a call, bytes that are not frames.
//
// Everything is thread-safe. What the fake sends is queued and written, in order, by its thread,
// so a test never blocks on a host that does not read.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runvirt/agent/framing.hpp"
#include "runvirt/agent/protocol.hpp"
#include "runvirt/unique_fd.hpp"

namespace runvirt::test {

class FakeAgent {
 public:
  struct Options {
    agent::Hello hello =
        hostHello();       // said as soon as a host is connected (a wrong one: change it)
    bool sayHello = true;  // false: never says hello (a guest that does not boot)
    // Hellos repeated right after the first: a hostile guest growing the host's memory.
    std::size_t repeatedHellos = 0;
  };

  // How the fake answers one type of request.
  struct Answer {
    enum class Kind { Success, Error, Silence, Close, Raw };
    Kind kind = Kind::Success;
    std::string text;  // Error: the message; Raw: the bytes

    static Answer success() { return {}; }
    static Answer error(std::string message) { return {Kind::Error, std::move(message)}; }
    static Answer silence() { return {Kind::Silence, {}}; }  // never answers: a hung guest
    static Answer close() {
      return {Kind::Close, {}};
    }  // closes the channel: a guest dying mid-call
    static Answer raw(std::string bytes) {
      return {Kind::Raw, std::move(bytes)};
    }  // instead of a response
  };

  // What a process does once start_container (process 0) or exec_process started it.
  struct ProcessScript {
    std::string out;              // its stdout, sent right after the response
    std::string err;              // its stderr, after the stdout
    std::optional<int> exitCode;  // then it exits with this code,
    int killedBy = 0;             // or is killed by this signal; neither: it runs until sendExit()
    bool diesOfSignals = false;  // while it runs, a signal_process for it kills it with that signal
  };

  // What the host sent, in order.
  struct Recorded {
    bool hostConnected = false;
    bool channelClosed = false;  // by either side
    int helloAcks = 0;
    std::vector<agent::Request> requests;
    std::map<agent::ProcessId, std::string> stdinBytes;
    // What the host sent that the real agent would refuse (malformed, out of order).
    std::vector<std::string> protocolErrors;

    std::vector<std::string> requestTypes() const;  // "create_container", ... (agent::requestName)
  };

  // Serves one end of a socketpair; takeHostEnd() is the other (for AgentClient::adopt).
  FakeAgent() : FakeAgent(Options{}) {}
  explicit FakeAgent(Options options);
  // Listens on `socketPath` (replacing a stale socket there) and serves the first host that
  // connects, as QEMU's chardev in server mode does.
  explicit FakeAgent(const std::string& socketPath) : FakeAgent(socketPath, Options{}) {}
  FakeAgent(const std::string& socketPath, Options options);
  // Stops the thread, closes the channel and removes the socket it listened on.
  ~FakeAgent();
  FakeAgent(const FakeAgent&) = delete;
  FakeAgent& operator=(const FakeAgent&) = delete;

  // The host's end of the socketpair (once; invalid in listening mode).
  UniqueFd takeHostEnd();

  // A hello the host accepts: this protocol version, the host's architecture (uname -m).
  static agent::Hello hostHello();

  // ---- scripting: applies to requests that arrive afterwards ----
  // `requestType` as agent::requestName gives it: "create_container", "start_container", ...
  void answer(const std::string& requestType, Answer answer);
  void onStart(ProcessScript script);
  void onExec(ProcessScript script);  // every exec'd process

  // ---- on demand: queued behind whatever the fake queued before ----
  void sendOutput(agent::ProcessId process, agent::Stream stream, std::string bytes);
  void sendExit(agent::ProcessId process, int code);
  void sendKilled(agent::ProcessId process, int signal);
  void sendMessage(const agent::GuestMessage& message);  // e.g. a response to an id never asked
  void sendRaw(std::string bytes);
  // The VM is gone: the channel closes once what was queued before is written.
  void closeChannel();

  // Bytes a broken guest sends, for sendRaw() and Answer::raw().
  static std::string oversizedFrameHeader();  // announces agent::kMaxFramePayload + 1 bytes
  static std::string unknownFrameType();      // a whole frame of type 7
  static std::string malformedJson();         // a message frame that is not JSON

  // ---- what it saw ----
  Recorded recorded() const;
  // Waits until `condition` holds for what was recorded; false when `timeoutSeconds` passed.
  bool waitUntil(const std::function<bool(const Recorded&)>& condition,
                 double timeoutSeconds = 5) const;
  bool waitForRequests(std::size_t count, double timeoutSeconds = 5) const;

 private:
  void start();
  void serve();
  bool acceptHost();
  void exchange();
  bool writeQueued();
  bool readFromHost();
  // The handlers below run on the fake's thread with mutex_ held.
  void handleFrame(const agent::Frame& frame);
  void handleRequest(const agent::Request& request);
  void answerSuccess(const agent::Request& request);
  void runScript(agent::ProcessId process, const ProcessScript& script);
  void deliverSignal(const agent::SignalProcess& signal);
  void queueMessage(const agent::GuestMessage& message);
  void queueOutput(agent::ProcessId process, agent::Stream stream, std::string_view bytes);
  void queueExit(const agent::ProcessExited& exited);
  void queue(std::string bytes);  // and wakes the thread
  void wake() const;
  void drainWakes() const;

  Options options_;
  std::string socketPath_;  // listening mode
  UniqueFd listener_;
  UniqueFd hostEnd_;  // socketpair mode, until taken
  UniqueFd channel_;  // the guest end; used by the fake's thread only
  UniqueFd wakeFd_;   // eventfd: something was queued, or stop
  agent::FrameDecoder decoder_;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool stop_ = false;
  bool closing_ = false;
  std::string outbox_;
  std::map<std::string, Answer> answers_;
  ProcessScript startScript_, execScript_;
  std::map<agent::ProcessId, ProcessScript> running_;
  Recorded recorded_;

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace runvirt::test
