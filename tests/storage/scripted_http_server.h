// ScriptedHttpServer: a test double that answers HTTP requests on 127.0.0.1 with a
// fixed script of responses, and records what it received.
//
// Each connection carries one request (every response says Connection: close).
// Response i of the script answers request i; when the script runs out, its last
// response answers every further request ("500 forever"). Requests are served one
// at a time on a background thread, stopped by the destructor.
//
// Thread safety: Requests() and port() may be called from any thread.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace furrow::testing {

struct ScriptedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Read the request but never answer it (until the client gives up).
  bool hang = false;
};

struct RecordedRequest {
  std::string method;
  std::string target;  // path and query, as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string raw_head;  // request line and headers, as received
};

class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(std::vector<ScriptedResponse> script);
  ~ScriptedHttpServer();
  ScriptedHttpServer(const ScriptedHttpServer&) = delete;
  ScriptedHttpServer& operator=(const ScriptedHttpServer&) = delete;

  int port() const { return port_; }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<RecordedRequest> Requests() const;

 private:
  void Serve();
  void Handle(int fd);

  std::vector<ScriptedResponse> script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace furrow::testing
