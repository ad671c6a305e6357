#include "warehouse/clickhouse_warehouse.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "event/enriched_event.h"
#include "net/http_client.h"
#include "ping/test_servers.h"
#include "receiver/extract.h"
#include "receiver/sqlite_ping_store.h"
#include "sink/compressor.h"
#include "storage/local_object_store.h"
#include "warehouse/loader.h"
#include "warehouse/open_warehouse.h"

extern char** environ;

namespace furrow::warehouse {
namespace {

constexpr char kServer[] = "/usr/sbin/clickhouse-server";

// ClickHouse (Debian's 18.16) on 127.0.0.1 on free ports in a temporary directory.
class ClickHouseTestServer {
 public:
  ~ClickHouseTestServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  Status Start() {
    http_port_ = ping::testing::FreePort();
    int tcp_port = ping::testing::FreePort();
    const std::string& d = dir_.path();
    std::ifstream users_in("/etc/clickhouse-server/users.xml");
    if (!users_in) return NotFoundError("no /etc/clickhouse-server/users.xml");
    std::ofstream(d + "/users.xml") << users_in.rdbuf();
    std::ofstream(d + "/config.xml") << "<yandex><logger><level>warning</level><log>" << d << "/server.log</log>"
                                     << "<errorlog>" << d << "/server.err.log</errorlog><console>0</console></logger>"
                                     << "<http_port>" << http_port_ << "</http_port><tcp_port>" << tcp_port
                                     << "</tcp_port><listen_host>127.0.0.1</listen_host>"
                                     << "<path>" << d << "/data/</path><tmp_path>" << d << "/tmp/</tmp_path>"
                                     << "<user_files_path>" << d << "/user_files/</user_files_path>"
                                     << "<format_schema_path>" << d << "/format_schemas/</format_schema_path>"
                                     << "<users_config>" << d << "/users.xml</users_config>"
                                     << "<default_profile>default</default_profile>"
                                     << "<default_database>default</default_database>"
                                     << "<mark_cache_size>268435456</mark_cache_size></yandex>\n";
    std::string config = "--config-file=" + d + "/config.xml";
    char* argv[] = {const_cast<char*>(kServer), config.data(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    std::string out = d + "/stdout";
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addchdir_np(&fa, d.c_str());
    int rc = posix_spawn(&pid_, kServer, &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return IoError("cannot start clickhouse-server");
    net::HttpClient client;
    for (int i = 0; i < 600; ++i) {  // readiness: up to 60 s
      net::HttpClientRequest request;
      request.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/ping";
      auto r = client.Send(request);
      if (r.ok() && r->status == 200) return Status::Ok();
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return UnavailableError("clickhouse-server exited; see " + d + "/server.err.log");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return DeadlineExceededError("clickhouse-server did not answer /ping within 60 s");
  }
  std::string url() const { return "clickhouse://127.0.0.1:" + std::to_string(http_port_) + "/default"; }
  std::string Query(const std::string& sql) {
    net::HttpClient client;
    net::HttpClientRequest request;
    request.method = "POST";
    request.url = "http://127.0.0.1:" + std::to_string(http_port_) + "/";
    request.body = sql;
    auto r = client.Send(request);
    EXPECT_TRUE(r.ok());
    std::string body = r.ok() ? r->body : "";
    while (!body.empty() && body.back() == '\n') body.pop_back();
    return body;
  }

 private:
  ping::testing::TempDir dir_;
  pid_t pid_ = -1;
  int http_port_ = 0;
};

TEST(ClickHouseWarehouseTest, RejectsMalformedUrls) {
  ManualClock clock;
  EXPECT_EQ(OpenClickHouseWarehouse("clickhouse:///db", clock).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenClickHouseWarehouse("clickhouse://h/bad-name", clock).status().code(), StatusCode::kInvalidArgument);
}

TEST(ClickHouseWarehouseTest, LoadsPingsOverHttpOnceOnly) {
  if (access(kServer, X_OK) != 0) GTEST_SKIP() << kServer << " is not installed";
  ClickHouseTestServer server;
  Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  ping::testing::TempDir dir;
  auto store = receiver::OpenSqlitePingStore(dir.path() + "/receiver.sqlite");
  ASSERT_TRUE(store.ok());
  auto lake = storage::LocalObjectStore::Open(dir.path() + "/lake");
  ASSERT_TRUE(lake.ok());
  for (int i = 0; i < 3; ++i) {
    auto d = receiver::ParseUsageData(R"({"uuid":"u)" + std::to_string(i) + R"(","hostname":"o'neil","recorded_at":"r",)"
                                          R"("counts":{"issues":)" + std::to_string(i + 1) + R"(,"slow":-1}})",
                                      {});
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE((*store)->StoreUsageData(*d, "", "2026-06-01T00:00:00.000Z").ok());
  }
  ASSERT_TRUE(receiver::ExtractDay(**store, **lake, "2026-06-01").ok());
  ManualClock clock;
  auto w = OpenWarehouse(server.url(), dir.path(), clock);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  LoadOptions options;
  options.events = false;
  auto stats = LoadFromLake(**lake, **w, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->pings, 3);
  EXPECT_EQ(stats->metric_rows, 6);
  EXPECT_EQ(server.Query("SELECT count() FROM ping_instance WHERE hostname = 'o\\'neil'"), "3");
  EXPECT_EQ(server.Query("SELECT sum(metric_value) FROM ping_instance_metric WHERE metric_path = 'counts.issues'"), "6");
  EXPECT_EQ(server.Query("SELECT count() FROM ping_instance_metric WHERE has_timed_out = 1 AND metric_value = 0"), "3");
  auto again = LoadFromLake(**lake, **w, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files, 0);
  EXPECT_EQ(again->skipped_files, 1);
  auto copy = (*lake)->Get("pings/raw_usage_data/date=2026-06-01/00000000000000000001-00000000000000000003.jsonl.gz");
  ASSERT_TRUE(copy.ok());
  ASSERT_TRUE((*lake)->Put("pings/raw_usage_data/date=2026-06-02/00000000000000000001-00000000000000000003.jsonl.gz",
                           *copy, {})
                  .ok());
  auto dup = LoadFromLake(**lake, **w, options);
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup->duplicate_pings, 3);
  EXPECT_EQ(server.Query("SELECT count() FROM ping_instance_metric"), "6");
}

TEST(ClickHouseWarehouseTest, LoadsEventsOverHttpOnceOnly) {
  if (access(kServer, X_OK) != 0) GTEST_SKIP() << kServer << " is not installed";
  ClickHouseTestServer server;
  Status started = server.Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  ping::testing::TempDir dir;
  auto lake = storage::LocalObjectStore::Open(dir.path() + "/lake");
  ASSERT_TRUE(lake.ok());
  // Two enriched events as the sink writes them (a value with a backslash and a
  // quote, typed columns, empty fields), one line that is not an event.
  std::string text;
  for (const char* id : {"e1", "e2"}) {
    event::EnrichedEvent e;
    e[event::kAppId] = "app\\x'";
    e[event::kEventId] = id;
    e[event::kCollectorTstamp] = "2026-05-01 12:00:00.000";
    e[event::kDvceScreenwidth] = "1920";
    e[event::kGeoLatitude] = "52.5";
    text += e.ToTsv() + "\n";
  }
  text += "only\tthree\tfields\n";
  auto compressor = sink::Compressor::Create(sink::Compression::kGzip);
  ASSERT_TRUE(compressor->Append(text).ok());
  ASSERT_TRUE(compressor->Finish().ok());
  ASSERT_TRUE((*lake)->Put("output/2026/05/01/12/part-1.tsv.gz", compressor->TakeOutput(), {}).ok());

  ManualClock clock;
  auto w = OpenWarehouse(server.url(), dir.path(), clock);
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  LoadOptions options;
  options.pings = false;
  auto stats = LoadFromLake(**lake, **w, options);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->events, 2);
  EXPECT_EQ(stats->bad_lines, 1);
  EXPECT_EQ(server.Query("SELECT count() FROM events FINAL WHERE app_id = 'app\\\\x\\'' AND platform = ''"), "2");
  EXPECT_EQ(server.Query("SELECT sum(toInt64(dvce_screenwidth)) FROM events FINAL"), "3840");
  EXPECT_EQ(server.Query("SELECT groupArray(event_id) FROM (SELECT event_id FROM events FINAL ORDER BY event_id)"),
            "['e1','e2']");
  auto again = LoadFromLake(**lake, **w, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->files, 0);
  EXPECT_EQ(again->skipped_files, 1);
  EXPECT_EQ(server.Query("SELECT count() FROM events"), "2");
}

}  // namespace
}  // namespace furrow::warehouse
