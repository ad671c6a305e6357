#include "enrich/enrichments/referer_parser.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "enrich/enrichments/config_util.h"
#include "tracker/query_string.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

struct Referer {
  std::string medium;
  std::string source;
  std::vector<std::string> parameters;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class RefererParser final : public Enrichment {
 public:
  RefererParser(std::string schema_key, std::vector<Referer> referers,
                std::unordered_map<std::string, size_t> by_domain,
                std::vector<std::string> internal_domains)
      : schema_key_(std::move(schema_key)), referers_(std::move(referers)),
        by_domain_(std::move(by_domain)), internal_domains_(std::move(internal_domains)) {}

  std::string_view name() const override { return "referer_parser"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput&, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    const std::string& scheme = (*event)[kRefrUrlscheme];
    if (scheme != "http" && scheme != "https") return;
    std::string host = Lower((*event)[kRefrUrlhost]);
    if (host.empty()) return;
    std::string page_host = Lower((*event)[kPageUrlhost]);
    if (host == page_host ||
        std::find(internal_domains_.begin(), internal_domains_.end(), host) != internal_domains_.end()) {
      (*event)[kRefrMedium] = "internal";
      return;
    }
    const Referer* r = Lookup(host, (*event)[kRefrUrlpath]);
    if (r == nullptr) {
      (*event)[kRefrMedium] = "unknown";
      return;
    }
    (*event)[kRefrMedium] = r->medium;
    (*event)[kRefrSource] = CleanTsv(r->source);
    if (!r->parameters.empty() && !(*event)[kRefrUrlquery].empty()) {
      auto params = tracker::ParseQueryString((*event)[kRefrUrlquery]);
      for (const std::string& name : r->parameters) {
        auto it = std::find_if(params.begin(), params.end(),
                               [&](const auto& p) { return p.first == name; });
        if (it != params.end()) {
          (*event)[kRefrTerm] = CleanTsv(it->second);
          break;
        }
      }
    }
  }

 private:
  const Referer* Find(const std::string& key) const {
    auto it = by_domain_.find(key);
    return it == by_domain_.end() ? nullptr : &referers_[it->second];
  }

  const Referer* Lookup(std::string host, const std::string& path) const {
    while (true) {
      if (!path.empty() && path != "/") {
        if (const Referer* r = Find(host + path)) return r;
        size_t second = path.find('/', 1);
        if (second != std::string::npos) {
          if (const Referer* r = Find(host + path.substr(0, second))) return r;
        }
      }
      if (const Referer* r = Find(host)) return r;
      size_t dot = host.find('.');
      if (dot == std::string::npos) return nullptr;
      host.erase(0, dot + 1);
      if (host.find('.') == std::string::npos) return nullptr;  // stop at the TLD
    }
  }

  std::string schema_key_;
  std::vector<Referer> referers_;
  std::unordered_map<std::string, size_t> by_domain_;
  std::vector<std::string> internal_domains_;
};

}  // namespace

Result<std::unique_ptr<Enrichment>> CreateRefererParser(const rapidjson::Value& parameters,
                                                        std::string schema_key,
                                                        const std::filesystem::path& base_dir) {
  FURROW_ASSIGN_OR_RETURN(std::string uri, GetString(parameters, "uri", "referer_parser"));
  FURROW_ASSIGN_OR_RETURN(std::string database, GetString(parameters, "database", "referer_parser"));
  std::vector<std::string> internal;
  if (parameters.HasMember("internalDomains")) {
    FURROW_ASSIGN_OR_RETURN(internal, GetStringArray(parameters, "internalDomains", "referer_parser"));
  }
  for (auto& d : internal) d = Lower(d);
  FURROW_ASSIGN_OR_RETURN(std::filesystem::path path, ResolveDataPath(uri, database, base_dir));
  FURROW_ASSIGN_OR_RETURN(std::string text, ReadDataFile(path));
  std::vector<Referer> referers;
  std::unordered_map<std::string, size_t> by_domain;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap()) return InvalidArgumentError("referer database " + path.string() + " is not a map");
    for (const auto& medium : root) {
      std::string medium_name = medium.first.as<std::string>();
      if (!medium.second.IsMap()) continue;
      for (const auto& source : medium.second) {
        Referer r;
        r.medium = medium_name;
        r.source = source.first.as<std::string>();
        const YAML::Node& body = source.second;
        if (body["parameters"] && body["parameters"].IsSequence()) {
          for (const auto& p : body["parameters"]) r.parameters.push_back(p.as<std::string>());
        }
        referers.push_back(std::move(r));
        if (body["domains"] && body["domains"].IsSequence()) {
          for (const auto& d : body["domains"]) {
            by_domain.emplace(Lower(d.as<std::string>()), referers.size() - 1);
          }
        }
      }
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("referer database " + path.string() + " does not parse: " + e.what());
  }
  if (by_domain.empty()) return InvalidArgumentError("referer database " + path.string() + " lists no domains");
  return std::unique_ptr<Enrichment>(new RefererParser(std::move(schema_key), std::move(referers),
                                                       std::move(by_domain), std::move(internal)));
}

}  // namespace furrow::enrich
