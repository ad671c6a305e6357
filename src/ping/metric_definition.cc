#include "ping/metric_definition.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace furrow::ping {
namespace {

Status FieldError(const std::string& file, std::string_view field, std::string_view what) {
  return InvalidArgumentError(file + ": field `" + std::string(field) + "`: " + std::string(what));
}

bool IsScalar(const YAML::Node& node) { return node.IsDefined() && node.IsScalar(); }

Result<std::string> RequiredString(const std::string& file, const YAML::Node& root,
                                   std::string_view field, bool allow_empty = false) {
  YAML::Node node = root[std::string(field)];
  if (!node.IsDefined() || node.IsNull()) return FieldError(file, field, "is required");
  if (!node.IsScalar()) return FieldError(file, field, "must be a string");
  std::string value = node.Scalar();
  if (value.empty() && !allow_empty) return FieldError(file, field, "must not be empty");
  return value;
}

Result<TimeFrame> ParseTimeFrame(const std::string& file, const std::string& text, bool in_list) {
  if (text == "7d") return TimeFrame::k7d;
  if (text == "28d") return TimeFrame::k28d;
  if (text == "all") return TimeFrame::kAll;
  if (text == "none" && !in_list) return TimeFrame::kNone;
  return FieldError(file, "time_frame",
                    "unknown time frame '" + text + "' (expected " +
                        (in_list ? "7d, 28d or all in a list" : "7d, 28d, all or none") + ")");
}

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool IsClassName(std::string_view name) {
  if (name.empty()) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find("::", start);
    std::string_view part = name.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || !(part[0] >= 'A' && part[0] <= 'Z')) return false;
    for (char c : part) {
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
    if (end == std::string_view::npos) break;
    start = end + 2;
  }
  return true;
}

// Instrumentation classes of data_source system that furrow computes itself.
bool IsFurrowSystemMetric(const MetricDefinition& d) {
  static const std::set<std::string, std::less<>> kClasses = {
      "SystemMetric", "HostnameMetric", "VersionMetric", "InstallationTypeMetric",
      "UniqueInstanceIdMetric", "UuidMetric", "EditionMetric"};
  static const std::set<std::string, std::less<>> kKeyPaths = {
      "uuid", "hostname", "version", "installation_type", "edition", "unique_instance_id",
      "database.adapter", "database.version", "database.flavor"};
  if (d.instrumentation_class.empty() || d.instrumentation_class == "SystemMetric") {
    if (d.instrumentation_class == "SystemMetric") return !d.Option("value").empty();
    return kKeyPaths.count(d.key_path) > 0;
  }
  return kClasses.count(d.instrumentation_class) > 0;
}

void Classify(MetricDefinition& d) {
  auto none = [&d](std::string reason) {
    d.instrumentation = Instrumentation::kNone;
    d.no_instrumentation_reason = std::move(reason);
  };
  const std::string& cls = d.instrumentation_class;
  switch (d.data_source) {
    case DataSource::kDatabase:
      if (cls == "DatabaseMetric") {
        d.instrumentation = Instrumentation::kDatabase;
      } else if (cls == "SettingMetric") {
        d.instrumentation = Instrumentation::kSetting;
      } else if (d.key_path == "uuid") {
        d.instrumentation = Instrumentation::kSystem;
      } else {
        none(cls.empty() ? "database metric without instrumentation_class (computed in Ruby)"
                         : "instrumentation class " + cls + " is Ruby-specific");
      }
      return;
    case DataSource::kRedis:
      if (cls == "RedisMetric") {
        d.instrumentation = Instrumentation::kRedisCounter;
      } else {
        none(cls.empty() ? "redis metric without instrumentation_class" : "instrumentation class " + cls + " is Ruby-specific");
      }
      return;
    case DataSource::kRedisHll:
      if (cls == "RedisHLLMetric" && d.option_lists.count("events") > 0) {
        d.instrumentation = Instrumentation::kRedisHll;
      } else {
        none("redis_hll metric without RedisHLLMetric options.events");
      }
      return;
    case DataSource::kInternalEvents:
      d.instrumentation = Instrumentation::kInternalEvents;
      return;
    case DataSource::kSystem:
      if (cls == "SettingMetric") {
        d.instrumentation = Instrumentation::kSetting;
      } else if (IsFurrowSystemMetric(d)) {
        d.instrumentation = Instrumentation::kSystem;
      } else {
        none(cls.empty() ? "system metric " + d.key_path + " is not one furrow knows"
                         : "instrumentation class " + cls + " is Ruby-specific");
      }
      return;
    case DataSource::kLicense:
      if (cls == "LicenseMetric" && !d.Option("attribute").empty()) {
        d.instrumentation = Instrumentation::kLicense;
      } else {
        none(cls.empty() ? "license metric without LicenseMetric options.attribute"
                         : "instrumentation class " + cls + " is Ruby-specific");
      }
      return;
    case DataSource::kPrometheus:
      none("prometheus metrics are not collected by furrow");
      return;
  }
}

Status ParseOptions(const std::string& file, const YAML::Node& node, MetricDefinition& d) {
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  if (!node.IsMap()) return FieldError(file, "options", "must be a mapping");
  for (const auto& entry : node) {
    std::string name = entry.first.Scalar();
    const YAML::Node& value = entry.second;
    if (value.IsNull()) {
      d.options[name] = "";
    } else if (value.IsScalar()) {
      d.options[name] = value.Scalar();
    } else if (value.IsSequence()) {
      std::vector<std::string> items;
      for (const auto& item : value) {
        if (!item.IsScalar()) {
          return FieldError(file, "options." + name, "list items must be strings");
        }
        items.push_back(item.Scalar());
      }
      d.option_lists[name] = std::move(items);
    } else {
      std::ostringstream dumped;
      dumped << value;
      d.options[name] = dumped.str();
    }
  }
  return Status::Ok();
}

Status ParseEvents(const std::string& file, const YAML::Node& node, MetricDefinition& d) {
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  if (!node.IsSequence()) return FieldError(file, "events", "must be a list");
  size_t index = 0;
  for (const auto& item : node) {
    std::string where = "events[" + std::to_string(index++) + "]";
    if (!item.IsMap()) return FieldError(file, where, "must be a mapping with a name");
    EventSelector selector;
    for (const auto& entry : item) {
      std::string key = entry.first.Scalar();
      const YAML::Node& value = entry.second;
      if (key == "name") {
        if (!IsScalar(value) || value.Scalar().empty()) return FieldError(file, where + ".name", "must be a non-empty string");
        selector.name = value.Scalar();
      } else if (key == "unique") {
        if (!IsScalar(value)) return FieldError(file, where + ".unique", "must be a string");
        static const std::set<std::string, std::less<>> kUnique = {"user.id", "project.id", "namespace.id",
                                                                   "label", "property", "value"};
        if (kUnique.count(value.Scalar()) == 0) {
          return FieldError(file, where + ".unique", "unknown unique property '" + value.Scalar() +
                                                         "' (expected user.id, project.id, namespace.id, label, property or value)");
        }
        selector.unique = value.Scalar();
      } else if (key == "filter") {
        if (!value.IsMap()) return FieldError(file, where + ".filter", "must be a mapping of property to value");
        for (const auto& f : value) {
          if (!f.second.IsScalar()) return FieldError(file, where + ".filter." + f.first.Scalar(), "must be a string or number");
          selector.filter.emplace_back(f.first.Scalar(), f.second.Scalar());
        }
        std::sort(selector.filter.begin(), selector.filter.end());
      } else if (key == "operator") {
        if (!IsScalar(value) || value.Scalar() != "sum(value)") {
          return FieldError(file, where + ".operator", "must be sum(value)");
        }
        selector.sum_value = true;
      } else {
        return FieldError(file, where + "." + key, "unknown key");
      }
    }
    if (selector.name.empty()) return FieldError(file, where + ".name", "is required");
    d.events.push_back(std::move(selector));
  }
  return Status::Ok();
}

}  // namespace

std::string_view TimeFrameName(TimeFrame frame) {
  switch (frame) {
    case TimeFrame::k7d: return "7d";
    case TimeFrame::k28d: return "28d";
    case TimeFrame::kAll: return "all";
    case TimeFrame::kNone: return "none";
  }
  return "none";
}

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNumber: return "number";
    case ValueType::kString: return "string";
    case ValueType::kBoolean: return "boolean";
    case ValueType::kObject: return "object";
  }
  return "number";
}

std::string_view MetricStatusName(MetricStatus status) {
  switch (status) {
    case MetricStatus::kActive: return "active";
    case MetricStatus::kBroken: return "broken";
    case MetricStatus::kRemoved: return "removed";
    case MetricStatus::kDeprecated: return "deprecated";
  }
  return "active";
}

std::string_view DataSourceName(DataSource source) {
  switch (source) {
    case DataSource::kDatabase: return "database";
    case DataSource::kRedis: return "redis";
    case DataSource::kRedisHll: return "redis_hll";
    case DataSource::kInternalEvents: return "internal_events";
    case DataSource::kSystem: return "system";
    case DataSource::kLicense: return "license";
    case DataSource::kPrometheus: return "prometheus";
  }
  return "database";
}

std::string_view DataCategoryName(DataCategory category) {
  switch (category) {
    case DataCategory::kStandard: return "standard";
    case DataCategory::kSubscription: return "subscription";
    case DataCategory::kOperational: return "operational";
    case DataCategory::kOptional: return "optional";
  }
  return "standard";
}

std::string_view InstrumentationName(Instrumentation instrumentation) {
  switch (instrumentation) {
    case Instrumentation::kNone: return "none";
    case Instrumentation::kDatabase: return "database";
    case Instrumentation::kRedisCounter: return "redis";
    case Instrumentation::kRedisHll: return "redis_hll";
    case Instrumentation::kInternalEvents: return "internal_events";
    case Instrumentation::kSystem: return "system";
    case Instrumentation::kSetting: return "setting";
    case Instrumentation::kLicense: return "license";
  }
  return "none";
}

std::string MetricDefinition::Option(std::string_view name) const {
  auto it = options.find(std::string(name));
  return it == options.end() ? std::string() : it->second;
}

bool IsValidKeyPath(std::string_view key_path) {
  if (key_path.empty() || key_path.size() > 512) return false;
  bool segment_empty = true;
  for (char c : key_path) {
    if (c == '.') {
      if (segment_empty) return false;
      segment_empty = true;
    } else if (IsIdentifierChar(c)) {
      segment_empty = false;
    } else {
      return false;
    }
  }
  return !segment_empty;
}

std::string KeyPathForTimeFrame(const MetricDefinition& definition, TimeFrame frame) {
  if (!definition.time_frame_is_list) return definition.key_path;
  if (frame == TimeFrame::k7d) return definition.key_path + "_weekly";
  if (frame == TimeFrame::k28d) return definition.key_path + "_monthly";
  return definition.key_path;
}

Result<MetricDefinition> ParseMetricDefinition(const std::string& file, std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(file + ": not valid YAML: " + e.what());
  }
  if (!root.IsMap()) return InvalidArgumentError(file + ": a definition must be a YAML mapping");
  MetricDefinition d;
  d.file = file;
  d.yaml = std::string(yaml_text);

  FURROW_ASSIGN_OR_RETURN(d.key_path, RequiredString(file, root, "key_path"));
  if (!IsValidKeyPath(d.key_path)) {
    return FieldError(file, "key_path", "'" + d.key_path + "' is not a dotted path of letters, digits and _");
  }
  FURROW_ASSIGN_OR_RETURN(d.description, RequiredString(file, root, "description"));

  FURROW_ASSIGN_OR_RETURN(std::string value_type, RequiredString(file, root, "value_type"));
  if (value_type == "number") d.value_type = ValueType::kNumber;
  else if (value_type == "string") d.value_type = ValueType::kString;
  else if (value_type == "boolean") d.value_type = ValueType::kBoolean;
  else if (value_type == "object") d.value_type = ValueType::kObject;
  else return FieldError(file, "value_type", "unknown value type '" + value_type + "' (expected number, string, boolean or object)");
  if (d.value_type == ValueType::kObject && !IsScalar(root["value_json_schema"])) {
    return FieldError(file, "value_json_schema", "is required when value_type is object");
  }

  FURROW_ASSIGN_OR_RETURN(d.status_as_written, RequiredString(file, root, "status"));
  const std::string& status = d.status_as_written;
  if (status == "active" || status == "data_available" || status == "implemented") d.status = MetricStatus::kActive;
  else if (status == "broken") d.status = MetricStatus::kBroken;
  else if (status == "removed") d.status = MetricStatus::kRemoved;
  else if (status == "deprecated") d.status = MetricStatus::kDeprecated;
  else return FieldError(file, "status", "unknown status '" + status + "' (expected active, broken or removed)");
  if (d.status == MetricStatus::kBroken && !IsScalar(root["repair_issue_url"])) {
    return FieldError(file, "repair_issue_url", "is required when status is broken");
  }

  if (IsScalar(root["product_group"])) {
    d.product_group = root["product_group"].Scalar();
  } else if (IsScalar(root["group"])) {
    d.product_group = root["group"].Scalar();
  } else {
    return FieldError(file, "product_group", "is required");
  }

  YAML::Node tf = root["time_frame"];
  if (!tf.IsDefined() || tf.IsNull()) return FieldError(file, "time_frame", "is required");
  if (tf.IsScalar()) {
    FURROW_ASSIGN_OR_RETURN(TimeFrame frame, ParseTimeFrame(file, tf.Scalar(), false));
    d.time_frames.push_back(frame);
  } else if (tf.IsSequence()) {
    d.time_frame_is_list = true;
    for (const auto& item : tf) {
      if (!item.IsScalar()) return FieldError(file, "time_frame", "list items must be 7d, 28d or all");
      FURROW_ASSIGN_OR_RETURN(TimeFrame frame, ParseTimeFrame(file, item.Scalar(), true));
      if (std::find(d.time_frames.begin(), d.time_frames.end(), frame) != d.time_frames.end()) {
        return FieldError(file, "time_frame", "lists " + item.Scalar() + " twice");
      }
      d.time_frames.push_back(frame);
    }
    if (d.time_frames.empty()) return FieldError(file, "time_frame", "must not be an empty list");
  } else {
    return FieldError(file, "time_frame", "must be a string or a list");
  }

  FURROW_ASSIGN_OR_RETURN(std::string source, RequiredString(file, root, "data_source"));
  if (source == "database") d.data_source = DataSource::kDatabase;
  else if (source == "redis") d.data_source = DataSource::kRedis;
  else if (source == "redis_hll") d.data_source = DataSource::kRedisHll;
  else if (source == "internal_events") d.data_source = DataSource::kInternalEvents;
  else if (source == "system") d.data_source = DataSource::kSystem;
  else if (source == "license") d.data_source = DataSource::kLicense;
  else if (source == "prometheus") d.data_source = DataSource::kPrometheus;
  else return FieldError(file, "data_source", "unknown data source '" + source + "'");

  YAML::Node category = root["data_category"];
  if (category.IsDefined() && !category.IsNull()) {
    if (!category.IsScalar()) return FieldError(file, "data_category", "must be a string");
    std::string c = category.Scalar();
    if (c == "standard") d.data_category = DataCategory::kStandard;
    else if (c == "subscription") d.data_category = DataCategory::kSubscription;
    else if (c == "operational") d.data_category = DataCategory::kOperational;
    else if (c == "optional") d.data_category = DataCategory::kOptional;
    else return FieldError(file, "data_category", "unknown data category '" + c + "' (expected standard, subscription, operational or optional)");
  }

  FURROW_ASSIGN_OR_RETURN(d.milestone, RequiredString(file, root, "milestone"));
  {
    std::string_view m = d.milestone;
    if (!m.empty() && m[0] == '<') m.remove_prefix(1);
    size_t dot = m.find('.');
    bool ok = dot != std::string_view::npos && dot > 0 && dot + 1 < m.size();
    for (size_t i = 0; ok && i < m.size(); ++i) ok = (i == dot) || (m[i] >= '0' && m[i] <= '9');
    if (!ok) return FieldError(file, "milestone", "'" + d.milestone + "' is not MAJOR.MINOR");
  }
  FURROW_ASSIGN_OR_RETURN(std::string introduced, RequiredString(file, root, "introduced_by_url", true));
  (void)introduced;

  YAML::Node tiers = root["tiers"];
  bool legacy_tiers = false;
  if (!tiers.IsDefined()) {
    tiers = root["tier"];
    legacy_tiers = true;
  }
  if (!tiers.IsDefined() || !tiers.IsSequence()) return FieldError(file, "tiers", "is required (a list)");
  for (const auto& t : tiers) {
    if (!t.IsScalar()) return FieldError(file, "tiers", "items must be strings");
    if (!legacy_tiers && t.Scalar() != "free" && t.Scalar() != "premium" && t.Scalar() != "ultimate") {
      return FieldError(file, "tiers", "unknown tier '" + t.Scalar() + "' (expected free, premium or ultimate)");
    }
    d.tiers.push_back(t.Scalar());
  }

  YAML::Node cls = root["instrumentation_class"];
  if (cls.IsDefined() && !cls.IsNull()) {
    if (!cls.IsScalar() || !IsClassName(cls.Scalar())) {
      return FieldError(file, "instrumentation_class", "must be a class name like DatabaseMetric");
    }
    d.instrumentation_class = cls.Scalar();
  }
  FURROW_RETURN_IF_ERROR(ParseOptions(file, root["options"], d));
  FURROW_RETURN_IF_ERROR(ParseEvents(file, root["events"], d));

  // Rules that tie fields together (GitLab's schema files internal_events.json,
  // redis.json, redis_hll.json, valid_timeframe_for_unique_property.json).
  if (d.data_source == DataSource::kInternalEvents) {
    if (d.events.empty()) return FieldError(file, "events", "is required for data_source internal_events");
    if (!d.instrumentation_class.empty()) {
      return FieldError(file, "instrumentation_class", "must not be set for data_source internal_events");
    }
    for (const auto& e : d.events) {
      if (e.unique.empty()) continue;
      for (TimeFrame f : d.time_frames) {
        if (f == TimeFrame::kAll || f == TimeFrame::kNone) {
          return FieldError(file, "time_frame", "unique counts need 7d or 28d, not " + std::string(TimeFrameName(f)));
        }
      }
    }
  }
  if (d.instrumentation_class == "RedisMetric" && d.Option("event").empty()) {
    return FieldError(file, "options.event", "is required for RedisMetric");
  }
  if (d.instrumentation_class == "DatabaseMetric") {
    std::string op = d.Option("operation");
    if (op != "count" && op != "distinct_count" && op != "sum") {
      return FieldError(file, "options.operation", "must be count, distinct_count or sum");
    }
    if (d.Option("relation").empty()) return FieldError(file, "options.relation", "is required for DatabaseMetric");
    if (op != "count" && d.Option("column").empty()) {
      return FieldError(file, "options.column", "is required for " + op);
    }
  }
  Classify(d);
  return d;
}

std::vector<MetricInstance> DefinitionSet::Instances() const {
  std::vector<MetricInstance> out;
  for (const auto& d : definitions) {
    for (TimeFrame f : d.time_frames) out.push_back(MetricInstance{&d, f, KeyPathForTimeFrame(d, f)});
  }
  return out;
}

std::vector<const MetricDefinition*> DefinitionSet::Uninstrumented() const {
  std::vector<const MetricDefinition*> out;
  for (const auto& d : definitions) {
    if (d.instrumentation == Instrumentation::kNone) out.push_back(&d);
  }
  return out;
}

Result<DefinitionSet> LoadMetricDefinitions(const std::vector<std::string>& directories) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& dir : directories) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return NotFoundError("definitions directory " + dir + " does not exist");
    fs::recursive_directory_iterator it(dir, ec), end;
    if (ec) return IoError("cannot read " + dir + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return IoError("cannot read " + dir + ": " + ec.message());
      if (!it->is_regular_file(ec)) continue;
      std::string ext = it->path().extension().string();
      if (ext == ".yml" || ext == ".yaml") files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  DefinitionSet set;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      set.errors.push_back(IoError(file + ": cannot open"));
      continue;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    Result<MetricDefinition> d = ParseMetricDefinition(file, buffer.str());
    if (!d.ok()) {
      set.errors.push_back(d.status());
      continue;
    }
    set.definitions.push_back(std::move(d).value());
  }
  std::map<std::string, std::string> seen;  // key path -> file
  for (const auto& d : set.definitions) {
    if (!d.Reported()) continue;
    for (TimeFrame f : d.time_frames) {
      std::string key = KeyPathForTimeFrame(d, f);
      auto [it, inserted] = seen.emplace(key, d.file);
      if (!inserted) {
        return AlreadyExistsError("key_path " + key + " is defined by both " + it->second + " and " + d.file);
      }
    }
  }
  return set;
}

}  // namespace furrow::ping
