#include "enrich/enrichments/ua_parser.h"

#include <re2/re2.h>
#include <re2/set.h>
#include <yaml-cpp/yaml.h>

#include <array>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/json_escape.h"
#include "enrich/enrichments/config_util.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

struct Rule {
  std::unique_ptr<RE2> regex;
  // Replacements by name; absent ones fall back to capture groups.
  std::array<std::optional<std::string>, 5> replacements;
};

// One uap-core section: rules in order plus a Set over all of them.
struct RuleList {
  std::vector<Rule> rules;
  std::unique_ptr<RE2::Set> set;

  // Index of the first matching rule, or -1.
  int FirstMatch(std::string_view text) const {
    if (set) {
      std::vector<int> matches;
      RE2::Set::ErrorInfo info;
      if (set->Match(text, &matches, &info)) {
        int best = -1;
        for (int m : matches) {
          if (best < 0 || m < best) best = m;
        }
        // The Set and the rule agree on what matches; confirm before trusting it.
        if (best >= 0 && RE2::PartialMatch(text, *rules[best].regex)) return best;
      } else if (info.kind == RE2::Set::kNoError) {
        return -1;
      }
    }
    for (size_t i = 0; i < rules.size(); ++i) {
      if (RE2::PartialMatch(text, *rules[i].regex)) return static_cast<int>(i);
    }
    return -1;
  }
};

// Replaces $1..$9 in `pattern` with the groups.
std::string Substitute(const std::string& pattern, const std::vector<std::optional<std::string>>& groups) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '$' && i + 1 < pattern.size() && pattern[i + 1] >= '1' && pattern[i + 1] <= '9') {
      size_t g = static_cast<size_t>(pattern[i + 1] - '0');
      if (g < groups.size() && groups[g]) out += *groups[g];
      ++i;
    } else {
      out.push_back(pattern[i]);
    }
  }
  return out;
}

std::optional<std::string> NonEmpty(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty()) return std::nullopt;
  return s;
}

// Runs `rule` on `text`; groups[0] is the whole match, groups[n] group n.
std::vector<std::optional<std::string>> Groups(const Rule& rule, std::string_view text) {
  int n = rule.regex->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> pieces(static_cast<size_t>(n) + 1);
  std::vector<std::optional<std::string>> out(10);
  if (!rule.regex->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                         pieces.data(), n + 1)) {
    return out;
  }
  for (int i = 0; i <= n && i < 10; ++i) {
    if (pieces[i].data() != nullptr) out[i] = std::string(pieces[i].data(), pieces[i].size());
  }
  return out;
}

std::optional<std::string> Pick(const Rule& rule, size_t replacement, size_t group,
                                const std::vector<std::optional<std::string>>& groups) {
  if (rule.replacements[replacement]) return NonEmpty(Substitute(*rule.replacements[replacement], groups));
  if (group < groups.size() && groups[group]) return NonEmpty(*groups[group]);
  return std::nullopt;
}

}  // namespace

std::string TranslateUapRegex(std::string_view pcre) {
  std::string out;
  out.reserve(pcre.size());
  bool in_class = false;
  for (size_t i = 0; i < pcre.size(); ++i) {
    char c = pcre[i];
    if (c == '\\' && i + 1 < pcre.size()) {
      char n = pcre[i + 1];
      // PCRE lets any non-alphanumeric be escaped, and treats escapes of some
      // letters/underscore as literals; RE2 accepts only its own escapes.
      if (n == '_' || n == '\'' || n == '"' || n == '<' || n == '>' || n == '%' || n == '@' ||
          n == '#' || n == '~' || n == '`' || n == '!' || n == '&' || n == ',' || n == ';' ||
          n == ':' || n == '=' || n == '/') {
        out.push_back(n == '/' || n == '_' || n == '\'' || n == '"' ? n : '\\');
        if (!(n == '/' || n == '_' || n == '\'' || n == '"')) out.push_back(n);
        ++i;
        continue;
      }
      out.push_back(c);
      out.push_back(n);
      ++i;
      continue;
    }
    if (c == '[') in_class = true;
    if (c == ']') in_class = false;
    (void)in_class;
    out.push_back(c);
  }
  return out;
}

class UserAgentParser::Impl {
 public:
  RuleList ua, os, device;
};

UserAgentParser::UserAgentParser(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UserAgentParser::~UserAgentParser() = default;

Result<std::unique_ptr<UserAgentParser>> UserAgentParser::Load(const std::filesystem::path& path) {
  FURROW_ASSIGN_OR_RETURN(std::string text, ReadDataFile(path));
  auto impl = std::make_unique<Impl>();
  try {
    YAML::Node root = YAML::Load(text);
    struct Section {
      const char* name;
      RuleList* list;
      std::array<const char*, 5> replacement_names;
    };
    Section sections[] = {
        {"user_agent_parsers", &impl->ua,
         {"family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", "v4_replacement"}},
        {"os_parsers", &impl->os,
         {"os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement", "os_v4_replacement"}},
        {"device_parsers", &impl->device,
         {"device_replacement", "brand_replacement", "model_replacement", nullptr, nullptr}},
    };
    for (Section& section : sections) {
      YAML::Node list = root[section.name];
      if (!list || !list.IsSequence()) {
        return InvalidArgumentError(path.string() + " has no " + section.name + " list");
      }
      RE2::Options options;
      options.set_log_errors(false);
      options.set_max_mem(64 << 20);
      auto set = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
      bool set_ok = true;
      for (const auto& entry : list) {
        std::string pattern = entry["regex"].as<std::string>();
        std::string translated = TranslateUapRegex(pattern);
        if (entry["regex_flag"] && entry["regex_flag"].as<std::string>() == "i") {
          translated = "(?i)" + translated;
        }
        Rule rule;
        RE2::Options rule_options;
        rule_options.set_log_errors(false);
        rule.regex = std::make_unique<RE2>(translated, rule_options);
        if (!rule.regex->ok()) {
          return InvalidArgumentError(path.string() + ": regex '" + pattern +
                                      "' does not compile with RE2: " + rule.regex->error());
        }
        for (size_t i = 0; i < 5; ++i) {
          const char* name = section.replacement_names[i];
          if (name != nullptr && entry[name]) rule.replacements[i] = entry[name].as<std::string>();
        }
        std::string error;
        if (set_ok && set->Add(translated, &error) < 0) set_ok = false;
        section.list->rules.push_back(std::move(rule));
      }
      if (set_ok && set->Compile()) section.list->set = std::move(set);
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(path.string() + " does not parse: " + e.what());
  }
  return std::unique_ptr<UserAgentParser>(new UserAgentParser(std::move(impl)));
}

UserAgentInfo UserAgentParser::Parse(std::string_view ua) const {
  UserAgentInfo info;
  int i = impl_->ua.FirstMatch(ua);
  if (i >= 0) {
    const Rule& rule = impl_->ua.rules[i];
    auto groups = Groups(rule, ua);
    info.family = Pick(rule, 0, 1, groups).value_or("Other");
    info.major = Pick(rule, 1, 2, groups);
    info.minor = Pick(rule, 2, 3, groups);
    info.patch = Pick(rule, 3, 4, groups);
    info.patch_minor = Pick(rule, 4, 5, groups);
  }
  i = impl_->os.FirstMatch(ua);
  if (i >= 0) {
    const Rule& rule = impl_->os.rules[i];
    auto groups = Groups(rule, ua);
    info.os_family = Pick(rule, 0, 1, groups).value_or("Other");
    info.os_major = Pick(rule, 1, 2, groups);
    info.os_minor = Pick(rule, 2, 3, groups);
    info.os_patch = Pick(rule, 3, 4, groups);
    info.os_patch_minor = Pick(rule, 4, 5, groups);
  }
  i = impl_->device.FirstMatch(ua);
  if (i >= 0) {
    const Rule& rule = impl_->device.rules[i];
    auto groups = Groups(rule, ua);
    info.device_family = Pick(rule, 0, 1, groups).value_or("Other");
    if (rule.replacements[1]) info.device_brand = NonEmpty(Substitute(*rule.replacements[1], groups));
    info.device_model = Pick(rule, 2, 1, groups);
  }
  return info;
}

namespace {

std::string Version(const std::optional<std::string>& a, const std::optional<std::string>& b,
                    const std::optional<std::string>& c, const std::optional<std::string>& d) {
  std::string out;
  for (const auto* part : {&a, &b, &c, &d}) {
    if (!*part) break;
    if (!out.empty()) out.push_back('.');
    out += **part;
  }
  return out;
}

void AppendOptional(std::string* out, const char* key, const std::optional<std::string>& v) {
  *out += ",\"";
  *out += key;
  *out += "\":";
  if (v) {
    AppendJsonString(out, *v);
  } else {
    *out += "null";
  }
}

bool IsMobile(const UserAgentInfo& info) {
  static constexpr std::string_view kMobileOs[] = {"Android", "iOS", "Windows Phone", "BlackBerry OS",
                                                   "KaiOS", "Symbian OS", "Firefox OS"};
  for (auto os : kMobileOs) {
    if (info.os_family == os) return true;
  }
  return info.device_family.find("Mobile") != std::string::npos ||
         info.device_family == "iPhone" || info.device_family == "iPod";
}

struct CachedResult {
  std::string br_version, os_version;
  UserAgentInfo info;
  std::string context;
};

class UaParserEnrichment final : public Enrichment {
 public:
  UaParserEnrichment(std::string schema_key, std::unique_ptr<UserAgentParser> parser, size_t cache_size)
      : schema_key_(std::move(schema_key)), parser_(std::move(parser)),
        shard_limit_(cache_size / kShards) {}

  std::string_view name() const override { return "ua_parser_config"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput&, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    const std::string& ua = (*event)[kUseragent];
    if (ua.empty()) return;
    std::shared_ptr<const CachedResult> result;
    Shard* shard = nullptr;
    if (shard_limit_ > 0) {
      shard = &shards_[std::hash<std::string>()(ua) % kShards];
      std::lock_guard<std::mutex> lock(shard->mu);
      auto it = shard->entries.find(ua);
      if (it != shard->entries.end()) result = it->second;
    }
    if (!result) {
      result = Compute(ua);
      if (shard != nullptr) {
        std::lock_guard<std::mutex> lock(shard->mu);
        if (shard->entries.size() >= shard_limit_) shard->entries.clear();
        shard->entries.emplace(ua, result);
      }
    }
    const UserAgentInfo& info = result->info;
    (*event)[kBrName] = CleanTsv(info.family);
    (*event)[kBrFamily] = CleanTsv(info.family);
    (*event)[kBrVersion] = CleanTsv(result->br_version);
    (*event)[kOsName] = CleanTsv(info.os_family);
    (*event)[kOsFamily] = CleanTsv(info.os_family);
    if (info.device_brand) (*event)[kOsManufacturer] = CleanTsv(*info.device_brand);
    bool mobile = IsMobile(info);
    (*event)[kDvceIsmobile] = mobile ? "1" : "0";
    (*event)[kDvceType] = info.device_family == "Spider" ? "Robot" : (mobile ? "Mobile" : "Computer");
    event->derived_contexts.push_back(result->context);
  }

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const CachedResult>> entries;
  };

  std::shared_ptr<const CachedResult> Compute(const std::string& ua) const {
    auto r = std::make_shared<CachedResult>();
    r->info = parser_->Parse(ua);
    const UserAgentInfo& i = r->info;
    r->br_version = Version(i.major, i.minor, i.patch, std::nullopt);
    r->os_version = Version(i.os_major, i.os_minor, i.os_patch, i.os_patch_minor);
    std::string& c = r->context;
    c = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\","
        "\"data\":{\"useragentFamily\":";
    AppendJsonString(&c, i.family);
    AppendOptional(&c, "useragentMajor", i.major);
    AppendOptional(&c, "useragentMinor", i.minor);
    AppendOptional(&c, "useragentPatch", i.patch);
    c += ",\"useragentVersion\":";
    AppendJsonString(&c, r->br_version.empty() ? i.family : i.family + " " + r->br_version);
    c += ",\"osFamily\":";
    AppendJsonString(&c, i.os_family);
    AppendOptional(&c, "osMajor", i.os_major);
    AppendOptional(&c, "osMinor", i.os_minor);
    AppendOptional(&c, "osPatch", i.os_patch);
    AppendOptional(&c, "osPatchMinor", i.os_patch_minor);
    c += ",\"osVersion\":";
    AppendJsonString(&c, r->os_version.empty() ? i.os_family : i.os_family + " " + r->os_version);
    c += ",\"deviceFamily\":";
    AppendJsonString(&c, i.device_family);
    c += "}}";
    return r;
  }

  std::string schema_key_;
  std::unique_ptr<UserAgentParser> parser_;
  size_t shard_limit_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace

Result<std::unique_ptr<Enrichment>> CreateUaParser(const rapidjson::Value& parameters,
                                                   std::string schema_key,
                                                   const std::filesystem::path& base_dir,
                                                   size_t cache_size) {
  std::filesystem::path path = kDefaultUapRegexes;
  if (parameters.IsObject() && parameters.HasMember("uri") && parameters.HasMember("database")) {
    FURROW_ASSIGN_OR_RETURN(std::string uri, GetString(parameters, "uri", "ua_parser"));
    FURROW_ASSIGN_OR_RETURN(std::string database, GetString(parameters, "database", "ua_parser"));
    FURROW_ASSIGN_OR_RETURN(path, ResolveDataPath(uri, database, base_dir));
  }
  FURROW_ASSIGN_OR_RETURN(auto parser, UserAgentParser::Load(path));
  return std::unique_ptr<Enrichment>(
      new UaParserEnrichment(std::move(schema_key), std::move(parser), cache_size));
}

}  // namespace furrow::enrich
