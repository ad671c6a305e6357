// URI parsing: page_url and page_referrer taken apart into page_url* / refr_url*
// fields (always on, first in the chain), plus the cross-domain `_sp` parameter of
// the page URL (`_sp=DOMAIN_USERID.TIMESTAMP_MS`) into refr_domain_userid and
// refr_dvce_tstamp.
//
// Parsing is libcurl's URL API (curl_url), accepting any scheme and encoding
// spaces. The port defaults to the scheme's (80 for http, 443 for https) as in
// Snowplow. A URL that does not parse is an enrichment failure (enrichment null,
// field page_url or page_referrer). Thread-safe: each thread reuses its own curl
// URL handle and keeps a cache of the last 1024 URLs it parsed (direct-mapped; page
// URLs and referrers repeat), so a popular page is parsed once per thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

struct UriParts {
  std::string scheme;
  std::string host;
  std::string port;  // empty when the scheme has no default and none was given
  std::string path;
  std::string query;     // without '?'
  std::string fragment;  // without '#'
};

// nullopt (with a reason in *error) when `url` is not a URL.
std::optional<UriParts> ParseUri(std::string_view url, std::string* error);

class UriParsingEnrichment final : public Enrichment {
 public:
  std::string_view name() const override { return "uri_parsing"; }
  const std::string& schema_key() const override { return schema_key_; }
  void Enrich(const EnrichmentInput& input, EnrichedEvent* event,
              std::vector<std::string>* failures) const override;

 private:
  std::string schema_key_;
};

}  // namespace furrow::enrich
