#include "warehouse/loader.h"

#include <openssl/sha.h>
#include <rapidjson/document.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/logging.h"
#include "sink/compressor.h"

namespace furrow::warehouse {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Writes the numeric leaves of `v` into (*out)[*n...], reusing the elements (and their
// path strings' capacity) a previous ping left there.
void Flatten(const rapidjson::Value& v, std::string* path, std::vector<PingMetric>* out, size_t* n) {
  if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
      size_t mark = path->size();
      if (!path->empty()) path->push_back('.');
      path->append(it->name.GetString(), it->name.GetStringLength());
      Flatten(it->value, path, out, n);
      path->resize(mark);
    }
    return;
  }
  if (path->empty()) return;
  double value;
  bool timed_out = false;
  if (v.IsNumber()) {
    timed_out = v.IsInt64() && v.GetInt64() == -1;
    value = timed_out ? 0.0 : v.GetDouble();
  } else if (v.IsBool()) {
    value = v.GetBool() ? 1.0 : 0.0;
  } else {
    return;
  }
  if (*n == out->size()) out->emplace_back();
  PingMetric& m = (*out)[(*n)++];
  m.path.assign(*path);
  m.value = value;
  m.has_timed_out = timed_out;
}

void FlattenInto(const rapidjson::Value& v, std::vector<PingMetric>* out) {
  std::string path;
  size_t n = 0;
  Flatten(v, &path, out, &n);
  out->resize(n);
}

std::string Member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return "";
  if (it->value.IsString()) return std::string(it->value.GetString(), it->value.GetStringLength());
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  return "";
}

// Splits `text` into lines (without the '\n'), skipping empty ones.
template <typename F>
Status ForEachLine(std::string_view text, F&& f) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) FURROW_RETURN_IF_ERROR(f(line));
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return Status::Ok();
}

}  // namespace

std::string InstallationId(std::string_view hostname, std::string_view uuid) {
  std::string input(hostname);
  input.push_back('\n');
  input.append(uuid);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

Status FlattenPayload(std::string_view payload_json, std::vector<PingMetric>* out) {
  rapidjson::Document doc;
  doc.Parse(payload_json.data(), payload_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("payload is not a JSON object");
  std::vector<PingMetric> metrics;
  FlattenInto(doc, &metrics);
  out->insert(out->end(), std::make_move_iterator(metrics.begin()), std::make_move_iterator(metrics.end()));
  return Status::Ok();
}

namespace {

// ParseExtractedPing into `p`, reusing its strings and metrics.
Status ParseExtractedPingInto(std::string_view line, PingInstance* p) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgumentError("line is not a JSON object");
  auto id = doc.FindMember("id");
  auto payload = doc.FindMember("payload");
  if (id == doc.MemberEnd() || !id->value.IsInt64() || payload == doc.MemberEnd() || !payload->value.IsObject()) {
    return InvalidArgumentError("line lacks an integer \"id\" or an object \"payload\"");
  }
  p->ping_id = id->value.GetInt64();
  p->uuid = Member(doc, "uuid");
  p->recorded_at = Member(doc, "recorded_at");
  p->created_at = Member(doc, "created_at");
  p->hostname = Member(payload->value, "hostname");
  p->version = Member(payload->value, "version");
  p->edition = Member(payload->value, "edition");
  if (p->uuid.empty()) p->uuid = Member(payload->value, "uuid");
  if (p->recorded_at.empty()) p->recorded_at = Member(payload->value, "recorded_at");
  p->installation_id = InstallationId(p->hostname, p->uuid);
  FlattenInto(payload->value, &p->metrics);
  return Status::Ok();
}

}  // namespace

Result<PingInstance> ParseExtractedPing(std::string_view line) {
  PingInstance p;
  FURROW_RETURN_IF_ERROR(ParseExtractedPingInto(line, &p));
  return p;
}

namespace {

// Parses a decompressed file's lines into pings on its own thread while the warehouse
// inserts the previous ones: pings go through a small bounded queue and come back to
// be reused, so a file's pings are never all in memory and the parser's buffers are
// not reallocated per metric. Unreadable lines are skipped, counted and logged.
class ParsingPingSource final : public PingSource {
 public:
  // `compressed`: the gzip file, which must outlive the source.
  ParsingPingSource(std::string_view compressed, std::string file)
      : compressed_(compressed), file_(std::move(file)), parser_([this] { Parse(); }) {}
  ~ParsingPingSource() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    changed_.notify_all();
    parser_.join();
  }

  Result<const PingInstance*> Next() override {
    std::unique_lock<std::mutex> lock(mu_);
    if (current_ != nullptr) spare_.push_back(std::move(current_));
    changed_.notify_all();
    changed_.wait(lock, [this] { return !parsed_.empty() || finished_; });
    if (parsed_.empty()) {
      if (!error_.ok()) return error_;
      return static_cast<const PingInstance*>(nullptr);
    }
    current_ = std::move(parsed_.front());
    parsed_.pop_front();
    changed_.notify_all();
    return current_.get();
  }

  // Lines skipped; final once Next has returned nullptr.
  int64_t bad_lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return bad_lines_;
  }

 private:
  static constexpr size_t kQueued = 16;  // pings parsed ahead (about 2,000 metrics each)

  // Inflates the file 64 KiB at a time and parses each complete line.
  void Parse() {
    std::string pending;  // a line split across chunks
    auto parse_line = [this](std::string_view line) {
      std::unique_ptr<PingInstance> p;
      {
        std::unique_lock<std::mutex> lock(mu_);
        changed_.wait(lock, [this] { return stopping_ || parsed_.size() < kQueued; });
        if (stopping_) return FailedPreconditionError("the load stopped");
        if (!spare_.empty()) {
          p = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      if (p == nullptr) p = std::make_unique<PingInstance>();
      Status parsed = ParseExtractedPingInto(line, p.get());
      std::lock_guard<std::mutex> lock(mu_);
      if (!parsed.ok()) {
        ++bad_lines_;
        log::Warn("skipping an unreadable ping line", {{"file", file_}, {"error", parsed.message()}});
        spare_.push_back(std::move(p));
      } else {
        parsed_.push_back(std::move(p));
        changed_.notify_all();
      }
      return Status::Ok();
    };
    Status done = sink::ForEachGunzippedChunk(compressed_, [&](std::string_view chunk) {
      while (true) {
        size_t nl = chunk.find('\n');
        if (nl == std::string_view::npos) {
          pending.append(chunk);
          return Status::Ok();
        }
        if (pending.empty()) {
          FURROW_RETURN_IF_ERROR(ForEachLine(chunk.substr(0, nl), parse_line));
        } else {
          pending.append(chunk.substr(0, nl));
          FURROW_RETURN_IF_ERROR(ForEachLine(pending, parse_line));
          pending.clear();
        }
        chunk.remove_prefix(nl + 1);
      }
    });
    if (done.ok()) done = ForEachLine(pending, parse_line);
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) error_ = done;  // a stop is the only other way to end early
    finished_ = true;
    changed_.notify_all();
  }

  std::string_view compressed_;
  std::string file_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<PingInstance>> parsed_;  // in file order
  std::vector<std::unique_ptr<PingInstance>> spare_;
  std::unique_ptr<PingInstance> current_;  // handed out by Next
  int64_t bad_lines_ = 0;
  Status error_;  // why parsing ended early (kDataLoss: the file does not decompress)
  bool finished_ = false;
  bool stopping_ = false;
  std::thread parser_;  // last: starts once the members above exist
};

}  // namespace

Result<LoadStats> LoadFromLake(storage::ObjectStore& lake, Warehouse& warehouse, const LoadOptions& options) {
  FURROW_RETURN_IF_ERROR(warehouse.Prepare());
  LoadStats stats;
  auto log_progress = [&](const std::string& file) {
    log::Info("warehouse load progress", {{"file", file},
                                          {"files_done", stats.files},
                                          {"files_skipped", stats.skipped_files},
                                          {"pings", stats.pings},
                                          {"metric_rows", stats.metric_rows},
                                          {"events", stats.events}});
  };
  if (options.pings) {
    FURROW_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> files, lake.List("pings/raw_usage_data/"));
    for (const storage::ObjectInfo& info : files) {
      if (!EndsWith(info.key, ".jsonl.gz")) continue;
      FURROW_ASSIGN_OR_RETURN(bool loaded, warehouse.IsLoaded(info.key));
      if (loaded) {
        ++stats.skipped_files;
        continue;
      }
      FURROW_ASSIGN_OR_RETURN(std::string compressed, lake.Get(info.key));
      ParsingPingSource pings(compressed, info.key);
      Result<PingLoadResult> loaded_file = warehouse.LoadPingStream(info.key, pings);
      if (!loaded_file.ok()) return loaded_file.status().WithContext(info.key);
      stats.bad_lines += pings.bad_lines();
      PingLoadResult r = *loaded_file;
      ++stats.files;
      stats.pings += r.pings;
      stats.duplicate_pings += r.duplicates;
      stats.metric_rows += r.metrics;
      log_progress(info.key);
    }
  }
  if (options.events) {
    FURROW_ASSIGN_OR_RETURN(std::vector<storage::ObjectInfo> files, lake.List("output/"));
    for (const storage::ObjectInfo& info : files) {
      sink::Compression compression;
      if (EndsWith(info.key, ".gz")) {
        compression = sink::Compression::kGzip;
      } else if (EndsWith(info.key, ".zst")) {
        compression = sink::Compression::kZstd;
      } else {
        continue;
      }
      FURROW_ASSIGN_OR_RETURN(bool loaded, warehouse.IsLoaded(info.key));
      if (loaded) {
        ++stats.skipped_files;
        continue;
      }
      FURROW_ASSIGN_OR_RETURN(std::string compressed, lake.Get(info.key));
      Result<std::string> text = sink::Decompress(compression, compressed);
      if (!text.ok()) return text.status().WithContext(info.key);
      std::vector<event::FieldViews> rows;
      FURROW_RETURN_IF_ERROR(ForEachLine(*text, [&](std::string_view line) {
        Result<event::FieldViews> fields = event::SplitTsv(line);
        if (!fields.ok()) {
          ++stats.bad_lines;
          log::Warn("skipping an unreadable event line", {{"file", info.key}, {"error", fields.status().message()}});
          return Status::Ok();
        }
        rows.push_back(*fields);
        return Status::Ok();
      }));
      FURROW_ASSIGN_OR_RETURN(int64_t n, warehouse.LoadEvents(info.key, rows));
      ++stats.files;
      stats.events += n;
      log_progress(info.key);
    }
  }
  return stats;
}

std::string SnowflakeSql(const std::string& lake_url) {
  std::string url = lake_url;
  if (!url.empty() && url.back() != '/') url.push_back('/');
  std::string out;
  if (url.rfind("s3://", 0) != 0) {
    out += "-- The lake is not on S3 (" + lake_url +
           "): a Snowflake external stage needs the files in S3, GCS or Azure. Copy them there and\n"
           "-- replace the URL below.\n";
  }
  out += "CREATE FILE FORMAT IF NOT EXISTS furrow_jsonl TYPE = JSON COMPRESSION = GZIP;\n";
  out += "CREATE FILE FORMAT IF NOT EXISTS furrow_enriched_tsv TYPE = CSV FIELD_DELIMITER = '\\t' "
         "COMPRESSION = AUTO ESCAPE_UNENCLOSED_FIELD = NONE EMPTY_FIELD_AS_NULL = TRUE;\n";
  out += "CREATE STAGE IF NOT EXISTS furrow_lake URL = '" + url +
         "' STORAGE_INTEGRATION = furrow_s3;  -- create the storage integration first\n";
  out += "CREATE TABLE IF NOT EXISTS raw_usage_data (id NUMBER, uuid STRING, payload VARIANT, recorded_at STRING, "
         "created_at STRING);\n";
  out += "COPY INTO raw_usage_data FROM (SELECT $1:id, $1:uuid, $1:payload, $1:recorded_at, $1:created_at FROM "
         "@furrow_lake/pings/raw_usage_data/) FILE_FORMAT = (FORMAT_NAME = furrow_jsonl) "
         "PATTERN = '.*[.]jsonl[.]gz';\n";
  out += "CREATE TABLE IF NOT EXISTS events (";
  for (size_t i = 0; i < event::kFieldCount; ++i) {
    if (i > 0) out += ", ";
    out += std::string(event::kFieldNames[i]) + " STRING";
  }
  out += ");\n";
  out += "COPY INTO events FROM @furrow_lake/output/ FILE_FORMAT = (FORMAT_NAME = furrow_enriched_tsv) "
         "PATTERN = '.*[.](gz|zst)';\n";
  out += "-- Flattened metrics, one row per numeric leaf, deduplicated by ping id:\n";
  out += "CREATE OR REPLACE VIEW ping_instance_metric AS SELECT r.id AS ping_id, "
         "SHA2(COALESCE(r.payload:hostname::STRING, '') || '\\n' || r.uuid, 256) AS installation_id, r.recorded_at, "
         "f.path AS metric_path, IFF(f.value::NUMBER = -1, 0, f.value::FLOAT) AS metric_value, "
         "IFF(f.value::NUMBER = -1, 1, 0) AS has_timed_out FROM (SELECT * FROM raw_usage_data QUALIFY "
         "ROW_NUMBER() OVER (PARTITION BY id ORDER BY created_at DESC) = 1) r, LATERAL FLATTEN(input => r.payload, "
         "RECURSIVE => TRUE) f WHERE TYPEOF(f.value) IN ('INTEGER', 'DECIMAL', 'DOUBLE');\n";
  return out;
}

}  // namespace furrow::warehouse
