// Real servers for Service Ping tests, started on 127.0.0.1 on a free port in a
// temporary directory and stopped by the destructor:
//   RedisTestServer     redis-server --save '' --daemonize no
//   PostgresTestServer  initdb + pg_ctl from /usr/lib/postgresql/15/bin, run as the
//                       `postgres` user when the tests run as root (PostgreSQL
//                       refuses to run as root)
//   TestReceiver        a small HTTP/1.1 server (Boost.Beast) whose answers the test
//                       scripts and which records every request
// Test-only code (linked into tests, never into furrow). Start() errors are Statuses
// whose message says which step failed. TestReceiver is safe for concurrent use.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace furrow::ping::testing {

// A fresh temporary directory, removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int FreePort();

class RedisTestServer {
 public:
  ~RedisTestServer();
  [[nodiscard]] Status Start();
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  TempDir dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class PostgresTestServer {
 public:
  ~PostgresTestServer();
  [[nodiscard]] Status Start();
  // postgresql://furrow@127.0.0.1:PORT/postgres
  std::string url() const;
  // Runs SQL (several statements allowed) as the superuser.
  [[nodiscard]] Status Execute(const std::string& sql) const;
  int port() const { return port_; }

 private:
  [[nodiscard]] Status Run(const std::vector<std::string>& argv) const;
  std::string data_dir_;
  int port_ = 0;
  bool started_ = false;
};

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::string content_type;
  std::string body;
};

struct ScriptedResponse {
  int status = 200;
  std::string body;
};

class TestReceiver {
 public:
  using Script = std::function<ScriptedResponse(const ReceivedRequest&)>;
  explicit TestReceiver(Script script);
  ~TestReceiver();
  [[nodiscard]] Status Start();
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<ReceivedRequest> requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace furrow::ping::testing
