#include "ping/test_servers.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

extern char** environ;

namespace furrow::ping::testing {
namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin/";

Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return ErrnoError("cannot start " + argv[0], rc);
  return pid;
}

bool CanConnect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string ReadFile(const std::string& path) {
  std::string out;
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  return out;
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "furrow-ping-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  path_ = made != nullptr ? made : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

RedisTestServer::~RedisTestServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

Status RedisTestServer::Start() {
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    FURROW_ASSIGN_OR_RETURN(pid_, Spawn({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir_.path()},
                                        dir_.path() + "/redis.log"));
    for (int i = 0; i < 500; ++i) {
      if (CanConnect(port_)) return Status::Ok();
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // port taken meanwhile: try another
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  return UnavailableError("redis-server did not start: " + ReadFile(dir_.path() + "/redis.log"));
}

std::string PostgresTestServer::url() const {
  return "postgresql://furrow@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

Status PostgresTestServer::Run(const std::vector<std::string>& argv) const {
  std::vector<std::string> full;
  if (::geteuid() == 0) full = {"runuser", "-u", "postgres", "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::string log = data_dir_ + ".log";
  FURROW_ASSIGN_OR_RETURN(pid_t pid, Spawn(full, log));
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return UnavailableError(argv[0] + " failed: " + ReadFile(log));
  }
  return Status::Ok();
}

Status PostgresTestServer::Start() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "furrow-pg-XXXXXX").string();
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) return ErrnoError("mkdtemp", errno);
  std::string base = made;
  data_dir_ = base + "/data";
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) return FailedPreconditionError("tests run as root but there is no postgres user");
    if (::chown(base.c_str(), pw->pw_uid, pw->pw_gid) != 0) return ErrnoError("chown " + base, errno);
  }
  std::string log = data_dir_ + ".log";
  FURROW_RETURN_IF_ERROR(Run({std::string(kPgBin) + "initdb", "-D", data_dir_, "-A", "trust", "-U", "furrow",
                              "-E", "UTF8", "--no-sync", "--no-instructions"}));
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    Status s = Run({std::string(kPgBin) + "pg_ctl", "-D", data_dir_, "-l", base + "/server.log", "-w", "-t", "60", "-o",
                    "-p " + std::to_string(port_) + " -k " + base +
                        " -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                    "start"});
    if (s.ok()) {
      started_ = true;
      return Status::Ok();
    }
  }
  return UnavailableError("postgres did not start: " + ReadFile(base + "/server.log"));
}

PostgresTestServer::~PostgresTestServer() {
  if (started_) {
    Run({std::string(kPgBin) + "pg_ctl", "-D", data_dir_, "-m", "immediate", "-w", "stop"}).IgnoreError();
  }
  if (!data_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(data_dir_).parent_path(), ec);
  }
}

Status PostgresTestServer::Execute(const std::string& sql) const {
  PGconn* conn = PQconnectdb(url().c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string m = PQerrorMessage(conn);
    PQfinish(conn);
    return UnavailableError("connect: " + m);
  }
  PGresult* res = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(res);
  Status status;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) status = InvalidArgumentError(PQerrorMessage(conn));
  PQclear(res);
  PQfinish(conn);
  return status;
}

struct TestReceiver::Impl {
  Script script;
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor{io};
  std::thread thread;
  mutable std::mutex mu;
  std::vector<ReceivedRequest> requests;  // guarded by mu
  bool stopping = false;                  // guarded by mu

  void Serve() {
    namespace http = boost::beast::http;
    while (true) {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket socket(io);
      acceptor.accept(socket, ec);
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stopping) return;
      }
      if (ec) continue;
      boost::beast::flat_buffer buffer;
      while (true) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        ReceivedRequest r{std::string(req.method_string()), std::string(req.target()),
                          std::string(req[http::field::content_type]), req.body()};
        {
          std::lock_guard<std::mutex> lock(mu);
          requests.push_back(r);
        }
        ScriptedResponse answer = script(r);
        http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
        res.set(http::field::content_type, "application/json");
        res.body() = answer.body;
        res.keep_alive(false);  // one request per connection: a kept-alive idle
        res.prepare_payload();  // client can never block the next one
        http::write(socket, res, ec);
        break;
      }
      socket.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    }
  }
};

TestReceiver::TestReceiver(Script script) : impl_(std::make_unique<Impl>()) { impl_->script = std::move(script); }

TestReceiver::~TestReceiver() {
  if (impl_->thread.joinable()) {
    {
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->stopping = true;
    }
    CanConnect(port_);  // wakes the blocking accept
    impl_->thread.join();
  }
}

Status TestReceiver::Start() {
  boost::system::error_code ec;
  boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(16, ec);
  if (ec) return UnavailableError("test receiver: " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->thread = std::thread([this] { impl_->Serve(); });
  return Status::Ok();
}

std::vector<ReceivedRequest> TestReceiver::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

}  // namespace furrow::ping::testing
