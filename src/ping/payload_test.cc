#include "ping/payload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/pointer.h>
#include <sqlite3.h>

#include <fstream>
#include <set>

#include "core/time_format.h"
#include "ping/test_servers.h"
#include "ping/usage_events.h"

namespace furrow::ping {
namespace {

using ::testing::HasSubstr;

// Wall time fixed (so the test knows the windows), monotonic time real (so
// deadlines pass).
class FixedWallClock final : public Clock {
 public:
  explicit FixedWallClock(WallTime now) : now_(now) {}
  WallTime Now() const override { return now_; }
  MonoTime Monotonic() const override { return std::chrono::steady_clock::now(); }

 private:
  WallTime now_;
};

const WallTime kNow = WallTime(std::chrono::milliseconds(*ParseTimestampMillis("2026-11-25 10:00:00")));
WallTime At(const char* text) { return WallTime(std::chrono::milliseconds(*ParseTimestampMillis(text))); }

struct Expected {
  int64_t all = 0, opened = 0, monthly = 0, weekly = 0, authors_monthly = 0, weight = 0;
  int64_t closed_weekly = 0, closed_monthly = 0, closed_all = 0;
};

// Builds an SQLite product database and returns what the metrics must report,
// counted here row by row.
Expected MakeDatabase(const std::string& path) {
  Expected e;
  std::set<int64_t> authors;
  std::string sql =
      "CREATE TABLE issues(id INTEGER PRIMARY KEY, author_id INTEGER, state TEXT, weight INTEGER, created_at TEXT);"
      "INSERT INTO issues VALUES ";
  const WallTime start28 = kNow - std::chrono::hours(24 * 30), start7 = kNow - std::chrono::hours(24 * 9),
                 end = kNow - std::chrono::hours(24 * 2);
  for (int i = 1; i <= 1500; ++i) {
    int64_t author = i % 23;
    bool closed = i % 4 == 0;
    int64_t weight = i % 7;
    WallTime created = kNow - std::chrono::hours(24 * (i % 45)) - std::chrono::minutes(i);
    char ts[32];
    std::string text = FormatIso8601Millis(
        std::chrono::duration_cast<std::chrono::milliseconds>(created.time_since_epoch()).count());
    std::snprintf(ts, sizeof ts, "%s %s", text.substr(0, 10).c_str(), text.substr(11, 8).c_str());
    if (i > 1) sql += ",";
    sql += "(" + std::to_string(i) + "," + std::to_string(author) + ",'" + (closed ? "closed" : "opened") + "'," +
           std::to_string(weight) + ",'" + ts + "')";
    bool in28 = created >= start28 && created < end;
    bool in7 = created >= start7 && created < end;
    ++e.all;
    e.opened += closed ? 0 : 1;
    e.weight += weight;
    e.closed_all += closed ? 1 : 0;
    if (in28) {
      ++e.monthly;
      authors.insert(author);
      e.closed_monthly += closed ? 1 : 0;
    }
    if (in7) {
      ++e.weekly;
      e.closed_weekly += closed ? 1 : 0;
    }
  }
  e.authors_monthly = static_cast<int64_t>(authors.size());
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  return e;
}

void RecordEvents(UsageStore& store, const DefinitionSet& set) {
  ManualClock clock;
  EventRecorder recorder(store, set.definitions, clock);
  struct E {
    const char* name;
    const char* at;
    const char* user;
    const char* label;
    std::optional<double> value;
  };
  // Week 47 = Nov 16-22 (7d); weeks 44-47 = 28d.
  for (const E& e : std::vector<E>{{"create_issue", "2026-11-17 08:00:00", "u1", nullptr, {}},
                                   {"create_issue", "2026-11-18 08:00:00", "u2", nullptr, {}},
                                   {"create_issue", "2026-11-04 08:00:00", "u3", nullptr, {}},
                                   {"create_issue", "2026-10-01 08:00:00", "u4", nullptr, {}},
                                   {"close_issue", "2026-11-19 08:00:00", "u9", nullptr, {}},
                                   {"cli_used", "2026-11-19 08:00:00", "u1", "failure", 1.5},
                                   {"cli_used", "2026-11-05 08:00:00", "u1", "failure", 2},
                                   {"cli_used", "2026-11-05 09:00:00", "u1", "success", 10}}) {
    clock.SetWall(At(e.at));
    TrackedEvent t;
    t.name = e.name;
    t.user_id = e.user;
    if (e.label) t.properties["label"] = e.label;
    t.value = e.value;
    ASSERT_TRUE(recorder.Track(t).ok());
  }
  ASSERT_TRUE(store.Increment("USAGE_KUBERNETES_AGENT_GITOPS_SYNC", 5, std::nullopt).ok());
}

class PayloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto set = LoadMetricDefinitions({"tests/ping/definitions"});
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    for (const auto& e : set->errors) ADD_FAILURE() << e.ToString();
    set_ = std::move(set).value();
    expected_ = MakeDatabase(dir_.path() + "/app.db");
    auto db = OpenSqlDatabase("sqlite://" + dir_.path() + "/app.db", clock_);
    ASSERT_TRUE(db.ok());
    database_ = std::move(db).value();
    sources_.database = database_.get();
    sources_.uuid = "2b8e1f3c-6a8e-4d1c-9c63-6f1a2b3c4d5e";
    sources_.version = "1.2.3";
    sources_.system = CollectSystemInfo();
    sources_.instance.hostname = "furrow.example.com";
    sources_.instance.settings["signup_enabled"] = "true";
    sources_.instance.license["trial"] = "false";
    sources_.instance.license["user_count"] = "100";
    options_.threads = 3;
    options_.metric_timeout = std::chrono::milliseconds(1500);
    options_.deadline = std::chrono::seconds(120);
  }

  rapidjson::Document Parse(const Payload& p) {
    rapidjson::Document doc;
    doc.Parse(p.json.c_str());
    EXPECT_FALSE(doc.HasParseError()) << p.json;
    return doc;
  }

  static const rapidjson::Value* At(const rapidjson::Document& doc, const std::string& key_path) {
    std::string pointer = "/" + key_path;
    for (char& c : pointer) {
      if (c == '.') c = '/';
    }
    return rapidjson::Pointer(pointer.c_str()).Get(doc);
  }

  int64_t Int(const rapidjson::Document& doc, const std::string& key_path) {
    const rapidjson::Value* v = At(doc, key_path);
    EXPECT_TRUE(v != nullptr && v->IsInt64()) << key_path;
    return v != nullptr && v->IsInt64() ? v->GetInt64() : -999;
  }

  static const MetricOutcome* Outcome(const Payload& p, const std::string& key_path) {
    for (const auto& m : p.metrics) {
      if (m.key_path == key_path) return &m;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  FixedWallClock clock_{kNow};
  DefinitionSet set_;
  Expected expected_;
  std::unique_ptr<SqlDatabase> database_;
  PayloadSources sources_;
  PayloadOptions options_;
};

TEST_F(PayloadTest, ComputesEveryDataSourceWithFallbacksForSlowAndBrokenMetrics) {
  testing::RedisTestServer redis;
  ASSERT_TRUE(redis.Start().ok());
  auto store = OpenRedisUsageStore(redis.url());
  ASSERT_TRUE(store.ok());
  RecordEvents(**store, set_);
  sources_.usage = store->get();

  auto payload = BuildPayload(set_, sources_, options_, clock_);
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  rapidjson::Document doc = Parse(*payload);

  // Identity.
  EXPECT_STREQ(doc["uuid"].GetString(), "2b8e1f3c-6a8e-4d1c-9c63-6f1a2b3c4d5e");
  EXPECT_STREQ(doc["hostname"].GetString(), "furrow.example.com");
  EXPECT_STREQ(doc["version"].GetString(), "1.2.3");
  EXPECT_STREQ(doc["installation_type"].GetString(), "furrow");
  EXPECT_STREQ(doc["edition"].GetString(), "CE");
  EXPECT_STREQ(doc["recorded_at"].GetString(), "2026-11-25T10:00:00.000Z");
  EXPECT_TRUE(doc.HasMember("recording_ce_finished_at"));
  EXPECT_EQ(doc.MemberBegin()->name.GetString(), std::string("uuid"));

  // Database metrics over every time frame.
  EXPECT_EQ(Int(doc, "counts.issues"), expected_.all);
  EXPECT_EQ(Int(doc, "counts.issues_opened"), expected_.opened);
  EXPECT_EQ(Int(doc, "counts_monthly.issues"), expected_.monthly);
  EXPECT_EQ(Int(doc, "counts_weekly.issues"), expected_.weekly);
  EXPECT_EQ(Int(doc, "usage_activity_by_stage_monthly.plan.issue_authors"), expected_.authors_monthly);
  EXPECT_EQ(Int(doc, "counts.issue_weight_total"), expected_.weight);
  EXPECT_EQ(Int(doc, "counts.closed_issues_weekly"), expected_.closed_weekly);
  EXPECT_EQ(Int(doc, "counts.closed_issues_monthly"), expected_.closed_monthly);
  EXPECT_EQ(Int(doc, "counts.closed_issues"), expected_.closed_all);

  // Fallbacks, with the errors in the metadata.
  EXPECT_EQ(Int(doc, "counts.broken_metric"), -1);
  EXPECT_EQ(Int(doc, "counts.slow_metric"), -1);
  ASSERT_NE(Outcome(*payload, "counts.broken_metric"), nullptr);
  EXPECT_THAT(Outcome(*payload, "counts.broken_metric")->error, HasSubstr("no_such_column"));
  EXPECT_THAT(Outcome(*payload, "counts.slow_metric")->error, HasSubstr("DEADLINE_EXCEEDED"));
  for (const auto& m : payload->metrics) {
    if (m.key_path != "counts.broken_metric" && m.key_path != "counts.slow_metric") {
      EXPECT_EQ(m.error, "") << m.key_path;
    }
  }

  // Statuses and categories that are not sent; metrics furrow cannot run.
  EXPECT_EQ(At(doc, "counts.removed_metric"), nullptr);
  EXPECT_EQ(At(doc, "counts.optional_issues"), nullptr);
  EXPECT_EQ(At(doc, "settings.gitaly_apdex"), nullptr);
  EXPECT_EQ(At(doc, "counts.workspaces"), nullptr);
  EXPECT_EQ(payload->uninstrumented.size(), 2u);

  // Redis and internal events.
  EXPECT_EQ(Int(doc, "counts.kubernetes_agent_gitops_sync"), 5);
  EXPECT_EQ(Int(doc, "redis_hll_counters.issues.issue_users_monthly"), 4);  // u1 u2 u3 u9
  EXPECT_EQ(Int(doc, "redis_hll_counters.issues.issue_users_weekly"), 3);   // u1 u2 u9
  EXPECT_EQ(Int(doc, "counts.count_total_create_issue_weekly"), 2);
  EXPECT_EQ(Int(doc, "counts.count_total_create_issue_monthly"), 3);
  EXPECT_EQ(Int(doc, "counts.count_total_create_issue"), 4);
  EXPECT_EQ(Int(doc, "redis_hll_counters.count_distinct_user_id_from_create_issue_weekly"), 2);
  EXPECT_EQ(Int(doc, "redis_hll_counters.count_distinct_user_id_from_create_issue_monthly"), 3);
  EXPECT_DOUBLE_EQ(At(doc, "sums.sum_value_from_failed_cli_weekly")->GetDouble(), 1.5);
  EXPECT_DOUBLE_EQ(At(doc, "sums.sum_value_from_failed_cli_monthly")->GetDouble(), 3.5);
  EXPECT_DOUBLE_EQ(At(doc, "sums.sum_value_from_failed_cli")->GetDouble(), 3.5);

  // System, settings and licence.
  EXPECT_STREQ(At(doc, "database.adapter")->GetString(), "sqlite");
  EXPECT_STREQ(At(doc, "database.version")->GetString(), sqlite3_libversion());
  EXPECT_EQ(Int(doc, "system.cpu_count"), sources_.system.cpu_count);
  EXPECT_GT(Int(doc, "system.memory_bytes"), 0);
  EXPECT_STREQ(At(doc, "system.os")->GetString(), "Linux");
  EXPECT_TRUE(At(doc, "settings.signup_enabled")->IsTrue());
  EXPECT_TRUE(At(doc, "license_trial")->IsFalse());
  EXPECT_EQ(Int(doc, "license_user_count"), 100);

  // Metadata lists every metric with its time.
  rapidjson::Document meta;
  meta.Parse(MetadataJson(*payload).c_str());
  ASSERT_FALSE(meta.HasParseError());
  EXPECT_STREQ(meta["metadata"]["uuid"].GetString(), "2b8e1f3c-6a8e-4d1c-9c63-6f1a2b3c4d5e");
  EXPECT_EQ(meta["metadata"]["metrics"].Size(), payload->metrics.size());
  EXPECT_TRUE(meta["metadata"]["metrics"][0]["time_elapsed"].IsNumber());
}

TEST_F(PayloadTest, OptionalMetricsOnlyWhenOptedIn) {
  options_.include_optional = true;
  auto payload = BuildPayload(set_, sources_, options_, clock_);
  ASSERT_TRUE(payload.ok());
  rapidjson::Document doc = Parse(*payload);
  EXPECT_EQ(Int(doc, "counts.optional_issues"), expected_.all);
}

TEST_F(PayloadTest, TheDeadlineEndsThePayloadWhateverIsStillRunning) {
  options_.metric_timeout = std::chrono::seconds(600);  // only the payload deadline can stop the slow metric
  options_.deadline = std::chrono::milliseconds(1500);
  auto payload = BuildPayload(set_, sources_, options_, clock_);
  ASSERT_TRUE(payload.ok());
  rapidjson::Document doc = Parse(*payload);
  EXPECT_EQ(Int(doc, "counts.slow_metric"), -1);
  EXPECT_THAT(Outcome(*payload, "counts.slow_metric")->error, HasSubstr("DEADLINE_EXCEEDED"));
  // Every reported metric is in the payload, computed or with its fallback.
  for (const auto& m : payload->metrics) EXPECT_NE(At(doc, m.key_path), nullptr) << m.key_path;
}

TEST_F(PayloadTest, MissingSourcesGiveFallbacksNotFailures) {
  sources_.database = nullptr;
  sources_.usage = nullptr;
  auto payload = BuildPayload(set_, sources_, options_, clock_);
  ASSERT_TRUE(payload.ok());
  rapidjson::Document doc = Parse(*payload);
  EXPECT_EQ(Int(doc, "counts.issues"), -1);
  EXPECT_THAT(Outcome(*payload, "counts.issues")->error, HasSubstr("no database configured"));
  EXPECT_EQ(Int(doc, "counts.count_total_create_issue"), -1);
  EXPECT_EQ(Int(doc, "system.cpu_count"), sources_.system.cpu_count);
}

}  // namespace
}  // namespace furrow::ping
