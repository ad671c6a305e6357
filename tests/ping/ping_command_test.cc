// Drives `furrow ping generate|send|export|track|serve` as a user would.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "net/http_client.h"
#include "ping/test_servers.h"

extern char** environ;

namespace furrow::ping {
namespace {

using ::testing::HasSubstr;

std::string Binary() {
  const char* b = std::getenv("FURROW_BINARY");
  return b != nullptr ? b : "build/src/app/furrow";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs the binary with `args`, stdout and stderr captured in files of `dir`.
RunResult RunFurrow(const std::string& dir, const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  std::vector<std::string> argv = {Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargs;
  for (auto& a : argv) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.push_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cenv;
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  std::string out = dir + "/stdout", err = dir + "/stderr";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  RunResult r;
  if (posix_spawn(&pid, cargs[0], &fa, nullptr, cargs.data(), cenv.data()) != 0) return r;
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

const char* kGitLab[] = {"--definitions", "../shared/data/gitlab/config/metrics", "--definitions",
                         "../shared/data/gitlab/ee/config/metrics"};

void MakeProductDatabase(const std::string& path, int rows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql =
      "CREATE TABLE issues(id INTEGER PRIMARY KEY, author_id INTEGER, state TEXT, weight INTEGER, created_at TEXT);";
  for (int i = 1; i <= rows; ++i) {
    sql += "INSERT INTO issues VALUES(" + std::to_string(i) + "," + std::to_string(i % 3) + ",'" +
           (i % 2 ? "opened" : "closed") + "',1,'2020-01-01 00:00:00');";
  }
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

const rapidjson::Value* At(const rapidjson::Document& doc, std::string key_path) {
  for (char& c : key_path) {
    if (c == '.') c = '/';
  }
  return rapidjson::Pointer(("/" + key_path).c_str()).Get(doc);
}

TEST(PingCommandTest, GeneratesGitLabDefinitionsAndKeepsTheInstallationUuid) {
  testing::TempDir dir;
  std::vector<std::string> args = {"ping", "generate"};
  args.insert(args.end(), std::begin(kGitLab), std::end(kGitLab));
  args.insert(args.end(), {"--data-dir", dir.path(), "--output", dir.path() + "/p1.json"});
  RunResult first = RunFurrow(dir.path(), args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  args.back() = dir.path() + "/p2.json";
  RunResult second = RunFurrow(dir.path(), args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  rapidjson::Document p1 = ParseJson(ReadFile(dir.path() + "/p1.json"));
  rapidjson::Document p2 = ParseJson(ReadFile(dir.path() + "/p2.json"));
  ASSERT_TRUE(p1.HasMember("uuid"));
  EXPECT_EQ(std::string(p1["uuid"].GetString()).size(), 36u);
  EXPECT_STREQ(p1["uuid"].GetString(), p2["uuid"].GetString());
  EXPECT_EQ(ReadFile(dir.path() + "/ping/uuid"), std::string(p1["uuid"].GetString()) + "\n");
  // Without Redis or a database, those metrics fall back; system metrics are computed.
  EXPECT_EQ(At(p1, "counts.service_desk_issues"), nullptr);  // no furrow instrumentation
  EXPECT_TRUE(At(p1, "hostname")->IsString());
  EXPECT_THAT(first.err, HasSubstr("service ping generated"));
}

TEST(PingCommandTest, MalformedDefinitionsFailNamingFileAndField) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/bad.yml") << "key_path: counts.x\ndescription: d\nvalue_type: number\nstatus: active\n"
                                            "product_group: g\ntime_frame: 90d\ndata_source: database\n"
                                            "milestone: '1.0'\nintroduced_by_url: u\ntiers: [free]\n";
  RunResult r = RunFurrow(dir.path(), {"ping", "generate", "--definitions", dir.path(), "--data-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir.path() + "/bad.yml: field `time_frame`"));
}

TEST(PingCommandTest, TrackedEventsAndDatabaseRowsReachThePayloadAndTheReceiver) {
  testing::TempDir dir;
  MakeProductDatabase(dir.path() + "/app.db", 200);  // enough for the slow metric to be slow
  for (const char* user : {"u1", "u2", "u1"}) {
    RunResult t = RunFurrow(dir.path(), {"ping", "track", "create_issue", "--user", user, "--data-dir", dir.path()});
    ASSERT_EQ(t.exit_code, 0) << t.err;
  }
  RunResult bad = RunFurrow(dir.path(), {"ping", "track", "bad event", "--data-dir", dir.path()});
  EXPECT_EQ(bad.exit_code, 1);

  testing::TestReceiver receiver([](const testing::ReceivedRequest& r) -> testing::ScriptedResponse {
    if (r.target == "/usage_data") return {201, R"({"conv_index":{"usage_data_id":11}})"};
    return {200, "{}"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  std::ofstream(dir.path() + "/instance.yml") << "hostname: ci.example.com\nsettings:\n  signup_enabled: true\n"
                                                  "license:\n  trial: false\n  user_count: 10\n";
  std::vector<std::string> common = {"--definitions", "tests/ping/definitions", "--database",
                                     "sqlite://" + dir.path() + "/app.db", "--instance", dir.path() + "/instance.yml",
                                     "--data-dir", dir.path(), "--metric-timeout", "1"};
  std::vector<std::string> send = {"ping", "send", "--receiver", receiver.url()};
  send.insert(send.end(), common.begin(), common.end());
  RunResult s = RunFurrow(dir.path(), send);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_THAT(s.out, HasSubstr("sent usage_data_id=11"));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].target, "/usage_data");
  EXPECT_EQ(requests[1].target, "/usage_ping_metadata");
  rapidjson::Document payload = ParseJson(requests[0].body);
  EXPECT_EQ(At(payload, "counts.issues")->GetInt64(), 200);
  EXPECT_EQ(At(payload, "counts.issues_opened")->GetInt64(), 100);
  EXPECT_EQ(At(payload, "counts.count_total_create_issue")->GetInt64(), 3);  // all time
  EXPECT_EQ(At(payload, "counts.slow_metric")->GetInt64(), -1);
  EXPECT_STREQ(At(payload, "hostname")->GetString(), "ci.example.com");
  EXPECT_STREQ(At(payload, "database.adapter")->GetString(), "sqlite");
  rapidjson::Document metadata = ParseJson(requests[1].body);
  bool slow_error = false;
  for (const auto& m : metadata["metadata"]["metrics"].GetArray()) {
    if (std::string(m["name"].GetString()) == "counts.slow_metric") slow_error = m["error"].IsString();
  }
  EXPECT_TRUE(slow_error);

  // Export writes the same shape to a file.
  std::vector<std::string> exp = {"ping", "export", "--output", dir.path() + "/export.json"};
  exp.insert(exp.end(), common.begin(), common.end());
  RunResult e = RunFurrow(dir.path(), exp);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  rapidjson::Document exported = ParseJson(ReadFile(dir.path() + "/export.json"));
  EXPECT_STREQ(exported["uuid"].GetString(), payload["uuid"].GetString());
  EXPECT_EQ(At(exported, "counts.issues")->GetInt64(), 200);
}

TEST(PingCommandTest, ARejectedPayloadIsReportedAndFails) {
  testing::TempDir dir;
  testing::TestReceiver receiver([](const testing::ReceivedRequest& r) -> testing::ScriptedResponse {
    if (r.target == "/usage_data") return {422, R"({"message":"invalid"})"};
    return {200, "{}"};
  });
  ASSERT_TRUE(receiver.Start().ok());
  RunResult s = RunFurrow(dir.path(), {"ping", "send", "--receiver", receiver.url(), "--definitions",
                                 "tests/ping/definitions/system", "--data-dir", dir.path()});
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_THAT(s.err, HasSubstr("HTTP 422"));
  auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].target, "/usage_ping_errors");
  rapidjson::Document error = ParseJson(requests[1].body);
  EXPECT_THAT(error["error"]["message"].GetString(), HasSubstr("HTTP 422"));
}

// A running `furrow ping serve`, stopped with SIGTERM.
class ServeProcess {
 public:
  ServeProcess(const std::string& dir, std::vector<std::string> args, const std::string& token) {
    int fds[2];
    if (pipe(fds) != 0) return;
    std::vector<std::string> argv = {Binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargs;
    for (auto& a : argv) cargs.push_back(a.data());
    cargs.push_back(nullptr);
    std::vector<std::string> envs = {"FURROW_PING_TOKEN=" + token, "PATH=/usr/bin:/bin"};
    std::vector<char*> cenv;
    for (auto& e : envs) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    std::string err = dir + "/serve.err";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, cargs[0], &fa, nullptr, cargs.data(), cenv.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[256] = {};
    if (out != nullptr && std::fgets(line, sizeof line, out) != nullptr) {
      std::string text = line;
      size_t colon = text.rfind(':');
      if (text.rfind("listening on", 0) == 0 && colon != std::string::npos) port_ = std::atoi(text.c_str() + colon + 1);
    }
    if (out != nullptr) std::fclose(out);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST(PingCommandTest, ServeAnswersThePullJobAndTracksEvents) {
  testing::TempDir dir;
  testing::RedisTestServer redis;
  ASSERT_TRUE(redis.Start().ok());
  MakeProductDatabase(dir.path() + "/app.db", 7);
  const std::string token = "0123456789abcdef0123";
  ServeProcess serve(dir.path(),
                     {"ping", "serve", "--port", "0", "--bind", "127.0.0.1", "--definitions", "tests/ping/definitions",
                      "--database", "sqlite://" + dir.path() + "/app.db", "--redis", redis.url(), "--data-dir",
                      dir.path(), "--metric-timeout", "1"},
                     token);
  ASSERT_GT(serve.port(), 0) << ReadFile(dir.path() + "/serve.err");
  std::string base = "http://127.0.0.1:" + std::to_string(serve.port());
  net::HttpClient client;
  auto get = [&](const std::string& path, bool with_token) {
    net::HttpClientRequest r;
    r.url = base + path;
    if (with_token) r.headers = {{"PRIVATE-TOKEN", token}};
    auto response = client.Send(r);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : net::HttpClientResponse{};
  };
  auto post = [&](const std::string& path, const std::string& body) {
    net::HttpClientRequest r;
    r.method = "POST";
    r.url = base + path;
    r.body = body;
    r.headers = {{"Content-Type", "application/json"}};
    auto response = client.Send(r);
    return response.ok() ? response->status : -1;
  };

  EXPECT_EQ(get("/health", false).status, 200);
  EXPECT_EQ(get("/api/v4/usage_data/service_ping", false).status, 401);
  EXPECT_EQ(post("/usage_data/track_event", R"({"event":"create_issue","user_id":5})"), 200);
  EXPECT_EQ(post("/api/v4/usage_data/track_event",
                 R"({"event":"cli_used","user_id":"5","additional_properties":{"label":"failure"},"value":2})"),
            200);
  EXPECT_EQ(post("/usage_data/track_event", R"({"event":"bad event"})"), 400);
  EXPECT_EQ(post("/usage_data/track_event", "not json"), 400);

  auto ping = get("/api/v4/usage_data/service_ping", true);
  ASSERT_EQ(ping.status, 200) << ping.body;
  rapidjson::Document payload = ParseJson(ping.body);
  EXPECT_EQ(At(payload, "counts.issues")->GetInt64(), 7);
  EXPECT_EQ(At(payload, "counts.count_total_create_issue")->GetInt64(), 1);
  EXPECT_EQ(At(payload, "sums.sum_value_from_failed_cli")->GetInt64(), 2);

  auto non_sql = get("/usage_data/non_sql_metrics", true);
  ASSERT_EQ(non_sql.status, 200);
  rapidjson::Document non_sql_doc = ParseJson(non_sql.body);
  EXPECT_EQ(At(non_sql_doc, "counts.issues"), nullptr);
  EXPECT_EQ(At(non_sql_doc, "counts.count_total_create_issue")->GetInt64(), 1);

  auto queries = get("/usage_data/queries", true);
  ASSERT_EQ(queries.status, 200);
  rapidjson::Document q = ParseJson(queries.body);
  EXPECT_STREQ(At(q, "counts.issues")->GetString(), "SELECT COUNT(*) FROM \"issues\"");
  EXPECT_EQ(At(q, "counts.count_total_create_issue"), nullptr);

  auto defs = get("/usage_data/metric_definitions", false);
  ASSERT_EQ(defs.status, 200);
  EXPECT_THAT(defs.body, HasSubstr("key_path: counts.issues"));
  EXPECT_THAT(get("/metrics", false).body, HasSubstr("furrow_ping_events_rejected_total 2"));
  EXPECT_EQ(serve.Stop(), 0);
}

}  // namespace
}  // namespace furrow::ping
