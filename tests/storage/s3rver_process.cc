#include "s3rver_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

extern char** environ;

namespace furrow::testing {

namespace fs = std::filesystem;

namespace {

fs::path SourceDir() {
  const char* dir = std::getenv("FURROW_SOURCE_DIR");
  return dir != nullptr && *dir != '\0' ? fs::path(dir) : fs::current_path();
}

}  // namespace

S3rverProcess::S3rverProcess() {
  std::string pattern = (fs::temp_directory_path() / "furrow-s3rver-XXXXXX").string();
  if (::mkdtemp(pattern.data()) != nullptr) dir_ = pattern;
}

S3rverProcess::~S3rverProcess() {
  Stop();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

bool S3rverProcess::Start(const std::vector<std::string>& buckets, int port,
                          const std::string& service_endpoint) {
  if (dir_.empty()) {
    error_ = "no temporary directory";
    return false;
  }
  fs::path binary = SourceDir() / "tests/npm/node_modules/.bin/s3rver";
  fs::path data = dir_ / "data";
  fs::path out = dir_ / "stdout.log";
  fs::create_directories(data);
  std::error_code ec;
  fs::remove(out, ec);

  std::vector<std::string> args = {binary.string(), "-d",         data.string(), "-a",
                                   "127.0.0.1",     "-p",         std::to_string(port),
                                   "--silent",      "--service-endpoint", service_endpoint};
  for (const std::string& bucket : buckets) {
    args.push_back("--configure-bucket");
    args.push_back(bucket);
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  // s3rver's ListObjectsV2 continuation tokens use DES, which Node 17+ (OpenSSL 3)
  // only offers through the legacy provider.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::string_view(*e).rfind("NODE_OPTIONS=", 0) != 0) env_strings.emplace_back(*e);
  }
  env_strings.emplace_back("NODE_OPTIONS=--openssl-legacy-provider");
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    error_ = "cannot start " + binary.string() + " (run scripts/deps)";
    return false;
  }
  // Wait for "S3rver listening on 127.0.0.1:PORT": readiness, not correctness.
  const std::string marker = "listening on 127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    size_t at = s.find(marker);
    if (at != std::string::npos && s.find('\n', at) != std::string::npos) {
      port_ = std::atoi(s.c_str() + at + marker.size());
      return port_ > 0;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error_ = "s3rver exited: " + s;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  error_ = "s3rver did not announce its port";
  Stop();
  return false;
}

void S3rverProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

S3rverProcess::CommandResult S3rverProcess::Aws(const std::string& args) const {
  std::string command =
      "env AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 "
      "AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_REQUEST_CHECKSUM_CALCULATION=when_required "
      "AWS_RESPONSE_CHECKSUM_VALIDATION=when_required AWS_PAGER= "
      "aws --endpoint-url " + Endpoint() + " " + args + " 2>&1";
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace furrow::testing
