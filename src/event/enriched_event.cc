#include "event/enriched_event.h"

#include <algorithm>

#include <unordered_map>

namespace furrow::event {

const std::array<std::string_view, kFieldCount> kFieldNames = {
    "app_id", "platform", "etl_tstamp", "collector_tstamp", "dvce_created_tstamp", "event",
    "event_id", "txn_id", "name_tracker", "v_tracker", "v_collector", "v_etl", "user_id",
    "user_ipaddress", "user_fingerprint", "domain_userid", "domain_sessionidx",
    "network_userid", "geo_country", "geo_region", "geo_city", "geo_zipcode", "geo_latitude",
    "geo_longitude", "geo_region_name", "ip_isp", "ip_organization", "ip_domain",
    "ip_netspeed", "page_url", "page_title", "page_referrer", "page_urlscheme",
    "page_urlhost", "page_urlport", "page_urlpath", "page_urlquery", "page_urlfragment",
    "refr_urlscheme", "refr_urlhost", "refr_urlport", "refr_urlpath", "refr_urlquery",
    "refr_urlfragment", "refr_medium", "refr_source", "refr_term", "mkt_medium", "mkt_source",
    "mkt_term", "mkt_content", "mkt_campaign", "contexts", "se_category", "se_action",
    "se_label", "se_property", "se_value", "unstruct_event", "tr_orderid", "tr_affiliation",
    "tr_total", "tr_tax", "tr_shipping", "tr_city", "tr_state", "tr_country", "ti_orderid",
    "ti_sku", "ti_name", "ti_category", "ti_price", "ti_quantity", "pp_xoffset_min",
    "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max", "useragent", "br_name", "br_family",
    "br_version", "br_type", "br_renderengine", "br_lang", "br_features_pdf",
    "br_features_flash", "br_features_java", "br_features_director", "br_features_quicktime",
    "br_features_realplayer", "br_features_windowsmedia", "br_features_gears",
    "br_features_silverlight", "br_cookies", "br_colordepth", "br_viewwidth", "br_viewheight",
    "os_name", "os_family", "os_manufacturer", "os_timezone", "dvce_type", "dvce_ismobile",
    "dvce_screenwidth", "dvce_screenheight", "doc_charset", "doc_width", "doc_height",
    "tr_currency", "tr_total_base", "tr_tax_base", "tr_shipping_base", "ti_currency",
    "ti_price_base", "base_currency", "geo_timezone", "mkt_clickid", "mkt_network", "etl_tags",
    "dvce_sent_tstamp", "refr_domain_userid", "refr_dvce_tstamp", "derived_contexts",
    "domain_sessionid", "derived_tstamp", "event_vendor", "event_name", "event_format",
    "event_version", "event_fingerprint", "true_tstamp",
};

std::optional<size_t> FieldIndexByName(std::string_view name) {
  static const auto* const kByName = [] {
    auto* m = new std::unordered_map<std::string_view, size_t>();
    for (size_t i = 0; i < kFieldCount; ++i) m->emplace(kFieldNames[i], i);
    return m;
  }();
  auto it = kByName->find(name);
  if (it == kByName->end()) return std::nullopt;
  return it->second;
}

Status FieldCountError(size_t count) {
  return InvalidArgumentError("enriched event has " + std::to_string(count) +
                              " tab-separated fields, expected " + std::to_string(kFieldCount));
}

Result<FieldViews> SplitTsv(std::string_view line) {
  FieldViews fields;
  const size_t count = ForEachTsvField(line, [&](size_t i, std::string_view f) { fields[i] = f; });
  if (count != kFieldCount) return FieldCountError(count);
  return fields;
}

std::string JoinTsv(const FieldViews& fields) {
  size_t size = kFieldCount - 1;
  for (auto f : fields) size += f.size();
  std::string out;
  out.reserve(size);
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (i) out += '\t';
    out += fields[i];
  }
  return out;
}

std::string MakeTsvSafe(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\t') {
      out += "    ";
    } else if (u < 0x20 || u == 0x7F) {
      continue;
    } else {
      out += c;
    }
  }
  return out;
}

std::string EnrichedEvent::ToTsv() const {
  FieldViews views;
  for (size_t i = 0; i < kFieldCount; ++i) views[i] = fields[i];
  return JoinTsv(views);
}

}  // namespace furrow::event
