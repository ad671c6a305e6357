#include "enrich/enrichments/spiders_and_robots.h"

#include <arpa/inet.h>

#include <array>
#include <cstring>
#include <vector>

#include "enrich/enrichments/config_util.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

struct Cidr {
  std::array<unsigned char, 16> address{};
  int family = AF_INET;
  int prefix = 32;
};

bool ParseCidr(std::string_view text, Cidr* out) {
  std::string s(text);
  size_t slash = s.find('/');
  std::string addr = s.substr(0, slash);
  if (inet_pton(AF_INET, addr.c_str(), out->address.data()) == 1) {
    out->family = AF_INET;
    out->prefix = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), out->address.data()) == 1) {
    out->family = AF_INET6;
    out->prefix = 128;
  } else {
    return false;
  }
  if (slash != std::string::npos) {
    int p = std::atoi(s.c_str() + slash + 1);
    if (p < 0 || p > out->prefix) return false;
    out->prefix = p;
  }
  return true;
}

bool Contains(const Cidr& c, int family, const unsigned char* addr) {
  if (c.family != family) return false;
  int full = c.prefix / 8, rest = c.prefix % 8;
  if (std::memcmp(c.address.data(), addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xFF << (8 - rest));
  return (c.address[full] & mask) == (addr[full] & mask);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() + 1 : nl + 1;
    line = line.substr(0, line.find('|'));
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    while (!line.empty() && line.front() == ' ') line.erase(line.begin());
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

class SpidersAndRobots final : public Enrichment {
 public:
  SpidersAndRobots(std::string schema_key, std::vector<Cidr> ips, std::vector<std::string> include,
                   std::vector<std::string> exclude)
      : schema_key_(std::move(schema_key)), ips_(std::move(ips)), include_(std::move(include)),
        exclude_(std::move(exclude)) {}

  std::string_view name() const override { return "iab_spiders_and_robots_enrichment"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput&, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    const char* reason = "PASSED_ALL";
    const std::string& ip = (*event)[kUserIpaddress];
    unsigned char addr[16];
    int family = 0;
    if (inet_pton(AF_INET, ip.c_str(), addr) == 1) family = AF_INET;
    else if (inet_pton(AF_INET6, ip.c_str(), addr) == 1) family = AF_INET6;
    if (family != 0) {
      for (const Cidr& c : ips_) {
        if (Contains(c, family, addr)) {
          reason = "FAILED_IP_EXCLUDE";
          break;
        }
      }
    }
    std::string ua = Lower((*event)[kUseragent]);
    auto any = [&](const std::vector<std::string>& list) {
      for (const auto& p : list) {
        if (ua.find(p) != std::string::npos) return true;
      }
      return false;
    };
    if (std::strcmp(reason, "PASSED_ALL") == 0 && !include_.empty() && !any(include_)) {
      reason = "FAILED_UA_INCLUDE";
    }
    if (std::strcmp(reason, "PASSED_ALL") == 0 && any(exclude_)) reason = "FAILED_UA_EXCLUDE";
    bool robot = std::strcmp(reason, "PASSED_ALL") != 0;
    std::string ctx =
        "{\"schema\":\"iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0\",\"data\":{"
        "\"spiderOrRobot\":";
    ctx += robot ? "true" : "false";
    ctx += ",\"category\":\"";
    ctx += robot ? "SPIDER_OR_ROBOT" : "BROWSER";
    ctx += "\",\"reason\":\"";
    ctx += reason;
    ctx += "\",\"primaryImpact\":\"";
    ctx += robot ? "UNKNOWN" : "NONE";
    ctx += "\"}}";
    event->derived_contexts.push_back(std::move(ctx));
  }

 private:
  std::string schema_key_;
  std::vector<Cidr> ips_;
  std::vector<std::string> include_;
  std::vector<std::string> exclude_;
};

Result<std::string> LoadListFile(const rapidjson::Value& parameters, const char* member,
                                 const std::filesystem::path& base_dir) {
  if (!parameters.IsObject() || !parameters.HasMember(member)) {
    return InvalidArgumentError(std::string("iab_spiders_and_robots ") + member + " is required");
  }
  std::string what = std::string("iab_spiders_and_robots ") + member;
  FURROW_ASSIGN_OR_RETURN(std::string database, GetString(parameters[member], "database", what));
  FURROW_ASSIGN_OR_RETURN(std::string uri, GetString(parameters[member], "uri", what));
  FURROW_ASSIGN_OR_RETURN(std::filesystem::path path, ResolveDataPath(uri, database, base_dir));
  return ReadDataFile(path);
}

}  // namespace

Result<std::unique_ptr<Enrichment>> CreateSpidersAndRobots(const rapidjson::Value& parameters,
                                                           std::string schema_key,
                                                           const std::filesystem::path& base_dir) {
  FURROW_ASSIGN_OR_RETURN(std::string ip_text, LoadListFile(parameters, "ipFile", base_dir));
  FURROW_ASSIGN_OR_RETURN(std::string exclude_text,
                          LoadListFile(parameters, "excludeUseragentFile", base_dir));
  FURROW_ASSIGN_OR_RETURN(std::string include_text,
                          LoadListFile(parameters, "includeUseragentFile", base_dir));
  std::vector<Cidr> ips;
  for (const auto& line : Lines(ip_text)) {
    Cidr c;
    if (!ParseCidr(line, &c)) {
      return InvalidArgumentError("iab_spiders_and_robots ipFile: '" + line + "' is not an IP or CIDR");
    }
    ips.push_back(c);
  }
  std::vector<std::string> include, exclude;
  for (auto& l : Lines(include_text)) include.push_back(Lower(l));
  for (auto& l : Lines(exclude_text)) exclude.push_back(Lower(l));
  return std::unique_ptr<Enrichment>(new SpidersAndRobots(std::move(schema_key), std::move(ips),
                                                          std::move(include), std::move(exclude)));
}

}  // namespace furrow::enrich
