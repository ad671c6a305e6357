// `furrow receiver` (the Service Ping receiver service) and `furrow receiver extract`
// (the daily extract, also run by the service itself). Picks the PingStore
// implementation and the lake; see receiver/receiver.h and docs/receiver.md.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/admin_server.h"
#include "app/commands.h"
#include "app/lake.h"
#include "app/signals.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "net/http_server.h"
#include "receiver/extract.h"
#include "receiver/job_schedule.h"
#include "receiver/ping_pull.h"
#include "receiver/postgres_ping_store.h"
#include "ping/sql_database.h"
#include "net/http_client.h"
#include "receiver/receiver.h"
#include "receiver/sqlite_ping_store.h"
#include "warehouse/loader.h"
#include "warehouse/open_warehouse.h"

namespace furrow::app {
namespace {

struct ReceiverCommandOptions {
  std::string data_dir = "./var";
  int port = 8090;
  std::string bind = "0.0.0.0";
  int threads = 0;
  size_t max_body_bytes = 10 * 1024 * 1024;
  int max_depth = 64;
  int64_t request_timeout_s = 30;
  int64_t drain_timeout_s = 10;
  int workers = 32;
  size_t queue = 256;
  std::string database;  // "" = DATA_DIR/receiver.sqlite
  std::string token_file;
  std::string lake;
  LakeOptions lake_options;
  std::string extract_at = "00:30";   // daily, UTC; "off" disables
  std::string load_day = "sunday";    // weekly load, UTC
  std::string load_at = "02:00";      // "off" disables
  std::string warehouse;              // "" = DATA_DIR/warehouse.sqlite
  std::string pull_url;               // "" = no scheduled pull
  std::string pull_token_file;
  std::string pull_database;
  std::string pull_day = "sunday";
  std::string pull_at = "03:00";
  // extract subcommand
  std::string date;
};

int Fail(const char* command, const std::string& what, const Status& status) {
  log::Error(what, {{"error", status.ToString()}});
  std::fprintf(stderr, "furrow %s: %s: %s\n", command, what.c_str(), status.ToString().c_str());
  return kExitFailure;
}

Result<std::unique_ptr<receiver::PingStore>> OpenStore(const ReceiverCommandOptions& o) {
  if (o.database.empty()) return receiver::OpenSqlitePingStore(o.data_dir + "/receiver.sqlite");
  const std::string kSqlite = "sqlite://";
  if (o.database.rfind(kSqlite, 0) == 0 && o.database.size() > kSqlite.size()) {
    return receiver::OpenSqlitePingStore(o.database.substr(kSqlite.size()));
  }
  if (o.database.rfind("postgresql://", 0) == 0 || o.database.rfind("postgres://", 0) == 0) {
    return receiver::OpenPostgresPingStore(o.database);
  }
  return InvalidArgumentError("unsupported --database URL (expected sqlite://PATH or postgresql://...): " +
                              o.database.substr(0, o.database.find("://")) + "://...");
}

// API tokens: one per line from --token-file, else comma-separated in
// FURROW_RECEIVER_TOKENS. Never from the command line.
Result<std::vector<std::string>> LoadTokens(const ReceiverCommandOptions& o) {
  std::vector<std::string> tokens;
  auto add = [&](std::string t) -> Status {
    while (!t.empty() && (t.back() == '\r' || t.back() == ' ' || t.back() == '\t')) t.pop_back();
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.erase(t.begin());
    if (t.empty()) return Status::Ok();
    if (t.size() < 16) return InvalidArgumentError("API tokens must be at least 16 characters");
    tokens.push_back(std::move(t));
    return Status::Ok();
  };
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in) return NotFoundError("cannot read token file " + o.token_file);
    std::string line;
    while (std::getline(in, line)) FURROW_RETURN_IF_ERROR(add(line));
  } else if (const char* env = std::getenv("FURROW_RECEIVER_TOKENS"); env != nullptr) {
    std::string all = env;
    size_t pos = 0;
    while (pos <= all.size()) {
      size_t comma = all.find(',', pos);
      FURROW_RETURN_IF_ERROR(add(all.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos)));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  return tokens;
}

Status RunExtract(receiver::PingStore& store, storage::ObjectStore& lake, const std::vector<std::string>& dates) {
  for (const std::string& date : dates) {
    FURROW_ASSIGN_OR_RETURN(receiver::ExtractStats stats, receiver::ExtractDay(store, lake, date));
    log::Info("extract done", {{"date", date}, {"files", stats.files}, {"rows", stats.rows}});
  }
  return Status::Ok();
}

// Runs the daily extract and the weekly load on a thread until Stop().
class JobRunner {
 public:
  JobRunner(const ReceiverCommandOptions& o, receiver::PingStore* store, storage::ObjectStore* lake, const Clock* clock)
      : o_(o), store_(store), lake_(lake), clock_(clock) {}
  ~JobRunner() { Stop(); }

  Status Start() {
    if (o_.extract_at != "off") {
      FURROW_ASSIGN_OR_RETURN(extract_minute_, receiver::ParseTimeOfDay(o_.extract_at));
    }
    if (o_.load_at != "off") {
      FURROW_ASSIGN_OR_RETURN(load_minute_, receiver::ParseTimeOfDay(o_.load_at));
      FURROW_ASSIGN_OR_RETURN(load_day_, receiver::ParseWeekday(o_.load_day));
    }
    if (!o_.pull_url.empty() && o_.pull_at != "off") {
      if (o_.pull_database.empty() || o_.pull_token_file.empty()) {
        return InvalidArgumentError("--pull-url needs --pull-database and --pull-token-file");
      }
      FURROW_ASSIGN_OR_RETURN(pull_minute_, receiver::ParseTimeOfDay(o_.pull_at));
      FURROW_ASSIGN_OR_RETURN(pull_day_, receiver::ParseWeekday(o_.pull_day));
    }
    if (extract_minute_ < 0 && load_minute_ < 0 && pull_minute_ < 0) return Status::Ok();
    thread_ = std::thread([this] { Run(); });
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    int64_t now = clock_->NowMillis();
    int64_t next_extract = extract_minute_ >= 0 ? receiver::NextDailyMillis(now, extract_minute_) : INT64_MAX;
    int64_t next_load = load_minute_ >= 0 ? receiver::NextWeeklyMillis(now, load_day_, load_minute_) : INT64_MAX;
    int64_t next_pull = pull_minute_ >= 0 ? receiver::NextWeeklyMillis(now, pull_day_, pull_minute_) : INT64_MAX;
    while (true) {
      int64_t due = std::min({next_extract, next_load, next_pull});
      {
        std::unique_lock<std::mutex> lock(mu_);
        auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(due - clock_->NowMillis());
        wake_.wait_until(lock, deadline, [this] { return stopping_; });
        if (stopping_) return;
      }
      now = clock_->NowMillis();
      if (now >= next_extract) {
        // Finish yesterday and take today so far.
        Status s = RunExtract(*store_, *lake_, {receiver::UtcDate(now - 24 * 3600 * 1000), receiver::UtcDate(now)});
        if (!s.ok()) log::Error("scheduled extract failed", {{"error", s.ToString()}});
        next_extract = receiver::NextDailyMillis(now, extract_minute_);
      }
      if (now >= next_load) {
        Status s = Load();
        if (!s.ok()) log::Error("scheduled warehouse load failed", {{"error", s.ToString()}});
        next_load = receiver::NextWeeklyMillis(now, load_day_, load_minute_);
      }
      if (now >= next_pull) {
        Status s = Pull();
        if (!s.ok()) log::Error("scheduled ping pull failed", {{"error", s.ToString()}});
        next_pull = receiver::NextWeeklyMillis(now, pull_day_, pull_minute_);
      }
    }
  }

  Status Load() {
    FURROW_ASSIGN_OR_RETURN(auto warehouse, warehouse::OpenWarehouse(o_.warehouse, o_.data_dir, *clock_));
    warehouse::LoadOptions options;
    options.events = false;
    FURROW_ASSIGN_OR_RETURN(warehouse::LoadStats stats, warehouse::LoadFromLake(*lake_, *warehouse, options));
    log::Info("scheduled warehouse load done", {{"files", stats.files}, {"pings", stats.pings},
                                                {"metric_rows", stats.metric_rows}});
    return Status::Ok();
  }

  Status Pull() {
    std::ifstream in(o_.pull_token_file);
    if (!in) return NotFoundError("cannot read " + o_.pull_token_file);
    receiver::PullOptions options;
    std::getline(in, options.token);
    while (!options.token.empty() && (options.token.back() == '\r' || options.token.back() == ' ')) {
      options.token.pop_back();
    }
    options.url = o_.pull_url;
    FURROW_ASSIGN_OR_RETURN(auto database, ping::OpenSqlDatabase(o_.pull_database, *clock_));
    net::HttpClient client;
    FURROW_ASSIGN_OR_RETURN(receiver::PullResult r, receiver::PullPing(options, client, *database, *store_, *clock_));
    log::Info("scheduled ping pull done", {{"usage_data_id", r.usage_data_id}, {"queries", r.queries},
                                           {"failed", r.failed}});
    return Status::Ok();
  }

  const ReceiverCommandOptions& o_;
  receiver::PingStore* store_;
  storage::ObjectStore* lake_;
  const Clock* clock_;
  int extract_minute_ = -1;
  int load_minute_ = -1;
  int load_day_ = 0;
  int pull_minute_ = -1;
  int pull_day_ = 0;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

int RunReceiver(ReceiverCommandOptions& o) {
  const char* kName = "receiver";
  MetricsRegistry metrics;
  const Clock& clock = SystemClock::Instance();
  Result<std::vector<std::string>> tokens = LoadTokens(o);
  if (!tokens.ok()) return Fail(kName, "bad tokens", tokens.status());
  if (tokens->empty()) log::Warn("no API tokens configured: the read and versions API answers 401");
  std::error_code ec;
  std::filesystem::create_directories(o.data_dir, ec);
  auto store = OpenStore(o);
  if (!store.ok()) return Fail(kName, "cannot open the ping store", store.status());
  o.lake_options.metrics = &metrics;
  auto lake = OpenLake(o.lake, o.data_dir, o.lake_options);
  if (!lake.ok()) return Fail(kName, "cannot open the lake", lake.status());

  receiver::ReceiverOptions options;
  options.limits.max_depth = o.max_depth;
  options.worker_threads = o.workers;
  options.worker_queue = o.queue;
  options.tokens = std::move(*tokens);
  receiver::Receiver receiver(std::move(options), store->get(), &clock, &metrics);
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  net::Handler handler = [&receiver, &metrics, stopping](net::HttpRequest&& request,
                                                         std::shared_ptr<net::Responder> responder) {
    if (ServeHealthAndMetrics(request, metrics, !stopping->load(), *responder)) return;
    receiver.Handle(std::move(request), std::move(responder));
  };

  JobRunner jobs(o, store->get(), lake->get(), &clock);
  Status scheduled = jobs.Start();
  if (!scheduled.ok()) return Fail(kName, "bad schedule", scheduled);

  net::HttpServerOptions server_options;
  server_options.bind = o.bind;
  server_options.port = o.port;
  server_options.threads = o.threads;
  server_options.max_body_bytes = o.max_body_bytes;
  server_options.header_timeout = std::chrono::seconds(o.request_timeout_s);
  server_options.body_timeout = std::chrono::seconds(o.request_timeout_s);
  server_options.clock = &clock;
  net::HttpServer server(server_options, handler, metrics, "furrow_receiver");
  Status started = server.Start();
  if (!started.ok()) return Fail(kName, "cannot listen", started);
  AnnounceListening(o.bind, server.port());
  log::Info("receiver started", {{"port", server.port()}, {"store", (*store)->Describe()},
                                 {"lake", (*lake)->Describe()}});

  int signal = WaitForTerminationSignal();
  log::Info("receiver stopping", {{"signal", signal}});
  stopping->store(true);
  jobs.Stop();
  // Requests in flight finish: the server drains, then the workers finish their queue.
  server.Stop(std::chrono::seconds(o.drain_timeout_s));
  receiver.Shutdown();
  log::Info("receiver stopped");
  return kExitOk;
}

int RunExtractCommand(ReceiverCommandOptions& o) {
  const char* kName = "receiver extract";
  auto store = OpenStore(o);
  if (!store.ok()) return Fail(kName, "cannot open the ping store", store.status());
  MetricsRegistry metrics;
  o.lake_options.metrics = &metrics;
  auto lake = OpenLake(o.lake, o.data_dir, o.lake_options);
  if (!lake.ok()) return Fail(kName, "cannot open the lake", lake.status());
  std::vector<std::string> dates;
  if (!o.date.empty()) {
    dates.push_back(o.date);
  } else {
    int64_t now = SystemClock::Instance().NowMillis();
    dates = {receiver::UtcDate(now - 24 * 3600 * 1000), receiver::UtcDate(now)};
  }
  int64_t files = 0;
  int64_t rows = 0;
  for (const std::string& date : dates) {
    auto stats = receiver::ExtractDay(**store, **lake, date);
    if (!stats.ok()) return Fail(kName, "extract of " + date + " failed", stats.status());
    files += stats->files;
    rows += stats->rows;
  }
  std::printf("extracted %lld rows in %lld files\n", static_cast<long long>(rows), static_cast<long long>(files));
  return kExitOk;
}

}  // namespace

void RegisterReceiverCommands(CLI::App& app, Commands& commands) {
  static ReceiverCommandOptions o;
  CLI::App* cmd = app.add_subcommand("receiver", "Run the Service Ping receiver (POST /usage_data and friends)");
  cmd->require_subcommand(0, 1);
  AddDataDirOption(cmd, &o.data_dir);
  AddListenOptions(cmd, &o.port, &o.bind, 8090);
  cmd->add_option("--threads", o.threads, "HTTP I/O threads; 0 = number of cores")->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "Largest request body (413 beyond)")->capture_default_str();
  cmd->add_option("--max-depth", o.max_depth, "Deepest JSON nesting accepted (400 beyond)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--request-timeout", o.request_timeout_s,
                  "Seconds to receive a request's headers, and again its body (408 beyond)")
      ->capture_default_str();
  cmd->add_option("--drain-timeout", o.drain_timeout_s, "Seconds to let in-flight requests finish on shutdown")
      ->capture_default_str();
  cmd->add_option("--workers", o.workers, "Threads parsing requests and writing to the store (as many as share one commit)")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->add_option("--queue", o.queue, "Requests waiting for a worker beyond which 503 is answered")
      ->capture_default_str();
  cmd->add_option("--database", o.database, "Ping store: sqlite://PATH or postgresql://... (default DATA_DIR/receiver.sqlite)");
  cmd->add_option("--token-file", o.token_file,
                  "File with API tokens, one per line (else FURROW_RECEIVER_TOKENS, comma-separated)");
  AddLakeOptions(cmd, &o.lake, &o.lake_options);
  cmd->add_option("--extract-at", o.extract_at, "Daily extract time HH:MM UTC, or off")->capture_default_str();
  cmd->add_option("--load-day", o.load_day, "Weekday of the weekly warehouse load (UTC)")->capture_default_str();
  cmd->add_option("--load-at", o.load_at, "Weekly warehouse load time HH:MM UTC, or off")->capture_default_str();
  cmd->add_option("--warehouse", o.warehouse, "Warehouse of the weekly load (default DATA_DIR/warehouse.sqlite)");
  cmd->add_option("--pull-url", o.pull_url, "Installation to pull weekly (see furrow ping pull); empty = none");
  cmd->add_option("--pull-token-file", o.pull_token_file, "File with that installation's API token");
  cmd->add_option("--pull-database", o.pull_database, "Replica to run its SQL on: sqlite://PATH or postgresql://...");
  cmd->add_option("--pull-day", o.pull_day, "Weekday of the weekly pull (UTC)")->capture_default_str();
  cmd->add_option("--pull-at", o.pull_at, "Weekly pull time HH:MM UTC, or off")->capture_default_str();
  commands.SetRunner(cmd, [] { return RunReceiver(o); });

  CLI::App* extract = cmd->add_subcommand("extract", "Write a day's received rows to the lake (pings/...)");
  extract->fallthrough();  // the receiver's --data-dir, --database, --lake ... may follow
  extract->add_option("--date", o.date, "UTC day YYYY-MM-DD (default: yesterday and today)");
  commands.SetRunner(extract, [] { return RunExtractCommand(o); });
}

}  // namespace furrow::app
