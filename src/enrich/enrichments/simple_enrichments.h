// The enrichments that need no data file:
//
//   campaign_attribution 1-0-x   mkt_medium/source/term/content/campaign from the
//       page URL's query (first listed parameter present wins; defaults utm_*),
//       click ids into mkt_clickid/mkt_network (default gclid Google, msclkid
//       Microsoft, dclid DoubleClick; the config's mktClickId replaces them).
//   event_fingerprint_config 1-0-x  hex digest (MD5 default; SHA1, SHA256, SHA384,
//       SHA512) of the raw parameters sorted by name, excluding excludeParameters
//       (default eid nuid stm cv), each as name U+001F value U+001F.
//   cookie_extractor_config 1-0-0  each named cookie of the Cookie header as an
//       iglu:org.ietf/http_cookie/jsonschema/1-0-0 derived context.
//   http_header_extractor_config 1-0-0  each header whose name fully matches
//       headersPattern (RE2, case-insensitive) as iglu:org.ietf/http_header/jsonschema/1-0-0.
//   anon_ip 1-0-x  user_ipaddress with the last anonOctets IPv4 octets (1-4) or
//       anonSegments IPv6 segments (1-8, default 2) replaced by "x".
//
// Create functions take the config's `parameters` object; errors are
// kInvalidArgument naming the bad member. Enrich() is thread-safe.
#pragma once

#include <memory>
#include <string>

#include <rapidjson/document.h>

#include "core/status.h"
#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

Result<std::unique_ptr<Enrichment>> CreateCampaignAttribution(const rapidjson::Value& parameters,
                                                              std::string schema_key);
Result<std::unique_ptr<Enrichment>> CreateEventFingerprint(const rapidjson::Value& parameters,
                                                           std::string schema_key);
Result<std::unique_ptr<Enrichment>> CreateCookieExtractor(const rapidjson::Value& parameters,
                                                          std::string schema_key);
Result<std::unique_ptr<Enrichment>> CreateHttpHeaderExtractor(const rapidjson::Value& parameters,
                                                              std::string schema_key);
Result<std::unique_ptr<Enrichment>> CreateAnonIp(const rapidjson::Value& parameters,
                                                 std::string schema_key);

// Exposed for tests.
std::string AnonymizeIp(std::string_view ip, int ipv4_octets, int ipv6_segments);

}  // namespace furrow::enrich
