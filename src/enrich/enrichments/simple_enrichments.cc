#include "enrich/enrichments/simple_enrichments.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "core/json_escape.h"
#include "enrich/bad_rows.h"
#include "enrich/enrichments/config_util.h"
#include "tracker/query_string.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// ---------------------------------------------------------------- campaign

class CampaignAttribution final : public Enrichment {
 public:
  CampaignAttribution(std::string schema_key, std::array<std::vector<std::string>, 5> fields,
                      std::vector<std::pair<std::string, std::string>> click_ids)
      : schema_key_(std::move(schema_key)), fields_(std::move(fields)),
        click_ids_(std::move(click_ids)) {}

  std::string_view name() const override { return "campaign_attribution"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput&, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    const std::string& query = (*event)[kPageUrlquery];
    if (query.empty()) return;
    auto params = tracker::ParseQueryString(query);
    auto find = [&](const std::string& name) -> const std::string* {
      for (const auto& p : params) {
        if (p.first == name) return &p.second;
      }
      return nullptr;
    };
    static constexpr size_t kTargets[5] = {kMktMedium, kMktSource, kMktTerm, kMktContent,
                                           kMktCampaign};
    for (size_t i = 0; i < 5; ++i) {
      for (const std::string& name : fields_[i]) {
        if (const std::string* v = find(name)) {
          (*event)[kTargets[i]] = CleanTsv(*v);
          break;
        }
      }
    }
    for (const auto& [param, network] : click_ids_) {
      if (const std::string* v = find(param)) {
        (*event)[kMktClickid] = CleanTsv(*v);
        (*event)[kMktNetwork] = network;
        break;
      }
    }
  }

 private:
  std::string schema_key_;
  std::array<std::vector<std::string>, 5> fields_;
  std::vector<std::pair<std::string, std::string>> click_ids_;
};

// ---------------------------------------------------------------- fingerprint

class EventFingerprint final : public Enrichment {
 public:
  // Takes ownership of `md` (fetched once: OpenSSL 3's implicit fetch on every
  // digest init costs more than hashing a whole event).
  EventFingerprint(std::string schema_key, EVP_MD* md, std::vector<std::string> exclude)
      : schema_key_(std::move(schema_key)), md_(md), exclude_(std::move(exclude)) {
    std::sort(exclude_.begin(), exclude_.end());
  }
  ~EventFingerprint() override { EVP_MD_free(md_); }
  EventFingerprint(const EventFingerprint&) = delete;
  EventFingerprint& operator=(const EventFingerprint&) = delete;

  std::string_view name() const override { return "event_fingerprint_config"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput& input_event, EnrichedEvent* event,
              std::vector<std::string>* failures) const override {
    // One reusable context per worker thread.
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> tls_ctx(EVP_MD_CTX_new(),
                                                                                  &EVP_MD_CTX_free);
    EVP_MD_CTX* ctx = tls_ctx.get();
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, md_, nullptr) != 1) {
      failures->push_back(EnrichmentFailureMessage(schema_key_, "event_fingerprint",
                                                   "{\"error\":\"digest initialisation failed\"}"));
      return;
    }
    // The whole input in one buffer, hashed in one update (per-call overhead of
    // EVP_DigestUpdate dominates for ~30 short parameters).
    thread_local std::string input;
    input.clear();
    // Parameters are already sorted by name (RawEvent's invariant).
    for (const auto& [k, v] : input_event.raw.parameters) {
      if (std::binary_search(exclude_.begin(), exclude_.end(), k)) continue;
      input += k;
      input.push_back('\x1f');
      input += v;
      input.push_back('\x1f');
    }
    EVP_DigestUpdate(ctx, input.data(), input.size());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, digest, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned i = 0; i < len; ++i) {
      hex.push_back(kHex[digest[i] >> 4]);
      hex.push_back(kHex[digest[i] & 0xF]);
    }
    (*event)[kEventFingerprint] = std::move(hex);
  }

 private:
  std::string schema_key_;
  EVP_MD* md_;
  std::vector<std::string> exclude_;
};

// ---------------------------------------------------------------- cookies, headers

void AppendNameValueContext(std::string_view schema, std::string_view name, std::string_view value,
                            std::vector<std::string>* contexts) {
  std::string out = "{\"schema\":\"";
  out += schema;
  out += "\",\"data\":{\"name\":";
  AppendJsonString(&out, name);
  out += ",\"value\":";
  AppendJsonString(&out, value);
  out += "}}";
  contexts->push_back(std::move(out));
}

bool SplitHeader(std::string_view header, std::string_view* name, std::string_view* value) {
  size_t colon = header.find(':');
  if (colon == std::string_view::npos) return false;
  *name = header.substr(0, colon);
  *value = header.substr(colon + 1);
  while (!value->empty() && value->front() == ' ') value->remove_prefix(1);
  return true;
}

class CookieExtractor final : public Enrichment {
 public:
  CookieExtractor(std::string schema_key, std::vector<std::string> cookies)
      : schema_key_(std::move(schema_key)), cookies_(std::move(cookies)) {}

  std::string_view name() const override { return "cookie_extractor_config"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput& input, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    if (!input.payload.headers) return;
    for (const std::string& h : *input.payload.headers) {
      std::string_view name, value;
      if (!SplitHeader(h, &name, &value) || Lower(name) != "cookie") continue;
      while (!value.empty()) {
        size_t semi = value.find(';');
        std::string_view pair = value.substr(0, semi);
        value = semi == std::string_view::npos ? std::string_view() : value.substr(semi + 1);
        size_t eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        std::string cookie = Trim(pair.substr(0, eq));
        if (std::find(cookies_.begin(), cookies_.end(), cookie) == cookies_.end()) continue;
        AppendNameValueContext("iglu:org.ietf/http_cookie/jsonschema/1-0-0", cookie,
                               Trim(pair.substr(eq + 1)), &event->derived_contexts);
      }
    }
  }

 private:
  std::string schema_key_;
  std::vector<std::string> cookies_;
};

class HttpHeaderExtractor final : public Enrichment {
 public:
  HttpHeaderExtractor(std::string schema_key, std::unique_ptr<RE2> pattern)
      : schema_key_(std::move(schema_key)), pattern_(std::move(pattern)) {}

  std::string_view name() const override { return "http_header_extractor_config"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput& input, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    if (!input.payload.headers) return;
    for (const std::string& h : *input.payload.headers) {
      std::string_view name, value;
      if (!SplitHeader(h, &name, &value)) continue;
      if (!RE2::FullMatch(name, *pattern_)) continue;
      AppendNameValueContext("iglu:org.ietf/http_header/jsonschema/1-0-0", name, value,
                             &event->derived_contexts);
    }
  }

 private:
  std::string schema_key_;
  std::unique_ptr<RE2> pattern_;
};

// ---------------------------------------------------------------- anon_ip

class AnonIp final : public Enrichment {
 public:
  AnonIp(std::string schema_key, int octets, int segments)
      : schema_key_(std::move(schema_key)), octets_(octets), segments_(segments) {}

  std::string_view name() const override { return "anon_ip"; }
  const std::string& schema_key() const override { return schema_key_; }

  void Enrich(const EnrichmentInput&, EnrichedEvent* event,
              std::vector<std::string>*) const override {
    std::string& ip = (*event)[kUserIpaddress];
    if (!ip.empty()) ip = AnonymizeIp(ip, octets_, segments_);
  }

 private:
  std::string schema_key_;
  int octets_;
  int segments_;
};

}  // namespace

std::string AnonymizeIp(std::string_view ip, int ipv4_octets, int ipv6_segments) {
  std::string text(ip);
  unsigned char buf[16];
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) {
    std::string out;
    for (int i = 0; i < 4; ++i) {
      if (i) out.push_back('.');
      out += i >= 4 - ipv4_octets ? std::string("x") : std::to_string(buf[i]);
    }
    return out;
  }
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
      if (i) out.push_back(':');
      if (i >= 8 - ipv6_segments) {
        out.push_back('x');
        continue;
      }
      unsigned v = (buf[2 * i] << 8) | buf[2 * i + 1];
      std::string seg;
      do {
        seg.insert(seg.begin(), kHex[v & 0xF]);
        v >>= 4;
      } while (v != 0);
      out += seg;
    }
    return out;
  }
  // Not an IP address (e.g. "unknown"): nothing personal to keep either way.
  return text;
}

Result<std::unique_ptr<Enrichment>> CreateCampaignAttribution(const rapidjson::Value& parameters,
                                                              std::string schema_key) {
  std::array<std::vector<std::string>, 5> fields = {
      std::vector<std::string>{"utm_medium"}, {"utm_source"}, {"utm_term"}, {"utm_content"},
      {"utm_campaign"}};
  std::vector<std::pair<std::string, std::string>> click_ids = {
      {"gclid", "Google"}, {"msclkid", "Microsoft"}, {"dclid", "DoubleClick"}};
  if (parameters.IsObject() && parameters.HasMember("fields")) {
    const rapidjson::Value& f = parameters["fields"];
    static constexpr const char* kNames[5] = {"mktMedium", "mktSource", "mktTerm", "mktContent",
                                              "mktCampaign"};
    for (int i = 0; i < 5; ++i) {
      if (!f.IsObject() || !f.HasMember(kNames[i])) continue;
      FURROW_ASSIGN_OR_RETURN(fields[i], GetStringArray(f, kNames[i], "campaign_attribution fields"));
    }
    if (f.IsObject() && f.HasMember("mktClickId")) {
      const rapidjson::Value& c = f["mktClickId"];
      if (!c.IsObject()) return InvalidArgumentError("campaign_attribution mktClickId must be an object");
      click_ids.clear();
      for (const auto& m : c.GetObject()) {
        if (!m.value.IsString()) {
          return InvalidArgumentError("campaign_attribution mktClickId values must be strings");
        }
        click_ids.emplace_back(m.name.GetString(), m.value.GetString());
      }
    }
  }
  return std::unique_ptr<Enrichment>(
      new CampaignAttribution(std::move(schema_key), std::move(fields), std::move(click_ids)));
}

Result<std::unique_ptr<Enrichment>> CreateEventFingerprint(const rapidjson::Value& parameters,
                                                           std::string schema_key) {
  std::string algorithm = "MD5";
  std::vector<std::string> exclude = {"cv", "eid", "nuid", "stm"};
  if (parameters.IsObject()) {
    if (parameters.HasMember("hashAlgorithm")) {
      FURROW_ASSIGN_OR_RETURN(algorithm, GetString(parameters, "hashAlgorithm", "event_fingerprint"));
    }
    if (parameters.HasMember("excludeParameters")) {
      FURROW_ASSIGN_OR_RETURN(exclude,
                              GetStringArray(parameters, "excludeParameters", "event_fingerprint"));
    }
  }
  if (algorithm != "MD5" && algorithm != "SHA1" && algorithm != "SHA256" && algorithm != "SHA384" &&
      algorithm != "SHA512") {
    return InvalidArgumentError("event_fingerprint hashAlgorithm must be one of MD5, SHA1, SHA256, SHA384, SHA512; got " + algorithm);
  }
  std::string name = algorithm == "SHA1" ? "SHA1" : algorithm == "MD5" ? "MD5" : "SHA2-" + algorithm.substr(3);
  EVP_MD* md = EVP_MD_fetch(nullptr, name.c_str(), nullptr);
  if (md == nullptr) return InvalidArgumentError("event_fingerprint: OpenSSL has no " + algorithm + " digest");
  return std::unique_ptr<Enrichment>(new EventFingerprint(std::move(schema_key), md, std::move(exclude)));
}

Result<std::unique_ptr<Enrichment>> CreateCookieExtractor(const rapidjson::Value& parameters,
                                                          std::string schema_key) {
  FURROW_ASSIGN_OR_RETURN(auto cookies, GetStringArray(parameters, "cookies", "cookie_extractor"));
  return std::unique_ptr<Enrichment>(new CookieExtractor(std::move(schema_key), std::move(cookies)));
}

Result<std::unique_ptr<Enrichment>> CreateHttpHeaderExtractor(const rapidjson::Value& parameters,
                                                              std::string schema_key) {
  FURROW_ASSIGN_OR_RETURN(std::string pattern,
                          GetString(parameters, "headersPattern", "http_header_extractor"));
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    return InvalidArgumentError("http_header_extractor headersPattern does not compile: " + re->error());
  }
  return std::unique_ptr<Enrichment>(new HttpHeaderExtractor(std::move(schema_key), std::move(re)));
}

Result<std::unique_ptr<Enrichment>> CreateAnonIp(const rapidjson::Value& parameters,
                                                 std::string schema_key) {
  if (!parameters.IsObject() || !parameters.HasMember("anonOctets") ||
      !parameters["anonOctets"].IsNumber()) {
    return InvalidArgumentError("anon_ip anonOctets must be a number from 1 to 4");
  }
  int octets = static_cast<int>(parameters["anonOctets"].GetDouble());
  if (octets < 1 || octets > 4) return InvalidArgumentError("anon_ip anonOctets must be from 1 to 4");
  int segments = 2;
  if (parameters.HasMember("anonSegments")) {
    if (!parameters["anonSegments"].IsInt()) {
      return InvalidArgumentError("anon_ip anonSegments must be an integer from 1 to 8");
    }
    segments = parameters["anonSegments"].GetInt();
    if (segments < 1 || segments > 8) return InvalidArgumentError("anon_ip anonSegments must be from 1 to 8");
  }
  return std::unique_ptr<Enrichment>(new AnonIp(std::move(schema_key), octets, segments));
}

}  // namespace furrow::enrich
