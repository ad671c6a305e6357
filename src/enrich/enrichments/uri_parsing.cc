#include "enrich/enrichments/uri_parsing.h"

#include <curl/curl.h>

#include <charconv>
#include <functional>
#include <memory>

#include "core/json_escape.h"
#include "core/time_format.h"
#include "enrich/bad_rows.h"
#include "tracker/query_string.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {

struct UrlDeleter {
  void operator()(CURLU* h) const { curl_url_cleanup(h); }
};

bool GetPart(CURLU* h, CURLUPart part, unsigned flags, std::string* out) {
  char* value = nullptr;
  CURLUcode rc = curl_url_get(h, part, &value, flags);
  if (rc != CURLUE_OK || value == nullptr) return false;
  *out = value;
  curl_free(value);
  return true;
}

std::string NullMessage(std::string_view field, const std::string& value, std::string_view why) {
  std::string out = "{\"enrichment\":null,\"message\":";
  out += FieldMessage(field, &value, why);
  out += '}';
  return out;
}

// The last URLs parsed on this thread, direct-mapped by hash. Page URLs and
// referrers repeat a lot (a site's popular pages), and a lookup costs a fraction of
// curl's parse. Holds only what the events themselves hold.
class UriCache {
 public:
  static constexpr size_t kSlots = 1024;  // a power of two
  static constexpr size_t kMaxUrlBytes = 512;

  const UriParts* Find(std::string_view url, size_t hash) const {
    const Slot& slot = slots_[hash & (kSlots - 1)];
    return slot.used && slot.hash == hash && slot.url == url ? &slot.parts : nullptr;
  }
  void Put(std::string_view url, size_t hash, const UriParts& parts) {
    if (url.size() > kMaxUrlBytes) return;
    Slot& slot = slots_[hash & (kSlots - 1)];
    slot.used = true;
    slot.hash = hash;
    slot.url.assign(url);
    slot.parts = parts;
  }

 private:
  struct Slot {
    bool used = false;
    size_t hash = 0;
    std::string url;
    UriParts parts;
  };
  std::vector<Slot> slots_ = std::vector<Slot>(kSlots);
};

// ParseUri through this thread's cache.
std::optional<UriParts> ParseUriCached(std::string_view url, std::string* error) {
  thread_local UriCache cache;
  const size_t hash = std::hash<std::string_view>()(url);
  if (const UriParts* hit = cache.Find(url, hash)) return *hit;
  std::optional<UriParts> parts = ParseUri(url, error);
  if (parts) cache.Put(url, hash, *parts);
  return parts;
}

}  // namespace

std::optional<UriParts> ParseUri(std::string_view url, std::string* error) {
  // One handle per thread, reused (curl_url_set replaces the whole URL).
  thread_local std::unique_ptr<CURLU, UrlDeleter> h(curl_url());
  if (!h) {
    *error = "out of memory";
    return std::nullopt;
  }
  // Clear the previous URL first: otherwise curl resolves a relative URL against
  // it (the previous event's page).
  curl_url_set(h.get(), CURLUPART_URL, nullptr, 0);
  std::string text(url);
  CURLUcode rc = curl_url_set(h.get(), CURLUPART_URL, text.c_str(),
                              CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE | CURLU_ALLOW_SPACE);
  if (rc != CURLUE_OK) {
    *error = curl_url_strerror(rc);
    return std::nullopt;
  }
  UriParts parts;
  GetPart(h.get(), CURLUPART_SCHEME, 0, &parts.scheme);
  GetPart(h.get(), CURLUPART_HOST, 0, &parts.host);
  if (!GetPart(h.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT, &parts.port)) parts.port.clear();
  GetPart(h.get(), CURLUPART_PATH, 0, &parts.path);
  GetPart(h.get(), CURLUPART_QUERY, 0, &parts.query);
  GetPart(h.get(), CURLUPART_FRAGMENT, 0, &parts.fragment);
  return parts;
}

void UriParsingEnrichment::Enrich(const EnrichmentInput& input, EnrichedEvent* event,
                                  std::vector<std::string>* failures) const {
  EnrichedEvent& ev = *event;
  auto fill = [&](size_t url_field, std::string_view field_name, size_t first) {
    const std::string& url = ev[url_field];
    if (url.empty()) return std::optional<UriParts>();
    std::string error;
    auto parts = ParseUriCached(url, &error);
    if (!parts) {
      failures->push_back(NullMessage(field_name, url, "a valid URI: " + error));
      return parts;
    }
    ev[first] = CleanTsv(parts->scheme);
    ev[first + 1] = CleanTsv(parts->host);
    ev[first + 2] = parts->port;
    ev[first + 3] = CleanTsv(parts->path);
    ev[first + 4] = CleanTsv(parts->query);
    ev[first + 5] = CleanTsv(parts->fragment);
    return parts;
  };
  auto page = fill(kPageUrl, "page_url", kPageUrlscheme);
  fill(kPageReferrer, "page_referrer", kRefrUrlscheme);

  // Cross-domain linking: _sp=<domain_userid>.<timestamp ms>.
  if (page && !page->query.empty() && page->query.find("_sp=") != std::string::npos) {
    for (const auto& [k, v] : tracker::ParseQueryString(page->query)) {
      if (k != "_sp") continue;
      size_t dot = v.rfind('.');
      std::string duid = CleanTsv(v.substr(0, dot));
      if (!duid.empty()) ev[kRefrDomainUserid] = duid;
      if (dot != std::string::npos) {
        int64_t ms = 0;
        std::string_view t = std::string_view(v).substr(dot + 1);
        auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), ms);
        if (ec == std::errc() && p == t.data() + t.size() && ms > 0 && ms < 253402300799999) {
          ev[kRefrDvceTstamp] = FormatSqlMillis(ms);
        }
      }
    }
  }
}

}  // namespace furrow::enrich
