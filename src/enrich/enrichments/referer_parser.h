// referer_parser 2-0-x: refr_medium, refr_source and refr_term from page_referrer.
//
// The database is the classic referer-parser file (`referers.yml` from Debian's
// ruby-referer-parser, or Snowplow's referers-latest.json: same structure,
// medium → source → {domains, parameters}); `<uri>/<database>` per config_util.h.
// Lookup: host + full path, host + first path segment, host; then the same with
// the leftmost host label removed, until a match or no dot is left. A referer
// whose host equals the page host or is listed in internalDomains is "internal";
// one not in the database is "unknown". refr_term is the first listed search
// parameter present in the referer's query. Non-http(s) referers are skipped.
// Thread safety: immutable after creation; Enrich() is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "core/status.h"
#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

Result<std::unique_ptr<Enrichment>> CreateRefererParser(const rapidjson::Value& parameters,
                                                        std::string schema_key,
                                                        const std::filesystem::path& base_dir);

}  // namespace furrow::enrich
