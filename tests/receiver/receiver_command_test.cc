// Drives `furrow receiver`, `furrow receiver extract` and `furrow warehouse load` as
// an operator would, with real clients: furrow's HTTP client, raw sockets for slow
// bodies, `furrow ping send` as the agent, and headless Chromium on the upload page.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "ping/test_servers.h"
#include "s3rver_process.h"

extern char** environ;

namespace furrow {
namespace {

using ping::testing::TempDir;

std::string Binary() {
  const char* b = std::getenv("FURROW_BINARY");
  return b != nullptr ? b : "build/src/app/furrow";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Today() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

pid_t Spawn(const std::vector<std::string>& args, const std::string& out, const std::string& err,
            const std::vector<std::string>& env) {
  std::vector<std::string> argv = args;
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.push_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cenv;
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  if (posix_spawnp(&pid, cargs[0], &fa, nullptr, cargs.data(), cenv.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

RunResult RunCommand(const std::string& dir, std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  static int n = 0;
  std::string out = dir + "/run" + std::to_string(++n) + ".out";
  std::string err = dir + "/run" + std::to_string(n) + ".err";
  RunResult r;
  pid_t pid = Spawn(args, out, err, env);
  if (pid < 0) return r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

RunResult RunFurrow(const std::string& dir, std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  args.insert(args.begin(), Binary());
  return RunCommand(dir, std::move(args), env);
}

// A running `furrow receiver`, stopped with SIGTERM.
class ReceiverProcess {
 public:
  ReceiverProcess(std::string dir, std::vector<std::string> extra, std::vector<std::string> env = {})
      : dir_(std::move(dir)) {
    std::vector<std::string> args = {Binary(), "receiver", "--port", "0", "--bind", "127.0.0.1", "--data-dir", dir_,
                                     "--extract-at", "off", "--load-at", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = Spawn(args, dir_ + "/receiver.out", dir_ + "/receiver.err", env);
    // Wait for the announced port (readiness, not a timing assertion).
    for (int i = 0; i < 3000 && pid_ > 0; ++i) {
      std::string out = ReadFile(dir_ + "/receiver.out");
      size_t at = out.find("listening on 127.0.0.1:");
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        port_ = std::atoi(out.c_str() + at + std::string("listening on 127.0.0.1:").size());
        break;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~ReceiverProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string stderr_text() const { return ReadFile(dir_ + "/receiver.err"); }
  // SIGTERM; returns the exit code.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

net::HttpClientResponse Post(const std::string& url, const std::string& body,
                             const std::string& content_type = "application/json") {
  net::HttpClient client;
  net::HttpClientRequest request;
  request.method = "POST";
  request.url = url;
  request.body = body;
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  auto r = client.Send(request);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : net::HttpClientResponse{};
}

net::HttpClientResponse Get(const std::string& url, const std::string& token = "") {
  net::HttpClient client;
  net::HttpClientRequest request;
  request.url = url;
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  auto r = client.Send(request);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : net::HttpClientResponse{};
}

// The first column of the first row, as text.
std::string Query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  std::string out;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

// Sends headers and part of a body, then nothing; returns the status line the
// server answers with once its body timeout expires.
std::string SlowBodyStatusLine(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "connect failed";
  }
  std::string request =
      "POST /usage_data HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"uuid\":";
  (void)!write(fd, request.data(), request.size());
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[512];
  ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n <= 0) return "no answer";
  std::string text(buf, static_cast<size_t>(n));
  return text.substr(0, text.find("\r\n"));
}

const char kToken[] = "test-token-0123456789";

TEST(ReceiverCommandTest, StoresGitlabPayloadsRejectsBadInputAndStopsOnSigterm) {
  TempDir dir;
  std::ofstream(dir.path() + "/tokens") << kToken << "\n";
  ReceiverProcess receiver(dir.path(), {"--max-body-bytes", "65536", "--request-timeout", "1", "--token-file",
                                        dir.path() + "/tokens"});
  ASSERT_GT(receiver.port(), 0) << receiver.stderr_text();
  std::string example = ReadFile("../shared/data/gitlab/payloads/service_ping_example.json");

  auto created = Post(receiver.url() + "/usage_data", example);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body, R"({"conv_index":{"usage_data_id":1}})");
  auto repeated = Post(receiver.url() + "/usage_data", example);
  EXPECT_EQ(repeated.status, 200);
  EXPECT_EQ(repeated.body, created.body);

  struct Case {
    std::string body;
    std::string content_type;
    int status;
    std::string says;
  };
  std::string deep = R"({"uuid":"d","recorded_at":"r","x":)" + std::string(200, '[') + std::string(200, ']') + "}";
  std::vector<Case> cases = {
      {"not json", "application/json", 400, "not JSON"},
      {R"([1,2])", "application/json", 400, "not a JSON object"},
      {R"({"recorded_at":"2026-01-01T00:00:00Z"})", "application/json", 422, "uuid"},
      {R"({"uuid":"x"})", "application/json", 422, "recorded_at"},
      {deep, "application/json", 400, "deeper than"},
      {R"({"uuid":"y","recorded_at":"r"})", "application/x-www-form-urlencoded", 415, "application/json"},
      {R"({"uuid":"z","recorded_at":"r","pad":")" + std::string(70000, 'a') + "\"}", "application/json", 413, ""},
  };
  for (const Case& c : cases) {
    auto r = Post(receiver.url() + "/usage_data", c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 60);
    EXPECT_NE(r.body.find(c.says), std::string::npos) << r.body;
  }
  EXPECT_EQ(SlowBodyStatusLine(receiver.port()), "HTTP/1.1 408 Request Timeout");

  // Only the first payload is stored.
  auto installations = Get(receiver.url() + "/api/v1/installations", kToken);
  EXPECT_EQ(installations.status, 200);
  EXPECT_NE(installations.body.find(R"("ping_count":1)"), std::string::npos) << installations.body;
  EXPECT_EQ(installations.body.find(R"("uuid":"z")"), std::string::npos);
  EXPECT_EQ(Get(receiver.url() + "/api/v1/installations").status, 401);
  EXPECT_EQ(Get(receiver.url() + "/api/v1/pings/1", kToken).body, example);

  EXPECT_EQ(Get(receiver.url() + "/health").status, 200);
  auto metrics = Get(receiver.url() + "/metrics");
  EXPECT_NE(metrics.body.find(R"(furrow_receiver_rejected_total{reason="malformed"} 3)"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(furrow_receiver_pings_total{outcome="stored"} 1)"), std::string::npos);

  EXPECT_EQ(receiver.Stop(), 0);
  EXPECT_EQ(Query(dir.path() + "/receiver.sqlite", "SELECT COUNT(*) FROM raw_usage_data"), "1");
  EXPECT_EQ(Query(dir.path() + "/receiver.sqlite", "SELECT COUNT(*) FROM usage_data"), "1");
  EXPECT_EQ(Query(dir.path() + "/receiver.sqlite", "SELECT MAX(version) FROM schema_migrations"), "1");
}

TEST(ReceiverCommandTest, TokensComeFromTheEnvironment) {
  TempDir dir;
  ReceiverProcess receiver(dir.path(), {}, {std::string("FURROW_RECEIVER_TOKENS=other-token-abcdefgh,") + kToken});
  ASSERT_GT(receiver.port(), 0) << receiver.stderr_text();
  EXPECT_EQ(Get(receiver.url() + "/api/v1/installations", kToken).status, 200);
  EXPECT_EQ(Get(receiver.url() + "/api/v1/installations", "wrong-token-abcdefgh").status, 401);
  EXPECT_EQ(receiver.Stop(), 0);
}

TEST(ReceiverCommandTest, PingSendDeliversToTheRealReceiver) {
  TempDir dir;
  std::ofstream(dir.path() + "/tokens") << kToken << "\n";
  TempDir agent;
  ReceiverProcess live(dir.path(), {"--token-file", dir.path() + "/tokens"});
  ASSERT_GT(live.port(), 0) << live.stderr_text();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((agent.path() + "/app.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE issues(id INTEGER PRIMARY KEY, author_id INTEGER, state TEXT, weight INTEGER, "
                         "created_at TEXT); INSERT INTO issues VALUES (1, 1, 'opened', 1, '2020-01-01 00:00:00');",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::ofstream(agent.path() + "/instance.yml") << "hostname: agent.example.com\n";
  RunResult sent = RunFurrow(agent.path(), {"ping", "send", "--receiver", live.url(), "--definitions",
                                            "tests/ping/definitions", "--database", "sqlite://" + agent.path() + "/app.db",
                                            "--instance", agent.path() + "/instance.yml", "--data-dir", agent.path(),
                                            "--metric-timeout", "5"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_NE(sent.out.find("sent usage_data_id=1"), std::string::npos) << sent.out;
  std::string uuid = ReadFile(agent.path() + "/ping/uuid");
  while (!uuid.empty() && uuid.back() == '\n') uuid.pop_back();
  auto pings = Get(live.url() + "/api/v1/installations/" + uuid + "/pings", kToken);
  EXPECT_EQ(pings.status, 200);
  EXPECT_NE(pings.body.find(R"("id":1)"), std::string::npos) << pings.body;
  auto payload = Get(live.url() + "/api/v1/pings/1", kToken);
  EXPECT_NE(payload.body.find("\"issues\":1"), std::string::npos) << payload.body;
  EXPECT_EQ(live.Stop(), 0);
  EXPECT_EQ(Query(dir.path() + "/receiver.sqlite", "SELECT COUNT(*) FROM usage_ping_metadata WHERE uuid = '" + uuid + "'"),
            "1");
  EXPECT_EQ(Query(dir.path() + "/receiver.sqlite", "SELECT hostname FROM usage_data"), "agent.example.com");
}

// Posts pings, extracts (twice), loads (twice) into the warehouse; `lake_args`
// chooses the lake.
void ExtractAndLoadOnce(const std::string& dir, const std::vector<std::string>& lake_args,
                        const std::vector<std::string>& env) {
  {
    ReceiverProcess receiver(dir, {}, env);
    ASSERT_GT(receiver.port(), 0) << receiver.stderr_text();
    for (int i = 0; i < 3; ++i) {
      std::string body = R"({"uuid":"inst-)" + std::to_string(i) + R"(","hostname":"h)" + std::to_string(i) +
                         R"(","recorded_at":"2026-11-20T00:00:00Z","counts":{"issues":)" + std::to_string(i) +
                         R"(,"slow":-1},"redis_hll_counters":{"search":{"i_search_total_weekly":5}}})";
      ASSERT_EQ(Post(receiver.url() + "/usage_data", body).status, 201);
    }
    ASSERT_EQ(receiver.Stop(), 0);
  }
  std::vector<std::string> extract = {"receiver", "extract", "--data-dir", dir, "--date", Today()};
  extract.insert(extract.end(), lake_args.begin(), lake_args.end());
  RunResult first = RunFurrow(dir, extract, env);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("extracted 6 rows in 2 files"), std::string::npos) << first.out;
  RunResult again = RunFurrow(dir, extract, env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("extracted 0 rows in 0 files"), std::string::npos) << again.out;

  std::vector<std::string> load = {"warehouse", "load", "--data-dir", dir, "--source", "pings"};
  load.insert(load.end(), lake_args.begin(), lake_args.end());
  RunResult loaded = RunFurrow(dir, load, env);
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_NE(loaded.out.find("loaded 1 files (0 already loaded): 3 pings (0 duplicates), 9 metric rows"),
            std::string::npos)
      << loaded.out;
  EXPECT_NE(loaded.err.find("warehouse load progress"), std::string::npos);
  RunResult reloaded = RunFurrow(dir, load, env);
  ASSERT_EQ(reloaded.exit_code, 0) << reloaded.err;
  EXPECT_NE(reloaded.out.find("loaded 0 files (1 already loaded)"), std::string::npos) << reloaded.out;
  std::string w = dir + "/warehouse.sqlite";
  EXPECT_EQ(Query(w, "SELECT COUNT(*) FROM ping_instance"), "3");
  EXPECT_EQ(Query(w, "SELECT COUNT(*) FROM ping_instance_metric WHERE metric_path = 'counts.slow' AND has_timed_out = 1 "
                     "AND metric_value = 0"),
            "3");
  EXPECT_EQ(Query(w, "SELECT SUM(metric_value) FROM ping_instance_metric WHERE metric_path = "
                     "'redis_hll_counters.search.i_search_total_weekly'"),
            "15.0");
}

TEST(ReceiverCommandTest, ExtractAndLoadAreIdempotentOnTheLocalLake) {
  TempDir dir;
  ExtractAndLoadOnce(dir.path(), {}, {});
}

TEST(ReceiverCommandTest, ExtractAndLoadAreIdempotentOnS3) {
  TempDir dir;
  testing::S3rverProcess s3;
  ASSERT_TRUE(s3.Start({"furrow-lake"})) << s3.error();
  std::vector<std::string> env = {"AWS_ENDPOINT_URL=" + s3.Endpoint(), "AWS_ACCESS_KEY_ID=S3RVER",
                                  "AWS_SECRET_ACCESS_KEY=S3RVER", "AWS_REGION=us-east-1"};
  ExtractAndLoadOnce(dir.path(), {"--lake", "s3://furrow-lake/prod"}, env);
  auto listing = s3.Aws("s3 ls --recursive s3://furrow-lake/prod/pings/raw_usage_data/");
  EXPECT_NE(listing.output.find("date=" + Today() + "/00000000000000000001-00000000000000000003.jsonl.gz"),
            std::string::npos)
      << listing.output;
}

TEST(ReceiverCommandTest, StoresInPostgresqlAndExtractsFromIt) {
  ping::testing::PostgresTestServer pg;
  Status started = pg.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  TempDir dir;
  {
    ReceiverProcess receiver(dir.path(), {"--database", pg.url()});
    ASSERT_GT(receiver.port(), 0) << receiver.stderr_text();
    std::string example = ReadFile("../shared/data/gitlab/payloads/service_ping_example.json");
    auto created = Post(receiver.url() + "/usage_data", example);
    EXPECT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(Post(receiver.url() + "/usage_data", example).status, 200);
    EXPECT_EQ(Post(receiver.url() + "/usage_data", R"({"uuid":"x"})").status, 422);
    EXPECT_EQ(receiver.Stop(), 0);
  }
  RunResult extracted =
      RunFurrow(dir.path(), {"receiver", "extract", "--data-dir", dir.path(), "--database", pg.url(), "--date", Today()});
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  EXPECT_NE(extracted.out.find("extracted 2 rows in 2 files"), std::string::npos) << extracted.out;
  RunResult loaded = RunFurrow(dir.path(), {"warehouse", "load", "--data-dir", dir.path(), "--source", "pings",
                                            "--warehouse", pg.url()});
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_NE(loaded.out.find("loaded 1 files (0 already loaded): 1 pings"), std::string::npos) << loaded.out;
}

TEST(ReceiverCommandTest, PingPullStoresThePulledPing) {
  TempDir dir;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() + "/replica.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE issues(id INTEGER PRIMARY KEY); INSERT INTO issues VALUES (1), (2);", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ping::testing::TestReceiver api([](const ping::testing::ReceivedRequest& r) -> ping::testing::ScriptedResponse {
    if (r.target == "/usage_data/metric_definitions") return {200, "- key_path: counts.issues\n"};
    if (r.target == "/usage_data/queries") return {200, R"({"counts":{"issues":"SELECT COUNT(*) FROM issues"}})"};
    if (r.target == "/usage_data/non_sql_metrics") {
      return {200, R"({"uuid":"saas","hostname":"big.example","recorded_at":"2026-11-22T00:00:00Z"})"};
    }
    return {404, "{}"};
  });
  ASSERT_TRUE(api.Start().ok());
  std::ofstream(dir.path() + "/pull-token") << "pull-token-0123456789\n";
  std::vector<std::string> args = {"ping", "pull", "--url", api.url(), "--token-file", dir.path() + "/pull-token",
                                   "--database", "sqlite://" + dir.path() + "/replica.db", "--data-dir", dir.path()};
  RunResult pulled = RunFurrow(dir.path(), args);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_NE(pulled.out.find("stored usage_data_id=1 (1 queries, 0 failed)"), std::string::npos) << pulled.out;
  RunResult again = RunFurrow(dir.path(), args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("already stored usage_data_id=1"), std::string::npos) << again.out;
  EXPECT_EQ(Query(dir.path() + "/receiver.sqlite", "SELECT json_extract(payload, '$.counts.issues') FROM raw_usage_data"),
            "2");
  RunResult no_token = RunFurrow(dir.path(), {"ping", "pull", "--url", api.url(), "--database",
                                              "sqlite://" + dir.path() + "/replica.db", "--data-dir", dir.path()});
  EXPECT_EQ(no_token.exit_code, 1);
  EXPECT_NE(no_token.err.find("no API token"), std::string::npos) << no_token.err;
}

TEST(ReceiverCommandTest, SnowflakeSqlIsPrinted) {
  TempDir dir;
  RunResult r = RunFurrow(dir.path(), {"warehouse", "load", "--target", "snowflake", "--print-sql", "--lake",
                                       "s3://bucket/lake"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("CREATE STAGE IF NOT EXISTS furrow_lake URL = 's3://bucket/lake/'"), std::string::npos);
  EXPECT_NE(r.out.find("COPY INTO raw_usage_data"), std::string::npos);
}

TEST(ReceiverCommandTest, UploadPageWorksInHeadlessChromium) {
  if (access("/usr/bin/chromium", X_OK) != 0) GTEST_SKIP() << "/usr/bin/chromium is not installed";
  TempDir dir;
  std::ofstream(dir.path() + "/tokens") << kToken << "\n";
  ReceiverProcess receiver(dir.path(), {"--token-file", dir.path() + "/tokens"});
  ASSERT_GT(receiver.port(), 0) << receiver.stderr_text();
  RunResult r = RunCommand(dir.path(), {"node", "tests/receiver/upload_page.js", receiver.url() + "/usage_data/new",
                                 "../shared/data/gitlab/payloads/service_ping_example.json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Upload received"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Stored as usage ping 1"), std::string::npos) << r.out;
  auto installations = Get(receiver.url() + "/api/v1/installations", kToken);
  EXPECT_NE(installations.body.find("0000000-0000-0000-0000-000000000000"), std::string::npos) << installations.body;
  EXPECT_EQ(receiver.Stop(), 0);
}

}  // namespace
}  // namespace furrow
