#include "ping/database_metric.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "core/time_format.h"
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
