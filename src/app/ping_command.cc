// `furrow ping generate | send | export | track | agent | serve`: Service Ping on
// the installation side. Wires furrow_ping's parts to the command line: the product
// database (--database), the usage store (--redis, else DATA_DIR/ping/usage.db),
// the instance file (--instance), the receiver (--receiver) and the HTTP API.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include "app/commands.h"
#include "app/signals.h"
#include "core/json_escape.h"
#include "core/logging.h"
#include "core/metrics.h"
#include "core/time_format.h"
#include "core/version.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "ping/agent.h"
#include "ping/agent_state.h"
#include "ping/database_metric.h"
#include "ping/installation_id.h"
#include "ping/metric_definition.h"
#include "ping/payload.h"
#include "ping/statement_log.h"
#include "ping/submitter.h"
#include "ping/usage_events.h"

namespace furrow::app {
namespace {

using ping::DefinitionSet;
using ping::Payload;

struct PingOptions {
  std::string data_dir = "./var";
  std::vector<std::string> definitions;
  std::string database;
  std::string redis;
  std::string instance;
  int threads = 4;
  double deadline_s = 600;
  double metric_timeout_s = 120;
  double query_timeout_s = 10;
  std::string sql_log;
  bool include_optional = false;
  std::string output;
  std::string receiver;
  // serve
  int port = 8095;
  std::string bind = "0.0.0.0";
  std::string token_file;
  // track
  std::string event;
  std::string user;
  std::string project;
  std::string namespace_id;
  std::vector<std::string> properties;
  double value = 0;
  bool has_value = false;
};

void AddGenerationOptions(CLI::App* cmd, PingOptions& o, bool definitions_required) {
  AddDataDirOption(cmd, &o.data_dir);
  auto* defs = cmd->add_option("--definitions", o.definitions,
                               "Directory of metric definition YAML files (repeatable; searched recursively)");
  if (definitions_required) defs->required();
  cmd->add_option("--database", o.database, "Product database: sqlite:///path or postgresql://...");
  cmd->add_option("--redis", o.redis, "Redis URL redis://host:port[/db] (default: DATA_DIR/ping/usage.db)");
  cmd->add_option("--instance", o.instance, "Instance file (YAML): identity, settings, license values")
      ->check(CLI::ExistingFile);
  cmd->add_option("--threads", o.threads, "Metrics computed concurrently")->capture_default_str()->check(CLI::Range(1, 64));
  cmd->add_option("--deadline", o.deadline_s, "Seconds the whole payload may take")->capture_default_str();
  cmd->add_option("--metric-timeout", o.metric_timeout_s, "Seconds one metric may take")->capture_default_str();
  cmd->add_option("--query-timeout", o.query_timeout_s, "Seconds one database query (batch) may take")
      ->capture_default_str();
  cmd->add_option("--sql-log", o.sql_log,
                  "Write every SQL statement run on --database to this file (a script sqlite3 / psql can replay)");
  cmd->add_flag("--include-optional", o.include_optional, "Include data_category optional metrics");
}

std::chrono::milliseconds Seconds(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(0.001, s) * 1000));
}

// Everything a payload needs, opened once per command.
struct Installation {
  DefinitionSet definitions;
  ping::InstanceConfig instance;
  std::unique_ptr<ping::SqlDatabase> database;
  std::unique_ptr<ping::UsageStore> usage;
  ping::PayloadSources sources;
  ping::PayloadOptions payload_options;
};

Result<std::unique_ptr<ping::UsageStore>> OpenUsageStore(const PingOptions& o) {
  if (!o.redis.empty()) return ping::OpenRedisUsageStore(o.redis);
  std::filesystem::path dir = std::filesystem::path(o.data_dir) / "ping";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  return ping::OpenEmbeddedUsageStore((dir / "usage.db").string(), SystemClock::Instance());
}

Result<DefinitionSet> LoadDefinitions(const PingOptions& o) {
  if (o.definitions.empty()) return DefinitionSet{};
  FURROW_ASSIGN_OR_RETURN(DefinitionSet set, ping::LoadMetricDefinitions(o.definitions));
  for (const auto& e : set.errors) log::Error("invalid metric definition", {{"error", e.message()}});
  if (!set.errors.empty()) {
    return InvalidArgumentError(std::to_string(set.errors.size()) + " metric definition file(s) are invalid");
  }
  for (const auto* d : set.Uninstrumented()) {
    log::Debug("no furrow instrumentation", {{"key_path", d->key_path}, {"reason", d->no_instrumentation_reason}});
  }
  return set;
}

Result<std::unique_ptr<Installation>> OpenInstallation(const PingOptions& o) {
  auto inst = std::make_unique<Installation>();
  FURROW_ASSIGN_OR_RETURN(inst->definitions, LoadDefinitions(o));
  if (!o.instance.empty()) {
    FURROW_ASSIGN_OR_RETURN(inst->instance, ping::LoadInstanceConfig(o.instance));
  }
  if (!o.database.empty()) {
    FURROW_ASSIGN_OR_RETURN(inst->database, ping::OpenSqlDatabase(o.database, SystemClock::Instance()));
    if (!o.sql_log.empty()) {
      FURROW_ASSIGN_OR_RETURN(inst->database, ping::NewStatementLogDatabase(std::move(inst->database), o.sql_log));
    }
  }
  FURROW_ASSIGN_OR_RETURN(inst->usage, OpenUsageStore(o));
  FURROW_ASSIGN_OR_RETURN(std::string uuid, ping::LoadOrCreateInstallationId(o.data_dir));
  inst->sources.database = inst->database.get();
  inst->sources.usage = inst->usage.get();
  inst->sources.instance = inst->instance;
  inst->sources.system = ping::CollectSystemInfo();
  inst->sources.uuid = uuid;
  inst->sources.version = inst->instance.version.empty() ? std::string(kVersion) : inst->instance.version;
  auto& po = inst->payload_options;
  po.threads = o.threads;
  po.deadline = Seconds(o.deadline_s);
  po.metric_timeout = Seconds(o.metric_timeout_s);
  po.database.query_timeout = Seconds(o.query_timeout_s);
  po.include_optional = o.include_optional || inst->instance.include_optional_metrics;
  return inst;
}

Result<Payload> Generate(const Installation& inst, bool skip_database = false) {
  ping::PayloadOptions options = inst.payload_options;
  options.skip_database = skip_database;
  FURROW_ASSIGN_OR_RETURN(Payload payload,
                          ping::BuildPayload(inst.definitions, inst.sources, options, SystemClock::Instance()));
  size_t failed = std::count_if(payload.metrics.begin(), payload.metrics.end(),
                                [](const ping::MetricOutcome& m) { return !m.error.empty(); });
  for (const auto& m : payload.metrics) {
    if (!m.error.empty()) log::Warn("metric failed", {{"key_path", m.key_path}, {"error", m.error}});
  }
  log::Info("service ping generated", {{"metrics", static_cast<uint64_t>(payload.metrics.size())},
                                       {"failed", static_cast<uint64_t>(failed)},
                                       {"no_furrow_instrumentation", static_cast<uint64_t>(payload.uninstrumented.size())},
                                       {"seconds", payload.elapsed_seconds}});
  return payload;
}

// Writes `text` to `path` atomically (temporary file + rename), or to stdout for "" / "-".
Status WriteOutput(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return Status::Ok();
  }
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text << "\n";
    out.flush();
    if (!out) return IoError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return IoError("cannot rename " + tmp + " to " + path + ": " + ec.message());
  return Status::Ok();
}

int Fail(const Status& s) {
  log::Error("ping failed", {{"error", s.ToString()}});
  std::fprintf(stderr, "furrow ping: %s\n", s.message().c_str());
  return kExitFailure;
}

ping::PingRecord RecordOf(const Payload& p) {
  ping::PingRecord r;
  r.recorded_at_ms = p.recorded_at_ms;
  r.recorded_at = p.recorded_at;
  r.payload = p.json;
  r.metadata = ping::MetadataJson(p);
  return r;
}

int RunGenerate(const PingOptions& o, bool store) {
  auto inst = OpenInstallation(o);
  if (!inst.ok()) return Fail(inst.status());
  auto payload = Generate(**inst);
  if (!payload.ok()) return Fail(payload.status());
  if (store) {
    auto state = ping::AgentState::Open(o.data_dir);
    if (!state.ok()) return Fail(state.status());
    Status saved = (*state)->Save(RecordOf(*payload));
    if (!saved.ok()) return Fail(saved);
  }
  Status written = WriteOutput(o.output, payload->json);
  if (!written.ok()) return Fail(written);
  return kExitOk;
}

int RunSend(const PingOptions& o) {
  auto inst = OpenInstallation(o);
  if (!inst.ok()) return Fail(inst.status());
  if (!(*inst)->instance.ping_enabled) {
    std::fprintf(stderr, "furrow ping: sending is disabled in the instance file (service_ping.enabled)\n");
    return kExitFailure;
  }
  auto state = ping::AgentState::Open(o.data_dir);
  if (!state.ok()) return Fail(state.status());
  auto payload = Generate(**inst);
  if (!payload.ok()) return Fail(payload.status());
  ping::PingRecord record = RecordOf(*payload);
  Status saved = (*state)->Save(record);
  if (!saved.ok()) return Fail(saved);
  net::HttpClient client;
  ping::Submitter submitter(client, o.receiver, SystemClock::Instance());
  ping::SenderIdentity sender{payload->uuid, payload->hostname, payload->version};
  auto outcome = ping::DeliverPing(**state, submitter, record, sender, SystemClock::Instance());
  if (!outcome.ok()) return Fail(outcome.status());
  if (!outcome->ok) {
    std::fprintf(stderr, "furrow ping: not accepted: %s (a retry is scheduled for `furrow ping agent`)\n",
                 outcome->error.c_str());
    return kExitFailure;
  }
  std::printf("sent usage_data_id=%lld\n", static_cast<long long>(outcome->usage_data_id));
  return kExitOk;
}

Result<ping::TrackedEvent> EventFromOptions(const PingOptions& o) {
  ping::TrackedEvent e;
  e.name = o.event;
  e.user_id = o.user;
  e.project_id = o.project;
  e.namespace_id = o.namespace_id;
  for (const auto& p : o.properties) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return InvalidArgumentError("--property wants NAME=VALUE, got '" + p + "'");
    e.properties[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (o.has_value) e.value = o.value;
  return e;
}

int RunTrack(const PingOptions& o) {
  auto defs = LoadDefinitions(o);
  if (!defs.ok()) return Fail(defs.status());
  auto store = OpenUsageStore(o);
  if (!store.ok()) return Fail(store.status());
  auto event = EventFromOptions(o);
  if (!event.ok()) return Fail(event.status());
  ping::EventRecorder recorder(**store, defs->definitions, SystemClock::Instance());
  Status s = recorder.Track(*event);
  if (!s.ok()) return Fail(s);
  return kExitOk;
}

// Waits until `until` (wall time) or a termination signal; true if signalled.
bool WaitUntilOrSignal(WallTime until) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (true) {
    auto left = until - SystemClock::Instance().Now();
    if (left <= std::chrono::seconds(0)) return false;
    auto capped = std::min<std::chrono::nanoseconds>(left, std::chrono::minutes(10));  // re-check the wall clock
    timespec ts;
    ts.tv_sec = static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(capped).count());
    ts.tv_nsec = static_cast<long>((capped - std::chrono::seconds(ts.tv_sec)).count());
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) return true;
  }
}

int RunAgent(const PingOptions& o) {
  auto inst = OpenInstallation(o);
  if (!inst.ok()) return Fail(inst.status());
  auto state = ping::AgentState::Open(o.data_dir);
  if (!state.ok()) return Fail(state.status());
  net::HttpClient client;
  std::unique_ptr<ping::Submitter> submitter;
  if (!o.receiver.empty()) submitter = std::make_unique<ping::Submitter>(client, o.receiver, SystemClock::Instance());
  ping::AgentSettings settings;
  settings.ping_enabled = (*inst)->instance.ping_enabled && submitter != nullptr;
  settings.generation_enabled = (*inst)->instance.generation_enabled;
  std::random_device rd;
  int splay = static_cast<int>(rd() % 61);
  const Installation& installation = **inst;
  ping::Agent agent(**state, [&installation] { return Generate(installation); }, submitter.get(), settings,
                    installation.sources.uuid, SystemClock::Instance(), splay);
  ping::WeeklySlot slot = ping::SlotForInstallation(installation.sources.uuid);
  log::Info("service ping agent started", {{"weekday", slot.weekday},
                                           {"hour", slot.hour},
                                           {"minute", slot.minute},
                                           {"splay_seconds", splay},
                                           {"ping_enabled", settings.ping_enabled},
                                           {"generation_enabled", settings.generation_enabled}});
  while (true) {
    auto tick = agent.Tick();
    WallTime next = SystemClock::Instance().Now() + std::chrono::minutes(5);
    if (!tick.ok()) {
      log::Error("service ping agent tick failed", {{"error", tick.status().ToString()}});
    } else {
      next = tick->next_tick;
      log::Info("service ping agent sleeping",
                {{"until", FormatIso8601Millis(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           next.time_since_epoch()).count())}});
    }
    if (WaitUntilOrSignal(next)) break;
  }
  log::Info("service ping agent stopped");
  return kExitOk;
}

// Runs blocking work (payloads, store writes) off the HTTP server's I/O threads.
// Bounded: Submit returns false when `max_pending` jobs wait.
class JobQueue {
 public:
  JobQueue(int threads, size_t max_pending) : max_pending_(max_pending) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
  }
  ~JobQueue() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  bool Submit(std::function<void()> job) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || jobs_.size() >= max_pending_) return false;
    jobs_.push_back(std::move(job));
    cv_.notify_one();
    return true;
  }

 private:
  void Loop() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopping and drained
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  bool stopping_ = false;                   // guarded by mu_
  std::vector<std::thread> threads_;
};

net::HttpResponse JsonResponse(int status, std::string body) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.Set("Content-Type", "application/json");
  return r;
}

net::HttpResponse ErrorResponse(int status, const std::string& message) {
  std::string body = "{\"message\":";
  AppendJsonString(&body, message);
  body += "}";
  return JsonResponse(status, body);
}

// All definitions as one YAML sequence (GitLab's /usage_data/metric_definitions).
std::string DefinitionsYaml(const DefinitionSet& set) {
  YAML::Emitter out;
  out << YAML::BeginSeq;
  for (const auto& d : set.definitions) {
    try {
      out << YAML::Load(d.yaml);
    } catch (const YAML::Exception&) {
      continue;  // loaded once already; cannot fail here
    }
  }
  out << YAML::EndSeq;
  return std::string(out.c_str()) + "\n";
}

// The SQL of every database metric, nested by key path (/usage_data/queries).
std::string QueriesJson(const Installation& inst) {
  std::vector<std::pair<std::string, std::string>> values;
  ping::SqlDialect dialect = inst.database ? inst.database->dialect() : ping::SqlDialect::kPostgresql;
  WallTime now = SystemClock::Instance().Now();
  for (const auto& i : ping::SelectInstances(inst.definitions, inst.payload_options.include_optional)) {
    if (i.definition->instrumentation != ping::Instrumentation::kDatabase) continue;
    auto plan = ping::PlanDatabaseMetric(*i.definition, i.time_frame, now);
    std::string json;
    AppendJsonString(&json, plan.ok() ? ping::FullQuery(*plan, dialect) : plan.status().message());
    values.emplace_back(i.key_path, json);
  }
  return ping::NestedJson(values);
}

Result<ping::TrackedEvent> EventFromJson(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("body must be a JSON object");
  ping::TrackedEvent e;
  auto text = [&doc](const char* name, std::string* out) -> Status {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || it->value.IsNull()) return Status::Ok();
    if (it->value.IsString()) *out = it->value.GetString();
    else if (it->value.IsInt64()) *out = std::to_string(it->value.GetInt64());
    else return InvalidArgumentError(std::string(name) + " must be a string or an integer");
    return Status::Ok();
  };
  FURROW_RETURN_IF_ERROR(text("event", &e.name));
  FURROW_RETURN_IF_ERROR(text("user_id", &e.user_id));
  FURROW_RETURN_IF_ERROR(text("project_id", &e.project_id));
  FURROW_RETURN_IF_ERROR(text("namespace_id", &e.namespace_id));
  auto props = doc.FindMember("additional_properties");
  if (props != doc.MemberEnd()) {
    if (!props->value.IsObject()) return InvalidArgumentError("additional_properties must be an object");
    for (auto& m : props->value.GetObject()) {
      std::string name = m.name.GetString();
      if (m.value.IsString()) e.properties[name] = m.value.GetString();
      else if (m.value.IsNumber()) e.properties[name] = ping::JsonNumber(m.value.GetDouble());
      else if (m.value.IsBool()) e.properties[name] = m.value.GetBool() ? "true" : "false";
      else return InvalidArgumentError("additional_properties." + name + " must be a string, number or boolean");
    }
  }
  auto value = doc.FindMember("value");
  if (value != doc.MemberEnd()) {
    if (!value->value.IsNumber()) return InvalidArgumentError("value must be a number");
    e.value = value->value.GetDouble();
  }
  FURROW_RETURN_IF_ERROR(ping::ValidateTrackedEvent(e));
  return e;
}

Result<std::string> ReadToken(const PingOptions& o) {
  std::string token;
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file);
    if (!in) return NotFoundError("cannot read token file " + o.token_file);
    std::getline(in, token);
  } else if (const char* env = std::getenv("FURROW_PING_TOKEN"); env != nullptr) {
    token = env;
  }
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) {
    return InvalidArgumentError("an API token of at least 16 characters is required (--token-file or FURROW_PING_TOKEN)");
  }
  return token;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool Authorized(const net::HttpRequest& request, const std::string& token) {
  if (auto h = request.Header("PRIVATE-TOKEN")) return ConstantTimeEquals(*h, token);
  if (auto h = request.Header("Authorization")) {
    constexpr std::string_view kBearer = "Bearer ";
    if (h->substr(0, kBearer.size()) == kBearer) return ConstantTimeEquals(h->substr(kBearer.size()), token);
  }
  return false;
}

int RunServe(const PingOptions& o) {
  auto token = ReadToken(o);
  if (!token.ok()) return Fail(token.status());
  auto inst = OpenInstallation(o);
  if (!inst.ok()) return Fail(inst.status());
  const Installation& installation = **inst;
  ping::EventRecorder recorder(*installation.usage, installation.definitions.definitions, SystemClock::Instance());
  const std::string definitions_yaml = DefinitionsYaml(installation.definitions);

  MetricsRegistry metrics;
  auto count = [&metrics](const std::string& route, int status) {
    metrics.GetCounter("furrow_ping_requests_total", "Installation API requests by route and status",
                       {{"route", route}, {"status", std::to_string(status)}}).Inc();
  };
  Counter& tracked = metrics.GetCounter("furrow_ping_events_tracked_total", "Events recorded by track_event");
  Counter& rejected = metrics.GetCounter("furrow_ping_events_rejected_total", "Malformed track_event requests");
  std::atomic<bool> stopping{false};
  JobQueue jobs(2, 256);

  auto handler = [&](net::HttpRequest&& request, std::shared_ptr<net::Responder> responder) {
    const std::string path = request.path;
    if (path == "/health" || path == "/metrics") {
      net::HttpResponse r;
      bool healthy = !stopping.load();
      r.status = path == "/metrics" || healthy ? 200 : 503;
      r.body = path == "/metrics" ? metrics.RenderPrometheus() : healthy ? "ok" : "stopping";
      r.Set("Content-Type", path == "/metrics" ? "text/plain; version=0.0.4" : "text/plain");
      return responder->Send(std::move(r));
    }
    auto reply = [&count, responder, path](net::HttpResponse r) {
      count(path, r.status);
      responder->Send(std::move(r));
    };
    auto offload = [&jobs, reply](std::function<net::HttpResponse()> work) {
      if (!jobs.Submit([reply, work] { reply(work()); })) reply(ErrorResponse(503, "busy"));
    };
    bool get = request.method == "GET";
    if (path == "/api/v4/usage_data/service_ping" && get) {
      if (!Authorized(request, *token)) return reply(ErrorResponse(401, "401 Unauthorized"));
      return offload([&installation] {
        auto payload = Generate(installation);
        return payload.ok() ? JsonResponse(200, payload->json) : ErrorResponse(500, payload.status().message());
      });
    }
    if (path == "/usage_data/metric_definitions" && get) {
      net::HttpResponse r;
      r.body = definitions_yaml;
      r.Set("Content-Type", "application/yaml");
      return reply(std::move(r));
    }
    if (path == "/usage_data/queries" && get) {
      if (!Authorized(request, *token)) return reply(ErrorResponse(401, "401 Unauthorized"));
      return reply(JsonResponse(200, QueriesJson(installation)));
    }
    if (path == "/usage_data/non_sql_metrics" && get) {
      if (!Authorized(request, *token)) return reply(ErrorResponse(401, "401 Unauthorized"));
      return offload([&installation] {
        auto payload = Generate(installation, /*skip_database=*/true);
        return payload.ok() ? JsonResponse(200, payload->json) : ErrorResponse(500, payload.status().message());
      });
    }
    if ((path == "/usage_data/track_event" || path == "/api/v4/usage_data/track_event") && request.method == "POST") {
      auto event = EventFromJson(request.body);
      if (!event.ok()) {
        rejected.Inc();
        return reply(ErrorResponse(400, event.status().message()));
      }
      return offload([&recorder, &tracked, e = std::move(event).value()] {
        Status s = recorder.Track(e);
        if (!s.ok()) return ErrorResponse(503, s.message());
        tracked.Inc();
        return JsonResponse(200, "{}");
      });
    }
    return reply(ErrorResponse(404, "404 Not Found"));
  };

  net::HttpServerOptions server_options;
  server_options.bind = o.bind;
  server_options.port = o.port;
  server_options.threads = 2;
  server_options.max_body_bytes = 64 * 1024;
  net::HttpServer server(server_options, handler, metrics, "furrow_ping");
  Status started = server.Start();
  if (!started.ok()) return Fail(started);
  AnnounceListening(o.bind, server.port());
  WaitForTerminationSignal();
  stopping = true;
  server.Stop(std::chrono::seconds(30));
  log::Info("service ping API stopped");
  return kExitOk;
}

}  // namespace

void RegisterPingCommands(CLI::App& app, Commands& commands) {
  static PingOptions generate, send, exp, track, agent, serve;
  CLI::App* ping = app.add_subcommand("ping", "Service Ping on the installation side");
  ping->require_subcommand(1);

  CLI::App* g = ping->add_subcommand("generate", "Compute the usage payload and print it (or write --output)");
  AddGenerationOptions(g, generate, true);
  g->add_option("--output", generate.output, "Write the payload to FILE instead of stdout");
  commands.SetRunner(g, [] { return RunGenerate(generate, false); });

  static PingOptions queries;
  CLI::App* q = ping->add_subcommand("queries", "Print the SQL of every database metric, nested by key path");
  AddGenerationOptions(q, queries, true);
  commands.SetRunner(q, [] {
    auto inst = OpenInstallation(queries);
    if (!inst.ok()) return Fail(inst.status());
    Status written = WriteOutput("", QueriesJson(**inst));
    return written.ok() ? kExitOk : Fail(written);
  });

  CLI::App* s = ping->add_subcommand("send", "Compute the payload and send it to the receiver");
  AddGenerationOptions(s, send, true);
  s->add_option("--receiver", send.receiver, "Receiver base URL, e.g. https://version.example.com")->required();
  commands.SetRunner(s, [] { return RunSend(send); });

  CLI::App* e = ping->add_subcommand("export", "Compute the payload and write it to a file (air-gapped upload)");
  AddGenerationOptions(e, exp, true);
  e->add_option("--output", exp.output, "File to write the payload to")->required();
  commands.SetRunner(e, [] { return RunGenerate(exp, true); });

  CLI::App* t = ping->add_subcommand("track", "Record one internal event");
  AddDataDirOption(t, &track.data_dir);
  t->add_option("event", track.event, "Event name")->required();
  t->add_option("--user", track.user, "user.id of the event");
  t->add_option("--project", track.project, "project.id of the event");
  t->add_option("--namespace", track.namespace_id, "namespace.id of the event");
  t->add_option("--property", track.properties, "NAME=VALUE (label, property, value, or custom; repeatable)");
  t->add_option("--value", track.value, "Numeric value (summed by operator sum(value))")
      ->each([](const std::string&) { track.has_value = true; });
  t->add_option("--definitions", track.definitions, "Definitions whose event filters to keep counts for");
  t->add_option("--redis", track.redis, "Redis URL (default: DATA_DIR/ping/usage.db)");
  commands.SetRunner(t, [] { return RunTrack(track); });

  CLI::App* a = ping->add_subcommand("agent", "Run continuously; send the payload once a week at this installation's slot");
  AddGenerationOptions(a, agent, true);
  a->add_option("--receiver", agent.receiver, "Receiver base URL (without it, payloads are only stored)");
  commands.SetRunner(a, [] { return RunAgent(agent); });

  CLI::App* v = ping->add_subcommand("serve", "Installation API for the pull job and track_event");
  AddGenerationOptions(v, serve, true);
  AddListenOptions(v, &serve.port, &serve.bind, 8095);
  v->add_option("--token-file", serve.token_file, "File holding the API token (else env FURROW_PING_TOKEN)");
  commands.SetRunner(v, [] { return RunServe(serve); });
}

}  // namespace furrow::app
