#include "ping/database_metric.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <regex>
#include <set>

#include "core/time_format.h"
#include "ping/payload.h"
#include "ping/statement_log.h"
#include "ping/test_servers.h"

namespace furrow::ping {
namespace {

using ::testing::HasSubstr;

// The rows of the test table, generated here so that expectations are computed
// independently of the SQL furrow writes.
struct IssueRow {
  int64_t id;
  int64_t author_id;
  std::string state;
  int64_t weight;
  WallTime created_at;
};

const WallTime kNow = WallTime(std::chrono::milliseconds(*ParseTimestampMillis("2026-11-25 10:00:00")));

std::vector<IssueRow> MakeRows(int n) {
  std::vector<IssueRow> rows;
  for (int i = 1; i <= n; ++i) {
    rows.push_back(IssueRow{i, i % 37, i % 3 == 0 ? "closed" : "opened", i % 5,
                            kNow - std::chrono::hours(24 * (i % 40)) - std::chrono::seconds(i)});
  }
  return rows;
}

struct Expected {
  int64_t count = 0, opened = 0, distinct_authors = 0, weight_sum = 0;
};

Expected Compute(const std::vector<IssueRow>& rows, TimeFrame frame) {
  Expected e;
  std::set<int64_t> authors;
  auto window = DatabaseWindow(kNow, frame);
  for (const auto& r : rows) {
    if (window && (r.created_at < window->start || r.created_at >= window->end)) continue;
    ++e.count;
    if (r.state == "opened") ++e.opened;
    authors.insert(r.author_id);
    e.weight_sum += r.weight;
  }
  e.distinct_authors = static_cast<int64_t>(authors.size());
  return e;
}

std::string InsertSql(const std::vector<IssueRow>& rows) {
  std::string sql = "INSERT INTO issues(id, author_id, state, weight, created_at) VALUES ";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (i > 0) sql += ",";
    sql += "(" + std::to_string(r.id) + "," + std::to_string(r.author_id) + ",'" + r.state + "'," +
           std::to_string(r.weight) + ",'" + FormatSqlTimestamp(r.created_at) + "')";
  }
  return sql;
}

MetricDefinition Def(std::map<std::string, std::string> options) {
  MetricDefinition d;
  d.file = "test.yml";
  d.options = std::move(options);
  return d;
}

void ExecSqlite(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class DatabaseMetricTest : public ::testing::Test {
 protected:
  void CheckAll(SqlDatabase& database, const std::vector<IssueRow>& rows, const DatabaseQueryOptions& options) {
    Result<std::unique_ptr<SqlConnection>> conn = database.Connect();
    ASSERT_TRUE(conn.ok()) << conn.status().ToString();
    MonoTime deadline = clock_.Monotonic() + std::chrono::seconds(60);
    for (TimeFrame frame : {TimeFrame::kAll, TimeFrame::k28d, TimeFrame::k7d}) {
      Expected e = Compute(rows, frame);
      auto run = [&](std::map<std::string, std::string> opts) -> int64_t {
        auto plan = PlanDatabaseMetric(Def(std::move(opts)), frame, kNow);
        EXPECT_TRUE(plan.ok()) << plan.status().ToString();
        if (!plan.ok()) return -1;
        auto v = RunDatabaseMetric(**conn, *plan, database.dialect(), options, clock_, deadline);
        EXPECT_TRUE(v.ok()) << v.status().ToString();
        return v.ok() ? v->integer : -1;
      };
      SCOPED_TRACE(std::string(TimeFrameName(frame)));
      EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}}), e.count);
      EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}, {"where", "state = 'opened'"}}), e.opened);
      EXPECT_EQ(run({{"operation", "distinct_count"}, {"relation", "issues"}, {"column", "author_id"}}),
                e.distinct_authors);
      EXPECT_EQ(run({{"operation", "sum"}, {"relation", "issues"}, {"column", "weight"}}), e.weight_sum);
    }
  }

  SystemClock clock_;
};

const char* kCreateTable =
    "CREATE TABLE issues(id INTEGER PRIMARY KEY, author_id INTEGER, state TEXT, weight INTEGER, created_at %s);"
    "CREATE TABLE tags(name TEXT, created_at %s);";

std::string CreateTable(const char* ts_type) {
  char buffer[512];
  std::snprintf(buffer, sizeof buffer, kCreateTable, ts_type, ts_type);
  return buffer;
}

TEST_F(DatabaseMetricTest, CountsDistinctCountsAndSumsOverTimeFramesInSqlite) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.db";
  auto rows = MakeRows(2500);
  ExecSqlite(path, CreateTable("TEXT") + InsertSql(rows));
  auto database = OpenSqlDatabase("sqlite://" + path, clock_);
  ASSERT_TRUE(database.ok());
  CheckAll(**database, rows, DatabaseQueryOptions{});
  DatabaseQueryOptions small;  // many batches, including a partial last one
  small.count_batch_size = 333;
  small.distinct_batch_size = 7;
  small.min_batch_size = 1;
  CheckAll(**database, rows, small);
}

TEST_F(DatabaseMetricTest, CountsDistinctCountsAndSumsOverTimeFramesInPostgres) {
  testing::PostgresTestServer pg;
  ASSERT_TRUE(pg.Start().ok());
  auto rows = MakeRows(2500);
  ASSERT_TRUE(pg.Execute(CreateTable("timestamptz") + InsertSql(rows)).ok());
  auto database = OpenSqlDatabase(pg.url(), clock_);
  ASSERT_TRUE(database.ok());
  CheckAll(**database, rows, DatabaseQueryOptions{});
  DatabaseQueryOptions small;
  small.count_batch_size = 333;
  small.distinct_batch_size = 7;
  CheckAll(**database, rows, small);
  EXPECT_THAT(*(*database)->ServerVersion(), HasSubstr("15."));

  // A slow query ends at its deadline with kDeadlineExceeded.
  auto conn = (*database)->Connect();
  ASSERT_TRUE(conn.ok());
  auto plan = PlanDatabaseMetric(
      Def({{"operation", "count"}, {"relation", "tags"}, {"where", "pg_sleep(30) IS NOT NULL"}}), TimeFrame::kAll, kNow);
  ASSERT_TRUE(pg.Execute("INSERT INTO tags VALUES ('a', now())").ok());
  ASSERT_TRUE(plan.ok());
  auto slow = RunDatabaseMetric(**conn, *plan, SqlDialect::kPostgresql, DatabaseQueryOptions{}, clock_,
                                clock_.Monotonic() + std::chrono::milliseconds(300));
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded);
  // The connection is still usable afterwards.
  auto again = RunDatabaseMetric(**conn, *PlanDatabaseMetric(Def({{"operation", "count"}, {"relation", "tags"}}),
                                                             TimeFrame::kAll, kNow),
                                 SqlDialect::kPostgresql, DatabaseQueryOptions{}, clock_,
                                 clock_.Monotonic() + std::chrono::seconds(30));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->integer, 1);
}

// A condition whose cost grows with the batch: it sleeps `seconds` for every row it
// is evaluated on (pg_sleep sleeps at least 1 ms), then returns `result`.
const char* kSleepingCondition =
    "CREATE FUNCTION furrow_test_sleep_then(seconds float8, result boolean) RETURNS boolean "
    "LANGUAGE plpgsql VOLATILE AS $$ BEGIN PERFORM pg_sleep(seconds); RETURN result; END $$;";

// One batch query as the statement log shows it: ids [start, stop), and whether it
// finished (a failed one carries its error as a trailing comment).
struct LoggedBatch {
  int64_t start = 0, stop = 0;
  bool ok = false;
};

std::vector<LoggedBatch> LoggedBatches(const std::string& path) {
  std::vector<LoggedBatch> out;
  std::ifstream in(path);
  const std::regex range(R"re("id" >= (\d+) AND "id" < (\d+))re");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, range)) continue;  // the MIN/MAX bounds query
    out.push_back(LoggedBatch{std::stoll(m[1]), std::stoll(m[2]), line.back() == ';'});
  }
  return out;
}

class PostgresBatchTimeoutTest : public DatabaseMetricTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pg_.Start().ok());
    ASSERT_TRUE(pg_.Execute(CreateTable("timestamptz") + InsertSql(rows_) + ";" + kSleepingCondition).ok());
    auto database = OpenSqlDatabase(pg_.url(), clock_);
    ASSERT_TRUE(database.ok());
    auto logged = NewStatementLogDatabase(std::move(database).value(), log_path_);
    ASSERT_TRUE(logged.ok()) << logged.status().ToString();
    database_ = std::move(logged).value();
  }

  DatabaseMetricPlan Plan(const std::string& where) {
    auto plan = PlanDatabaseMetric(Def({{"operation", "count"}, {"relation", "issues"}, {"where", where}}),
                                   TimeFrame::kAll, kNow);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    return plan.ok() ? *plan : DatabaseMetricPlan{};
  }

  testing::PostgresTestServer pg_;
  testing::TempDir dir_;
  const std::string log_path_ = dir_.path() + "/statements.sql";
  const std::vector<IssueRow> rows_ = MakeRows(1200);
  std::unique_ptr<SqlDatabase> database_;
};

TEST_F(PostgresBatchTimeoutTest, HalvesABatchThatTimesOutAndStillCountsEveryRow) {
  DatabaseQueryOptions options;
  options.count_batch_size = 1000;
  options.min_batch_size = 50;
  options.query_timeout = std::chrono::milliseconds(400);
  auto conn = database_->Connect();
  ASSERT_TRUE(conn.ok());
  // About 1 ms per row: 1,000 ids take over a second, 250 ids about a quarter.
  auto v = RunDatabaseMetric(**conn, Plan("furrow_test_sleep_then(0.001, state = 'opened')"),
                             SqlDialect::kPostgresql, options, clock_, clock_.Monotonic() + std::chrono::seconds(60));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->integer, Compute(rows_, TimeFrame::kAll).opened);

  std::vector<LoggedBatch> batches = LoggedBatches(log_path_);
  ASSERT_GE(batches.size(), 3u);
  // The first batch (ids 1..1000) times out and is retried from the same id with
  // half the size.
  EXPECT_EQ(batches[0].start, 1);
  EXPECT_EQ(batches[0].stop, 1001);
  EXPECT_FALSE(batches[0].ok);
  EXPECT_EQ(batches[1].start, 1);
  EXPECT_EQ(batches[1].stop, 501);
  // The batches that finished cover every id once, and the size never grows back.
  int64_t next = 1;
  for (const LoggedBatch& b : batches) {
    if (!b.ok) continue;
    EXPECT_EQ(b.start, next);
    EXPECT_LE(b.stop - b.start, 500);
    next = b.stop;
  }
  EXPECT_EQ(next, 1201);
}

TEST_F(PostgresBatchTimeoutTest, AMetricThatTimesOutAtEveryBatchSizeReportsTheFallback) {
  DatabaseQueryOptions options;
  options.count_batch_size = 400;
  options.min_batch_size = 100;
  options.query_timeout = std::chrono::milliseconds(150);
  const std::string where = "furrow_test_sleep_then(5, state = 'opened')";  // 5 s for the first row already
  {
    auto conn = database_->Connect();
    ASSERT_TRUE(conn.ok());
    auto v = RunDatabaseMetric(**conn, Plan(where), SqlDialect::kPostgresql, options, clock_,
                               clock_.Monotonic() + std::chrono::seconds(60));
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kDeadlineExceeded);
  }
  // 400 ids (clipped to the table's 1,200), then 200, then 100 = min_batch_size: give up.
  std::vector<LoggedBatch> batches = LoggedBatches(log_path_);
  ASSERT_EQ(batches.size(), 3u);
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].start, 1);
    EXPECT_EQ(batches[i].stop, 1 + (400 >> i));
    EXPECT_FALSE(batches[i].ok);
  }

  // In a payload the metric reports GitLab's fallback, -1, with the timeout in its metadata.
  auto definition = ParseMetricDefinition("slow.yml", R"yaml(
key_path: counts.slow_issues
description: Issues counted through a condition that is always too slow
product_group: analytics_instrumentation
value_type: number
status: active
time_frame: all
data_source: database
data_category: operational
milestone: "17.0"
introduced_by_url: https://example.com/furrow/mr/1
tiers: [free]
instrumentation_class: DatabaseMetric
options:
  operation: count
  relation: issues
  where: "furrow_test_sleep_then(5, state = 'opened')"
)yaml");
  ASSERT_TRUE(definition.ok()) << definition.status().ToString();
  DefinitionSet set;
  set.definitions.push_back(*definition);
  PayloadSources sources;
  sources.database = database_.get();
  PayloadOptions payload_options;
  payload_options.database = options;
  auto payload = BuildPayload(set, sources, payload_options, clock_);
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_THAT(payload->json, HasSubstr("\"counts\":{\"slow_issues\":-1}"));
  ASSERT_EQ(payload->metrics.size(), 1u);
  EXPECT_EQ(payload->metrics[0].value_json, "-1");
  EXPECT_THAT(payload->metrics[0].error, HasSubstr("DEADLINE_EXCEEDED"));
}

TEST_F(DatabaseMetricTest, MetricsOverTheSameWindowShareOneBoundsQuery) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.db";
  auto rows = MakeRows(2500);
  ExecSqlite(path, CreateTable("TEXT") + InsertSql(rows));
  auto database = NewStatementLogDatabase(OpenSqlDatabase("sqlite://" + path, clock_).value(),
                                          dir.path() + "/statements.sql");
  ASSERT_TRUE(database.ok());
  auto conn = (*database)->Connect();
  ASSERT_TRUE(conn.ok());
  DatabaseQueryOptions options;
  options.count_batch_size = 333;
  BatchBoundsCache cache;
  auto run = [&](std::map<std::string, std::string> opts, TimeFrame frame) -> int64_t {
    auto plan = PlanDatabaseMetric(Def(std::move(opts)), frame, kNow);
    EXPECT_TRUE(plan.ok());
    auto v = RunDatabaseMetric(**conn, *plan, SqlDialect::kSqlite, options, clock_,
                               clock_.Monotonic() + std::chrono::seconds(30), &cache);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->integer : -1;
  };
  const Expected monthly = Compute(rows, TimeFrame::k28d), all = Compute(rows, TimeFrame::kAll);
  EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}}, TimeFrame::k28d), monthly.count);
  EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}, {"where", "state = 'opened'"}}, TimeFrame::k28d),
            monthly.opened);
  EXPECT_EQ(run({{"operation", "sum"}, {"relation", "issues"}, {"column", "weight"}}, TimeFrame::k28d),
            monthly.weight_sum);
  EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}, {"where", "state = 'opened'"}}, TimeFrame::k7d),
            Compute(rows, TimeFrame::k7d).opened);
  EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}}, TimeFrame::kAll), all.count);
  EXPECT_EQ(run({{"operation", "count"}, {"relation", "issues"}}, TimeFrame::kAll), all.count);

  // One bounds query for 28d, one for 7d; all-time bounds are asked every time.
  std::ifstream in(dir.path() + "/statements.sql");
  std::vector<std::string> bounds;
  for (std::string line; std::getline(in, line);) {
    if (line.find("MIN(") != std::string::npos) bounds.push_back(line);
  }
  ASSERT_EQ(bounds.size(), 4u);
  EXPECT_THAT(bounds[0], HasSubstr("'2026-10-26 10:00:00'"));
  EXPECT_THAT(bounds[1], HasSubstr("'2026-11-16 10:00:00'"));
  EXPECT_EQ(bounds[2], "SELECT MIN(\"id\"), MAX(\"id\") FROM \"issues\";");
  EXPECT_EQ(bounds[3], bounds[2]);
}

// 300,000 issues, one every 288 s (300 a day) up to kNow, ids growing with time;
// furrow_test_plan_uses(query, index) is 1 when EXPLAIN of the query names the index.
const char* kIssuesByTime =
    "CREATE TABLE issues(id bigint PRIMARY KEY, author_id int, state text, weight int,"
    "  created_at timestamptz);"
    "INSERT INTO issues SELECT g, g % 37, 'opened', g % 5, '2026-11-25 10:00:00+00'::timestamptz"
    "  - make_interval(secs => (300000 - g) * 288.0) FROM generate_series(1, 300000) g;"
    "CREATE INDEX issues_created_at ON issues(created_at); ANALYZE issues;"
    "CREATE FUNCTION furrow_test_plan_uses(query text, index text) RETURNS int LANGUAGE plpgsql AS $$"
    "DECLARE line text; BEGIN FOR line IN EXECUTE 'EXPLAIN ' || query LOOP"
    "  IF position(index IN line) > 0 THEN RETURN 1; END IF; END LOOP; RETURN 0; END $$;";

// Regression: PostgreSQL answered the plain "SELECT MIN(id), MAX(id) ... WHERE
// created_at in the window" by walking the primary key from the lowest id until a
// row passed the window, which with ids growing with time read nearly the whole
// table (250 ms per metric at 1M rows; bench/ping's PostgreSQL run was 3.2x slower
// than psql).
TEST_F(DatabaseMetricTest, WindowBoundsInPostgresReadTheTimeIndexNotTheWholePrimaryKey) {
  testing::PostgresTestServer pg;
  ASSERT_TRUE(pg.Start().ok());
  ASSERT_TRUE(pg.Execute(kIssuesByTime).ok());
  testing::TempDir dir;
  auto database =
      NewStatementLogDatabase(OpenSqlDatabase(pg.url(), clock_).value(), dir.path() + "/statements.sql");
  ASSERT_TRUE(database.ok());
  auto conn = (*database)->Connect();
  ASSERT_TRUE(conn.ok());
  auto plan = PlanDatabaseMetric(Def({{"operation", "count"}, {"relation", "issues"}}), TimeFrame::k28d, kNow);
  ASSERT_TRUE(plan.ok());
  auto v = RunDatabaseMetric(**conn, *plan, SqlDialect::kPostgresql, DatabaseQueryOptions{}, clock_,
                             clock_.Monotonic() + std::chrono::seconds(60));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->integer, 28 * 300);  // one row every 288 s: 300 a day

  std::ifstream in(dir.path() + "/statements.sql");
  std::string bounds;
  ASSERT_TRUE(std::getline(in, bounds));
  ASSERT_THAT(bounds, HasSubstr("MIN(\"id\")"));
  bounds.pop_back();  // the ';'
  std::string quoted;
  for (char c : bounds) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  auto uses = [&](const char* index) {
    auto r = (*conn)->QueryScalar("SELECT furrow_test_plan_uses('" + quoted + "', '" + index + "')",
                                  clock_.Monotonic() + std::chrono::seconds(10));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->integer : -1;
  };
  EXPECT_EQ(uses("issues_created_at"), 1);
  EXPECT_EQ(uses("issues_pkey"), 0);
}

TEST_F(DatabaseMetricTest, RejectsIdentifiersAndConditionsThatCouldInjectSql) {
  struct Case {
    std::map<std::string, std::string> options;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"operation", "count"}, {"relation", "issues; DROP TABLE issues"}}, "options.relation"},
      {{{"operation", "count"}, {"relation", "a.b.c"}}, "options.relation"},
      {{{"operation", "sum"}, {"relation", "issues"}, {"column", "weight) FROM x --"}}, "options.column"},
      {{{"operation", "count"}, {"relation", "issues"}, {"time_column", "created_at\""}}, "options.time_column"},
      {{{"operation", "count"}, {"relation", "issues"}, {"where", "1=1; DELETE FROM issues"}}, "options.where"},
      {{{"operation", "count"}, {"relation", "issues"}, {"where", "1=1 -- comment"}}, "options.where"},
      {{{"operation", "sum"}, {"relation", "issues"}}, "options.column"},
  };
  for (const auto& c : cases) {
    auto plan = PlanDatabaseMetric(Def(c.options), TimeFrame::kAll, kNow);
    ASSERT_FALSE(plan.ok()) << c.field;
    EXPECT_THAT(plan.status().message(), HasSubstr("test.yml: field `" + c.field + "`"));
  }
  auto ok = PlanDatabaseMetric(Def({{"operation", "count"}, {"relation", "public.issues"}}), TimeFrame::kAll, kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(FullQuery(*ok, SqlDialect::kPostgresql), "SELECT COUNT(*) FROM \"public\".\"issues\"");
  auto windowed = PlanDatabaseMetric(Def({{"operation", "distinct_count"}, {"relation", "issues"}, {"column", "author_id"}}),
                                     TimeFrame::k28d, kNow);
  ASSERT_TRUE(windowed.ok());
  EXPECT_EQ(FullQuery(*windowed, SqlDialect::kSqlite),
            "SELECT COUNT(DISTINCT \"author_id\") FROM \"issues\" WHERE \"created_at\" >= '2026-10-26 10:00:00' AND "
            "\"created_at\" < '2026-11-23 10:00:00'");
}

TEST_F(DatabaseMetricTest, SqliteReportsBrokenConditionsSlowQueriesAndTablesWithoutIds) {
  testing::TempDir dir;
  std::string path = dir.path() + "/app.db";
  auto rows = MakeRows(300);
  ExecSqlite(path, CreateTable("TEXT") + InsertSql(rows) + ";INSERT INTO tags VALUES ('a', '2026-11-01 00:00:00'), ('b', '2026-11-24 00:00:00')");
  auto database = OpenSqlDatabase("sqlite://" + path, clock_);
  ASSERT_TRUE(database.ok());
  auto conn = (*database)->Connect();
  ASSERT_TRUE(conn.ok());
  MonoTime deadline = clock_.Monotonic() + std::chrono::seconds(30);

  auto broken = PlanDatabaseMetric(Def({{"operation", "count"}, {"relation", "issues"}, {"where", "no_such_column = 1"}}),
                                   TimeFrame::kAll, kNow);
  ASSERT_TRUE(broken.ok());
  auto r = RunDatabaseMetric(**conn, *broken, SqlDialect::kSqlite, DatabaseQueryOptions{}, clock_, deadline);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no_such_column"));

  auto slow = PlanDatabaseMetric(Def({{"operation", "count"},
                                      {"relation", "issues"},
                                      {"where", "(SELECT COUNT(*) FROM issues a, issues b, issues c, issues d) > 0"}}),
                                 TimeFrame::kAll, kNow);
  ASSERT_TRUE(slow.ok());
  auto s = RunDatabaseMetric(**conn, *slow, SqlDialect::kSqlite, DatabaseQueryOptions{}, clock_,
                             clock_.Monotonic() + std::chrono::milliseconds(200));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kDeadlineExceeded);

  auto no_id = PlanDatabaseMetric(Def({{"operation", "count"}, {"relation", "tags"}}), TimeFrame::k28d, kNow);
  ASSERT_TRUE(no_id.ok());
  auto t = RunDatabaseMetric(**conn, *no_id, SqlDialect::kSqlite, DatabaseQueryOptions{}, clock_, deadline);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->integer, 1);  // 2026-11-01 is inside [10-26, 11-23); 11-24 is not

  auto missing = OpenSqlDatabase("sqlite://" + dir.path() + "/absent.db", clock_);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ((*missing)->Connect().status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(OpenSqlDatabase("mysql://x", clock_).ok());
}

}  // namespace
}  // namespace furrow::ping
