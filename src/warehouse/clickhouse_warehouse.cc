#include "warehouse/clickhouse_warehouse.h"

#include <cctype>
#include <cstdio>
#include <unordered_set>
#include <utility>

#include "core/time_format.h"
#include "net/http_client.h"
#include "warehouse/postgres_warehouse.h"

namespace furrow::warehouse {
namespace {

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

// A ClickHouse string literal.
std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// TabSeparated escaping is the same as PostgreSQL COPY text for these characters.
void AppendTsv(std::string* out, std::string_view v) { AppendCopyText(out, v, false); }

class ClickHouseWarehouse final : public Warehouse {
 public:
  ClickHouseWarehouse(std::string base, std::string database, const Clock* clock)
      : base_(std::move(base)), database_(std::move(database)), clock_(clock) {}

  // Runs `query` (in the URL) with `body`; returns the response body.
  Result<std::string> Run(const std::string& query, const std::string& body = "") {
    net::HttpClientRequest request;
    request.method = "POST";
    request.url = base_ + "/?database=" + database_ + "&query=" + UrlEncode(query);
    request.body = body;
    request.timeout = std::chrono::minutes(10);
    auto r = client_.Send(request);
    if (!r.ok()) return UnavailableError("clickhouse: " + r.status().message());
    if (r->status != 200) {
      std::string message = "clickhouse: HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 500);
      if (r->status >= 500 && r->body.find("Code:") == std::string::npos) return UnavailableError(message);
      return InvalidArgumentError(message);
    }
    return std::move(r->body);
  }

  Status Prepare() override {
    std::string events = "CREATE TABLE IF NOT EXISTS events (";
    for (size_t i = 0; i < event::kFieldCount; ++i) events += std::string(event::kFieldNames[i]) + " String, ";
    events += "source_file String) ENGINE = ReplacingMergeTree() ORDER BY (source_file, event_id)";
    for (const std::string& sql : {
             std::string("CREATE TABLE IF NOT EXISTS ping_instance (ping_id Int64, installation_id String, uuid String, "
                         "hostname String, version String, edition String, recorded_at String, created_at String, "
                         "metric_count Int64) ENGINE = ReplacingMergeTree() ORDER BY ping_id"),
             std::string("CREATE TABLE IF NOT EXISTS ping_instance_metric (ping_id Int64, installation_id String, "
                         "recorded_at String, metric_path String, metric_value Float64, has_timed_out UInt8) "
                         "ENGINE = ReplacingMergeTree() ORDER BY (ping_id, metric_path)"),
             std::string("CREATE TABLE IF NOT EXISTS load_manifest (file String, kind String, rows Int64, "
                         "loaded_at String) ENGINE = ReplacingMergeTree() ORDER BY file"),
             events}) {
      auto r = Run(sql);
      if (!r.ok()) return r.status();
    }
    return Status::Ok();
  }

  Result<bool> IsLoaded(const std::string& file) override {
    FURROW_ASSIGN_OR_RETURN(std::string body,
                            Run("SELECT count() FROM load_manifest WHERE file = " + Quote(file) + " FORMAT TabSeparated"));
    return body.rfind("0", 0) != 0;
  }

  Result<PingLoadResult> LoadPings(const std::string& file, const std::vector<PingInstance>& pings) override {
    PingLoadResult result;
    std::unordered_set<int64_t> present;
    if (!pings.empty()) {
      std::string ids;
      for (const PingInstance& p : pings) {
        if (!ids.empty()) ids += ',';
        ids += std::to_string(p.ping_id);
      }
      FURROW_ASSIGN_OR_RETURN(std::string body, Run("SELECT DISTINCT ping_id FROM ping_instance WHERE ping_id IN (" +
                                                    ids + ") FORMAT TabSeparated"));
      size_t pos = 0;
      while (pos < body.size()) {
        size_t nl = body.find('\n', pos);
        if (nl == std::string::npos) nl = body.size();
        if (nl > pos) present.insert(std::strtoll(body.substr(pos, nl - pos).c_str(), nullptr, 10));
        pos = nl + 1;
      }
    }
    std::string instances;
    std::string metrics;
    for (const PingInstance& p : pings) {
      if (!present.insert(p.ping_id).second) {
        ++result.duplicates;
        continue;
      }
      ++result.pings;
      instances += std::to_string(p.ping_id);
      for (const std::string* v : {&p.installation_id, &p.uuid, &p.hostname, &p.version, &p.edition, &p.recorded_at,
                                   &p.created_at}) {
        instances += '\t';
        AppendTsv(&instances, *v);
      }
      instances += '\t' + std::to_string(p.metrics.size()) + '\n';
      std::string prefix = std::to_string(p.ping_id) + '\t';
      AppendTsv(&prefix, p.installation_id);
      prefix += '\t';
      AppendTsv(&prefix, p.recorded_at);
      prefix += '\t';
      for (const PingMetric& m : p.metrics) {
        metrics += prefix;
        AppendTsv(&metrics, m.path);
        metrics += '\t' + FormatDouble(m.value) + (m.has_timed_out ? "\t1\n" : "\t0\n");
      }
      result.metrics += static_cast<int64_t>(p.metrics.size());
    }
    // Metrics first, then the instances that make them count as loaded, then the manifest.
    if (!metrics.empty()) {
      auto r = Run("INSERT INTO ping_instance_metric FORMAT TabSeparated", metrics);
      if (!r.ok()) return r.status();
    }
    if (!instances.empty()) {
      auto r = Run("INSERT INTO ping_instance FORMAT TabSeparated", instances);
      if (!r.ok()) return r.status();
    }
    FURROW_RETURN_IF_ERROR(Manifest(file, "pings", result.pings));
    return result;
  }

  Result<int64_t> LoadEvents(const std::string& file, const std::vector<event::FieldViews>& events) override {
    std::string data;
    for (const event::FieldViews& fields : events) {
      for (size_t i = 0; i < event::kFieldCount; ++i) {
        AppendTsv(&data, fields[i]);
        data += '\t';
      }
      AppendTsv(&data, file);
      data += '\n';
    }
    if (!data.empty()) {
      auto r = Run("INSERT INTO events FORMAT TabSeparated", data);
      if (!r.ok()) return r.status();
    }
    FURROW_RETURN_IF_ERROR(Manifest(file, "events", static_cast<int64_t>(events.size())));
    return static_cast<int64_t>(events.size());
  }

  std::string Describe() const override { return "clickhouse://" + base_.substr(7) + "/" + database_; }

 private:
  static std::string UrlEncode(std::string_view s) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
    return out;
  }

  Status Manifest(const std::string& file, const char* kind, int64_t rows) {
    std::string line;
    AppendTsv(&line, file);
    line += std::string("\t") + kind + "\t" + std::to_string(rows) + "\t" + FormatIso8601Millis(clock_->NowMillis()) +
            "\n";
    auto r = Run("INSERT INTO load_manifest FORMAT TabSeparated", line);
    return r.ok() ? Status::Ok() : r.status();
  }

  std::string base_;
  std::string database_;
  const Clock* clock_;
  net::HttpClient client_;
};

}  // namespace

Result<std::unique_ptr<Warehouse>> OpenClickHouseWarehouse(const std::string& url, const Clock& clock) {
  const std::string kScheme = "clickhouse://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgumentError("expected clickhouse://HOST:PORT/DATABASE");
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string host_port = rest.substr(0, slash);
  std::string database = slash == std::string::npos ? "default" : rest.substr(slash + 1);
  if (database.empty()) database = "default";
  if (host_port.empty()) return InvalidArgumentError("clickhouse URL without a host");
  for (char c : database) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return InvalidArgumentError("clickhouse database names are [A-Za-z0-9_]");
    }
  }
  if (host_port.find(':') == std::string::npos) host_port += ":8123";
  auto w = std::make_unique<ClickHouseWarehouse>("http://" + host_port, database, &clock);
  auto ping = w->Run("SELECT 1");
  if (!ping.ok()) return ping.status();
  return std::unique_ptr<Warehouse>(std::move(w));
}

}  // namespace furrow::warehouse
