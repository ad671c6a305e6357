// S3rverProcess: a real S3 implementation (s3rver from npm, installed by
// scripts/deps into tests/npm) started on 127.0.0.1 in a temporary directory for
// one test, and stopped by the destructor. Also runs the independent AWS CLI
// against it.
//
// Not thread-safe; owned by one test.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace furrow::testing {

class S3rverProcess {
 public:
  // Creates the temporary directory; Start() launches the server.
  S3rverProcess();
  ~S3rverProcess();
  S3rverProcess(const S3rverProcess&) = delete;
  S3rverProcess& operator=(const S3rverProcess&) = delete;

  // Starts s3rver with `buckets` configured, on `port` (0: a free one) and with
  // `service_endpoint` for virtual-hosted addressing. Returns false (with a
  // message in error()) if it does not announce its port within 60 s.
  bool Start(const std::vector<std::string>& buckets, int port = 0,
             const std::string& service_endpoint = "amazonaws.com");
  // Stops the server (SIGTERM, then waits); its data directory is kept for Start().
  void Stop();

  int port() const { return port_; }
  std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& error() const { return error_; }
  const std::filesystem::path& dir() const { return dir_; }

  struct CommandResult {
    int exit_code = -1;
    std::string output;  // stdout and stderr
  };
  // Runs `aws --endpoint-url ENDPOINT ARGS...` with the S3RVER credentials and
  // settings that make the AWS CLI (v1 or v2) talk to s3rver.
  CommandResult Aws(const std::string& args) const;

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string error_;
};

}  // namespace furrow::testing
