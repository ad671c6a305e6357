// ip_lookups 2-0-x: MaxMind databases (libmaxminddb) queried with user_ipaddress.
//
//   geo (GeoIP2-City / GeoLite2-City): geo_country (ISO code), geo_region (first
//     subdivision ISO code), geo_city, geo_zipcode, geo_latitude, geo_longitude,
//     geo_region_name, geo_timezone (English names)
//   isp (GeoIP2-ISP): ip_isp, ip_organization
//   domain (GeoIP2-Domain): ip_domain
//   connectionType (GeoIP2-Connection-Type): ip_netspeed
// Each database is `<uri>/<database>` (see config_util.h); the database names are
// the ones Snowplow's schema allows. All are opened (memory-mapped) at start-up;
// an unreadable or corrupt file fails creation. An address not in a database
// leaves its fields null; an address that is not an IP is not looked up.
// Thread safety: lookups on a shared MMDB_s are read-only; Enrich() is thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <rapidjson/document.h>

#include "core/status.h"
#include "enrich/enrichments/enrichment.h"

namespace furrow::enrich {

Result<std::unique_ptr<Enrichment>> CreateIpLookups(const rapidjson::Value& parameters,
                                                    std::string schema_key,
                                                    const std::filesystem::path& base_dir);

}  // namespace furrow::enrich
