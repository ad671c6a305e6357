// Helpers for the collector's integration tests: a temporary directory, the furrow
// binary as a child process, and a minimal HTTP/1.1 client over loopback sockets.
//
// Not thread-safe unless stated; each test owns its objects. Errors are test
// failures reported through the return values (never exceptions).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace furrow::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The binary under test: $FURROW_BINARY, or build/src/app/furrow.
std::string FurrowBinary();

// A child process with stdout captured (stderr is inherited).
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // SIGKILLs and reaps the child if still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv[0]` with `argv`. False if fork/exec failed.
  bool Start(const std::vector<std::string>& argv);
  // Reads stdout lines until one starts with "listening on "; returns the port, or
  // nullopt if the process exits or `timeout` passes first.
  std::optional<int> WaitForListening(std::chrono::milliseconds timeout);
  void Signal(int signo);
  // Waits for exit; returns the raw wait status, or nullopt after `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffered_;
};

// Runs a command to completion; returns its exit code (or -1) and its stdout.
struct CommandResult {
  int exit_code = -1;
  std::string out;
};
CommandResult RunCommand(const std::vector<std::string>& argv);

struct HttpReply {
  int status = 0;  // 0 when no parsable response arrived (connection closed/reset)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::string> Header(const std::string& name) const;  // case-insensitive
};

// Opens a TCP connection to 127.0.0.1:port; -1 on failure. Sets a 30 s receive timeout.
int Connect(int port);
// Sends all bytes; false on error.
bool SendAll(int fd, const std::string& bytes);
// Reads one response from `fd` (Content-Length or until close). HEAD responses
// have no body: pass head=true.
HttpReply ReadReply(int fd, bool head = false);

// One request on a fresh connection with "Connection: close".
HttpReply Http(int port, const std::string& method, const std::string& target,
               const std::vector<std::pair<std::string, std::string>>& headers = {},
               const std::string& body = "");

// Sends raw bytes on a fresh connection and reads whatever response comes back.
HttpReply RawHttp(int port, const std::string& bytes);

// The value of a Prometheus sample line `name{labels} value` in `metrics`
// (labels as rendered, e.g. `{route="pixel",status="200"}`), or 0 if absent.
double MetricValue(const std::string& metrics, const std::string& series);

}  // namespace furrow::testing
