#include "ping/payload.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "core/json_escape.h"
#include "core/time_format.h"
#include "ping/usage_events.h"

namespace furrow::ping {
namespace {

// An ordered JSON object tree.
struct Node {
  bool leaf = false;
  std::string value_json;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> children;

  Node* Child(const std::string& name) {
    for (auto& [k, v] : children) {
      if (k == name) return v.get();
    }
    children.emplace_back(name, std::make_unique<Node>());
    return children.back().second.get();
  }

  Status Set(const std::string& key_path, const std::string& json) {
    Node* node = this;
    size_t start = 0;
    while (true) {
      size_t dot = key_path.find('.', start);
      std::string part = key_path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      node = node->Child(part);
      if (dot == std::string::npos) break;
      if (node->leaf) {
        return AlreadyExistsError("key path " + key_path + " collides with the value at " + key_path.substr(0, dot));
      }
      start = dot + 1;
    }
    if (!node->children.empty()) return AlreadyExistsError("key path " + key_path + " is an object of other metrics");
    node->leaf = true;
    node->value_json = json;
    return Status::Ok();
  }

  void Write(std::string* out) const {
    if (leaf) {
      *out += value_json;
      return;
    }
    *out += "{";
    bool first = true;
    for (const auto& [k, v] : children) {
      if (!first) *out += ",";
      first = false;
      AppendJsonString(out, k);
      *out += ":";
      v->Write(out);
    }
    *out += "}";
  }
};

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(&out, s);
  return out;
}

std::string FallbackFor(const MetricDefinition& d) {
  return d.status == MetricStatus::kDeprecated ? "-1000" : "-1";
}

std::string ScalarJson(const SqlScalar& v) {
  if (v.is_null) return "0";
  if (v.is_integer) return std::to_string(v.integer);
  return JsonNumber(v.real);
}

// Converts a configured JSON value to the definition's value_type where that is
// unambiguous (a string setting sent as a number metric stays as configured).
std::string Typed(const MetricDefinition& d, const std::string& json) {
  if (d.value_type == ValueType::kString && !json.empty() && json[0] != '"' && json != "null") return JsonString(json);
  return json;
}

struct SystemFacts {
  const PayloadSources& sources;
  Result<std::string> Value(const MetricDefinition& d) const {
    std::string name = d.Option("value");
    if (name.empty()) {
      const std::string& cls = d.instrumentation_class;
      if (cls == "HostnameMetric") name = "hostname";
      else if (cls == "VersionMetric") name = "version";
      else if (cls == "InstallationTypeMetric") name = "installation_type";
      else if (cls == "UniqueInstanceIdMetric" || cls == "UuidMetric") name = "uuid";
      else if (cls == "EditionMetric") name = "edition";
      else if (d.key_path == "database.adapter") name = "database_adapter";
      else if (d.key_path == "database.version") name = "database_version";
      else if (d.key_path == "database.flavor") name = "database_flavor";
      else if (d.key_path == "unique_instance_id") name = "uuid";
      else name = d.key_path;
    }
    const SystemInfo& s = sources.system;
    if (name == "hostname") return JsonString(Hostname());
    if (name == "version") return JsonString(sources.version);
    if (name == "installation_type") return JsonString(sources.instance.installation_type);
    if (name == "edition") return JsonString(sources.instance.edition);
    if (name == "uuid") return JsonString(sources.uuid);
    if (name == "os") return JsonString(s.os);
    if (name == "os_release") return JsonString(s.os_release);
    if (name == "architecture") return JsonString(s.architecture);
    if (name == "cpu_count") return std::to_string(s.cpu_count);
    if (name == "memory_bytes") return std::to_string(s.memory_bytes);
    if (name == "database_adapter" || name == "database_version" || name == "database_flavor") {
      if (sources.database == nullptr) return FailedPreconditionError("no database configured (--database)");
      if (name == "database_adapter") return JsonString(sources.database->adapter());
      if (name == "database_flavor") {
        return JsonString(sources.database->dialect() == SqlDialect::kSqlite ? "SQLite" : "PostgreSQL");
      }
      FURROW_ASSIGN_OR_RETURN(std::string version, sources.database->ServerVersion());
      return JsonString(version);
    }
    return InvalidArgumentError(d.file + ": unknown system value '" + name + "'");
  }
  std::string Hostname() const {
    return sources.instance.hostname.empty() ? sources.system.hostname : sources.instance.hostname;
  }
};

struct Worker {
  std::unique_ptr<SqlConnection> connection;
  BatchBoundsCache* bounds_cache = nullptr;  // shared by the payload's workers
};

Result<std::string> Compute(const MetricInstance& instance, const PayloadSources& sources,
                            const PayloadOptions& options, const Clock& clock, WallTime now, MonoTime deadline,
                            Worker& worker) {
  const MetricDefinition& d = *instance.definition;
  switch (d.instrumentation) {
    case Instrumentation::kDatabase: {
      if (sources.database == nullptr) return FailedPreconditionError("no database configured (--database)");
      FURROW_ASSIGN_OR_RETURN(DatabaseMetricPlan plan, PlanDatabaseMetric(d, instance.time_frame, now));
      if (worker.connection == nullptr) {
        FURROW_ASSIGN_OR_RETURN(worker.connection, sources.database->Connect());
      }
      Result<SqlScalar> v = RunDatabaseMetric(*worker.connection, plan, sources.database->dialect(), options.database,
                                              clock, deadline, worker.bounds_cache);
      if (!v.ok()) {
        if (v.status().code() == StatusCode::kUnavailable) worker.connection.reset();
        return v.status();
      }
      return ScalarJson(*v);
    }
    case Instrumentation::kRedisCounter:
    case Instrumentation::kRedisHll:
    case Instrumentation::kInternalEvents: {
      if (sources.usage == nullptr) return FailedPreconditionError("no usage store configured (--redis)");
      FURROW_ASSIGN_OR_RETURN(double v, ComputeUsageMetric(*sources.usage, d, instance.time_frame, now));
      return JsonNumber(v);
    }
    case Instrumentation::kSystem:
      return SystemFacts{sources}.Value(d);
    case Instrumentation::kSetting: {
      std::string name = d.Option("setting");
      if (name.empty()) name = d.key_path.substr(d.key_path.rfind('.') + 1);
      auto it = sources.instance.settings.find(name);
      if (it == sources.instance.settings.end()) return NotFoundError("setting " + name + " is not configured");
      return Typed(d, it->second);
    }
    case Instrumentation::kLicense: {
      std::string name = d.Option("attribute");
      if (!name.empty() && name.back() == '?') name.pop_back();
      auto it = sources.instance.license.find(name);
      if (it == sources.instance.license.end()) return NotFoundError("license attribute " + name + " is not configured");
      return Typed(d, it->second);
    }
    case Instrumentation::kNone:
      break;
  }
  return InternalError("metric has no furrow instrumentation");
}

}  // namespace

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "-1";
  if (std::floor(value) == value && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

std::string NestedJson(const std::vector<std::pair<std::string, std::string>>& values) {
  Node root;
  for (const auto& [path, json] : values) root.Set(path, json).IgnoreError();
  std::string out;
  root.Write(&out);
  return out;
}

std::vector<MetricInstance> SelectInstances(const DefinitionSet& definitions, bool include_optional) {
  std::vector<MetricInstance> out;
  for (auto& instance : definitions.Instances()) {
    const MetricDefinition& d = *instance.definition;
    if (!d.Reported() || d.instrumentation == Instrumentation::kNone) continue;
    if (d.data_category == DataCategory::kOptional && !include_optional) continue;
    out.push_back(std::move(instance));
  }
  return out;
}

Result<Payload> BuildPayload(const DefinitionSet& definitions, const PayloadSources& sources,
                             const PayloadOptions& options, const Clock& clock) {
  const MonoTime started = clock.Monotonic();
  const MonoTime deadline = started + options.deadline;
  const WallTime now = clock.Now();
  std::vector<MetricInstance> instances = SelectInstances(definitions, options.include_optional);
  if (options.skip_database) {
    std::erase_if(instances, [](const MetricInstance& i) {
      return i.definition->instrumentation == Instrumentation::kDatabase;
    });
  }

  struct Slot {
    bool done = false;
    std::string value_json;
    std::string error;
    double elapsed = 0;
  };
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Slot> slots;  // guarded by mu
    size_t finished = 0;      // guarded by mu
    std::atomic<size_t> next{0};
    std::atomic<bool> cancelled{false};
    BatchBoundsCache bounds_cache;
  };
  auto shared = std::make_shared<Shared>();
  shared->slots.resize(instances.size());

  auto work = [&, shared] {
    Worker worker;
    worker.bounds_cache = &shared->bounds_cache;
    while (!shared->cancelled.load()) {
      size_t index = shared->next.fetch_add(1);
      if (index >= instances.size()) break;
      MonoTime begin = clock.Monotonic();
      MonoTime metric_deadline = std::min(deadline, begin + options.metric_timeout);
      Result<std::string> value = begin >= deadline
                                      ? Result<std::string>(DeadlineExceededError("payload deadline passed"))
                                      : Compute(instances[index], sources, options, clock, now, metric_deadline, worker);
      double elapsed = std::chrono::duration<double>(clock.Monotonic() - begin).count();
      std::lock_guard<std::mutex> lock(shared->mu);
      Slot& slot = shared->slots[index];
      if (slot.done) continue;  // already given its fallback at the deadline
      slot.done = true;
      slot.elapsed = elapsed;
      if (value.ok()) {
        slot.value_json = *value;
      } else {
        slot.value_json = FallbackFor(*instances[index].definition);
        slot.error = value.status().ToString();
      }
      ++shared->finished;
      shared->cv.notify_all();
    }
  };

  size_t thread_count = std::min<size_t>(std::max(options.threads, 1), std::max<size_t>(instances.size(), 1));
  std::vector<std::thread> threads;
  try {
    for (size_t i = 0; i < thread_count; ++i) threads.emplace_back(work);
  } catch (const std::system_error& e) {
    shared->cancelled = true;
    for (auto& t : threads) t.join();
    return ResourceExhaustedError(std::string("cannot start payload workers: ") + e.what());
  }

  std::vector<Slot> slots;
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    while (shared->finished < instances.size() && clock.Monotonic() < deadline) {
      shared->cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    if (shared->finished < instances.size()) {
      shared->cancelled = true;
      for (size_t i = 0; i < shared->slots.size(); ++i) {
        Slot& slot = shared->slots[i];
        if (slot.done) continue;
        slot.done = true;
        slot.value_json = FallbackFor(*instances[i].definition);
        slot.error = DeadlineExceededError("payload deadline passed before the metric finished").ToString();
        slot.elapsed = std::chrono::duration<double>(clock.Monotonic() - started).count();
      }
    }
    slots = shared->slots;
  }
  // Workers stop at their own query deadlines (never later than the payload's plus
  // a store's command timeout); the payload above no longer depends on them.
  for (auto& t : threads) t.join();

  Payload payload;
  payload.uuid = sources.uuid;
  payload.hostname = sources.instance.hostname.empty() ? sources.system.hostname : sources.instance.hostname;
  payload.version = sources.version;
  payload.recorded_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  payload.recorded_at = FormatIso8601Millis(payload.recorded_at_ms);
  payload.uninstrumented = definitions.Uninstrumented();

  Node root;
  auto set = [&root](const std::string& path, const std::string& json) { root.Set(path, json).IgnoreError(); };
  set("uuid", JsonString(payload.uuid));
  set("hostname", JsonString(payload.hostname));
  set("version", JsonString(payload.version));
  set("installation_type", JsonString(sources.instance.installation_type));
  if (sources.instance.active_user_count) set("active_user_count", std::to_string(*sources.instance.active_user_count));
  set("recorded_at", JsonString(payload.recorded_at));
  set("edition", JsonString(sources.instance.edition));
  for (size_t i = 0; i < instances.size(); ++i) {
    MetricOutcome outcome{instances[i].key_path, slots[i].value_json, slots[i].elapsed, slots[i].error};
    Status placed = root.Set(instances[i].key_path, slots[i].value_json);
    if (!placed.ok() && outcome.error.empty()) outcome.error = placed.ToString();
    payload.metrics.push_back(std::move(outcome));
  }
  set("recording_ce_finished_at", JsonString(FormatIso8601Millis(clock.NowMillis())));
  root.Write(&payload.json);
  payload.elapsed_seconds = std::chrono::duration<double>(clock.Monotonic() - started).count();
  return payload;
}

std::string MetadataJson(const Payload& payload) {
  std::string out = "{\"metadata\":{\"uuid\":";
  AppendJsonString(&out, payload.uuid);
  out += ",\"metrics\":[";
  for (size_t i = 0; i < payload.metrics.size(); ++i) {
    const MetricOutcome& m = payload.metrics[i];
    if (i > 0) out += ",";
    out += "{\"name\":";
    AppendJsonString(&out, m.key_path);
    char elapsed[64];
    std::snprintf(elapsed, sizeof elapsed, "%.6f", m.elapsed_seconds);
    out += ",\"time_elapsed\":";
    out += elapsed;
    out += ",\"error\":";
    if (m.error.empty()) out += "null";
    else AppendJsonString(&out, m.error);
    out += "}";
  }
  out += "]}}";
  return out;
}

}  // namespace furrow::ping
