#include "pseudonymize/allowlist.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "event/tracker_parameters.h"

namespace furrow::pseudonymize {

extern const char kDefaultAllowlistText[];

namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && s.size() <= 6 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsIdentifierPart(std::string_view s, bool allow_dot) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || (allow_dot && c == '.');
    if (!ok) return false;
  }
  return true;
}

struct SchemaVer {
  int model, revision, addition;
};

// Parses "M-R-A" ("*" allowed for R and A when `wildcards`; -1 stands for "*").
bool ParseSchemaVer(std::string_view v, bool wildcards, SchemaVer* out) {
  size_t d1 = v.find('-');
  if (d1 == std::string_view::npos) return false;
  size_t d2 = v.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return false;
  std::string_view parts[3] = {v.substr(0, d1), v.substr(d1 + 1, d2 - d1 - 1), v.substr(d2 + 1)};
  int nums[3];
  for (int i = 0; i < 3; ++i) {
    if (wildcards && i > 0 && parts[i] == "*") {
      nums[i] = -1;
    } else if (IsDigits(parts[i])) {
      nums[i] = 0;
      for (char c : parts[i]) nums[i] = nums[i] * 10 + (c - '0');
    } else {
      return false;
    }
  }
  if (nums[1] == -1 && nums[2] != -1) return false;  // 1-*-0 is not a criterion
  *out = SchemaVer{nums[0], nums[1], nums[2]};
  return true;
}

struct IgluParts {
  std::string_view vendor_name_format;
  SchemaVer version;
};

bool SplitIglu(std::string_view text, bool wildcards, IgluParts* out) {
  constexpr std::string_view kPrefix = "iglu:";
  if (text.substr(0, kPrefix.size()) != kPrefix) return false;
  std::string_view rest = text.substr(kPrefix.size());
  size_t s1 = rest.find('/');
  if (s1 == std::string_view::npos) return false;
  size_t s2 = rest.find('/', s1 + 1);
  if (s2 == std::string_view::npos) return false;
  size_t s3 = rest.find('/', s2 + 1);
  if (s3 == std::string_view::npos) return false;
  if (!IsIdentifierPart(rest.substr(0, s1), true) ||
      !IsIdentifierPart(rest.substr(s1 + 1, s2 - s1 - 1), false) ||
      !IsIdentifierPart(rest.substr(s2 + 1, s3 - s2 - 1), false)) {
    return false;
  }
  if (!ParseSchemaVer(rest.substr(s3 + 1), wildcards, &out->version)) return false;
  out->vendor_name_format = rest.substr(0, s3);
  return true;
}

bool IsToken(std::string_view s) { return s.size() <= 128 && IsIdentifierPart(s, true); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool IsIgluUri(std::string_view text, bool allow_wildcards) {
  IgluParts parts;
  return SplitIglu(text, allow_wildcards, &parts);
}

PathRule* PathRule::AddMember(std::string_view name) {
  auto [it, added] = members.try_emplace(std::string(name));
  if (added) {
    it->second = std::make_unique<PathRule>();
    // The map's keys do not move (node-based), so the index can point at them.
    index.push_back(MemberEntry{WindowHash(name), it->first, it->second.get()});
  }
  return it->second.get();
}

bool PathRule::Keeps(std::string_view text) const {
  if (!keep) return false;
  if (!values.empty() && std::find(values.begin(), values.end(), text) == values.end()) {
    return false;
  }
  switch (format) {
    case ValueFormat::kAny: return true;
    case ValueFormat::kIglu: return IsIgluUri(text, true);
    case ValueFormat::kToken: return IsToken(text);
    case ValueFormat::kSchemaVer: {
      SchemaVer v;
      return ParseSchemaVer(text, false, &v);
    }
  }
  return false;
}

// Builds an Allowlist from YAML; every error names the entry at fault.
class AllowlistParser {
 public:
  static Result<Allowlist> Run(const YAML::Node& root) {
    Allowlist a;
    if (!root.IsMap()) return InvalidArgumentError("allowlist: expected a YAML map");
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "version") {
        if (v.as<std::string>() != "1") return InvalidArgumentError("allowlist: only version 1 is known");
      } else if (key == "non_string_values") {
        std::string p = v.IsNull() ? "null" : v.as<std::string>();
        if (p == "null") {
          a.non_string_ = NonStringPolicy::kNull;
        } else if (p == "pseudonym") {
          a.non_string_ = NonStringPolicy::kPseudonym;
        } else {
          return InvalidArgumentError("allowlist: non_string_values must be null or pseudonym");
        }
      } else if (key == "fields") {
        FURROW_RETURN_IF_ERROR(ForEachString(v, "fields", [&](const std::string& f) -> Status {
          auto index = event::FieldIndexByName(f);
          if (!index) return InvalidArgumentError("allowlist: fields: unknown atomic field '" + f + "'");
          a.fields_[*index] = true;
          return Status::Ok();
        }));
      } else if (key == "parameters") {
        FURROW_RETURN_IF_ERROR(ForEachString(v, "parameters", [&](const std::string& p) -> Status {
          a.parameters_[p] = ParameterAction::kKeep;
          return Status::Ok();
        }));
      } else if (key == "headers") {
        FURROW_RETURN_IF_ERROR(ForEachString(v, "headers", [&](const std::string& h) -> Status {
          a.headers_.push_back(Lower(h));
          return Status::Ok();
        }));
      } else if (key == "schemas") {
        if (!v.IsSequence()) return InvalidArgumentError("allowlist: schemas must be a list");
        for (const auto& entry : v) FURROW_RETURN_IF_ERROR(AddSchema(entry, &a));
      } else {
        return InvalidArgumentError("allowlist: unknown key '" + key + "'");
      }
    }
    // Tracker parameters that fill fields follow the field allowlist.
    for (const auto& m : event::AllParameters()) {
      if (a.parameters_.count(std::string(m.parameter))) continue;
      ParameterAction action = ParameterAction::kPseudonymize;
      if (m.kind == event::ParameterKind::kJson) {
        action = ParameterAction::kReadJson;
      } else if (m.kind == event::ParameterKind::kJsonBase64Url) {
        action = ParameterAction::kReadJsonBase64Url;
      } else if (a.fields_[m.field] && a.fields_[m.second_field]) {
        action = ParameterAction::kKeep;
      }
      a.parameters_[std::string(m.parameter)] = action;
    }
    return a;
  }

 private:
  template <typename F>
  static Status ForEachString(const YAML::Node& v, const std::string& what, F f) {
    if (v.IsNull()) return Status::Ok();
    if (!v.IsSequence()) return InvalidArgumentError("allowlist: " + what + " must be a list");
    for (const auto& item : v) {
      if (!item.IsScalar()) return InvalidArgumentError("allowlist: " + what + " entries must be strings");
      FURROW_RETURN_IF_ERROR(f(item.as<std::string>()));
    }
    return Status::Ok();
  }

  // Walks a path and returns its node, creating nodes as needed.
  static Result<PathRule*> NodeFor(PathRule* root, std::string_view path) {
    std::string_view p = path;
    if (p == "$") return root;
    if (p.substr(0, 2) == "$.") p.remove_prefix(2);
    if (p.substr(0, 3) == "$[]") p.remove_prefix(1);
    PathRule* node = root;
    while (!p.empty()) {
      if (p.substr(0, 2) == "[]") {
        if (!node->items) node->items = std::make_unique<PathRule>();
        node = node->items.get();
        p.remove_prefix(2);
        if (!p.empty() && p[0] == '.') p.remove_prefix(1);
        continue;
      }
      size_t end = p.find_first_of(".[");
      std::string_view name = p.substr(0, end);
      if (name.empty() || name.find(']') != std::string_view::npos) {
        return InvalidArgumentError("allowlist: malformed path '" + std::string(path) + "'");
      }
      node = node->AddMember(name);
      p = end == std::string_view::npos ? std::string_view() : p.substr(end);
      if (!p.empty() && p[0] == '.') {
        p.remove_prefix(1);
        if (p.empty()) return InvalidArgumentError("allowlist: malformed path '" + std::string(path) + "'");
      }
    }
    return node;
  }

  static Status AddKeep(const YAML::Node& item, PathRule* root, const std::string& where) {
    if (item.IsSequence()) {  // nested lists (YAML aliases of shared lists) are flattened
      for (const auto& sub : item) FURROW_RETURN_IF_ERROR(AddKeep(sub, root, where));
      return Status::Ok();
    }
    if (item.IsScalar()) {
      FURROW_ASSIGN_OR_RETURN(PathRule * node, NodeFor(root, item.as<std::string>()));
      node->keep = true;
      return Status::Ok();
    }
    if (!item.IsMap() || !item["path"]) {
      return InvalidArgumentError(where + ": keep entries are paths or {path, values, format}");
    }
    FURROW_ASSIGN_OR_RETURN(PathRule * node, NodeFor(root, item["path"].as<std::string>()));
    node->keep = true;
    for (const auto& kv : item) {
      std::string k = kv.first.as<std::string>();
      if (k == "path") continue;
      if (k == "values") {
        if (!kv.second.IsSequence()) return InvalidArgumentError(where + ": values must be a list");
        for (const auto& v : kv.second) node->values.push_back(v.as<std::string>());
      } else if (k == "format") {
        std::string f = kv.second.as<std::string>();
        if (f == "iglu") {
          node->format = ValueFormat::kIglu;
        } else if (f == "token") {
          node->format = ValueFormat::kToken;
        } else if (f == "schemaver") {
          node->format = ValueFormat::kSchemaVer;
        } else {
          return InvalidArgumentError(where + ": unknown format '" + f + "'");
        }
      } else {
        return InvalidArgumentError(where + ": unknown key '" + k + "' in keep entry");
      }
    }
    return Status::Ok();
  }

  static Status AddRead(const YAML::Node& item, PathRule* root, const std::string& where) {
    if (!item.IsMap() || !item["path"] || !item["as"] || item.size() != 2) {
      return InvalidArgumentError(where + ": read entries are {path, as}");
    }
    FURROW_ASSIGN_OR_RETURN(PathRule * node, NodeFor(root, item["path"].as<std::string>()));
    std::string as = item["as"].as<std::string>();
    if (as == "self_describing") {
      node->reader = Reader::kSelfDescribing;
    } else if (as == "json_text") {
      node->reader = Reader::kJsonText;
    } else if (as == "enriched_event") {
      node->reader = Reader::kEnrichedEvent;
    } else if (as == "tracker_parameters") {
      node->reader = Reader::kTrackerParameters;
    } else if (as == "http_headers") {
      node->reader = Reader::kHttpHeaders;
    } else {
      return InvalidArgumentError(where + ": unknown reader '" + as + "'");
    }
    return Status::Ok();
  }

  static Status AddSchema(const YAML::Node& entry, Allowlist* a) {
    if (!entry.IsMap() || !entry["schema"]) {
      return InvalidArgumentError("allowlist: each schemas entry needs 'schema'");
    }
    std::vector<std::string> criteria;
    if (entry["schema"].IsSequence()) {
      for (const auto& s : entry["schema"]) criteria.push_back(s.as<std::string>());
    } else {
      criteria.push_back(entry["schema"].as<std::string>());
    }
    const std::string where = "allowlist: schema " + criteria.front();
    auto rule = std::make_shared<PathRule>();
    for (const auto& kv : entry) {
      std::string k = kv.first.as<std::string>();
      if (k == "schema") continue;
      if (k == "keep") {
        FURROW_RETURN_IF_ERROR(AddKeep(kv.second, rule.get(), where));
      } else if (k == "read") {
        if (!kv.second.IsSequence()) return InvalidArgumentError(where + ": read must be a list");
        for (const auto& r : kv.second) FURROW_RETURN_IF_ERROR(AddRead(r, rule.get(), where));
      } else {
        return InvalidArgumentError(where + ": unknown key '" + k + "'");
      }
    }
    for (const auto& c : criteria) {
      IgluParts parts;
      if (!SplitIglu(c, true, &parts)) {
        return InvalidArgumentError("allowlist: '" + c + "' is not an Iglu schema criterion "
                                    "(iglu:vendor/name/format/M-R-A, R and A may be *)");
      }
      a->schemas_[std::string(parts.vendor_name_format)].push_back(Allowlist::SchemaEntry{
          parts.version.model, parts.version.revision, parts.version.addition, rule});
    }
    return Status::Ok();
  }
};

Result<Allowlist> Allowlist::Parse(std::string_view yaml_text) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    return AllowlistParser::Run(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("allowlist: malformed YAML at line " + std::to_string(e.mark.line + 1) +
                                ": " + e.msg);
  }
}

Result<Allowlist> Allowlist::LoadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read allowlist " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  Result<Allowlist> a = Parse(text.str());
  if (!a.ok()) return a.status().WithContext(path.string());
  return a;
}

std::string_view Allowlist::DefaultText() { return kDefaultAllowlistText; }

Result<Allowlist> Allowlist::Default() { return Parse(DefaultText()); }

ParameterAction Allowlist::ActionForParameter(std::string_view name) const {
  auto it = parameters_.find(name);
  return it == parameters_.end() ? ParameterAction::kPseudonymize : it->second;
}

bool Allowlist::KeepsHeader(std::string_view name) const {
  for (const auto& h : headers_) {
    if (h.size() == name.size() &&
        std::equal(h.begin(), h.end(), name.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      return true;
    }
  }
  return false;
}

const PathRule* Allowlist::FindSchema(std::string_view iglu_uri, bool* valid) const {
  IgluParts parts;
  const bool ok = SplitIglu(iglu_uri, false, &parts);
  if (valid != nullptr) *valid = ok;
  if (!ok) return nullptr;
  auto it = schemas_.find(parts.vendor_name_format);
  if (it == schemas_.end()) return nullptr;
  for (const auto& e : it->second) {
    if (e.model != parts.version.model) continue;
    if (e.revision != -1 && e.revision != parts.version.revision) continue;
    if (e.addition != -1 && e.addition != parts.version.addition) continue;
    return e.rule.get();
  }
  return nullptr;
}

}  // namespace furrow::pseudonymize
