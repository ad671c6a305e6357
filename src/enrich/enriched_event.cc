#include "enrich/enriched_event.h"

#include <charconv>

#include "core/json_escape.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

const std::array<FieldType, event::kFieldCount> kFieldTypes = {
    FieldType::kString,  // app_id
    FieldType::kString,  // platform
    FieldType::kString,  // etl_tstamp
    FieldType::kString,  // collector_tstamp
    FieldType::kString,  // dvce_created_tstamp
    FieldType::kString,  // event
    FieldType::kString,  // event_id
    FieldType::kString,  // txn_id
    FieldType::kString,  // name_tracker
    FieldType::kString,  // v_tracker
    FieldType::kString,  // v_collector
    FieldType::kString,  // v_etl
    FieldType::kString,  // user_id
    FieldType::kString,  // user_ipaddress
    FieldType::kString,  // user_fingerprint
    FieldType::kString,  // domain_userid
    FieldType::kInteger,  // domain_sessionidx
    FieldType::kString,  // network_userid
    FieldType::kString,  // geo_country
    FieldType::kString,  // geo_region
    FieldType::kString,  // geo_city
    FieldType::kString,  // geo_zipcode
    FieldType::kNumber,  // geo_latitude
    FieldType::kNumber,  // geo_longitude
    FieldType::kString,  // geo_region_name
    FieldType::kString,  // ip_isp
    FieldType::kString,  // ip_organization
    FieldType::kString,  // ip_domain
    FieldType::kString,  // ip_netspeed
    FieldType::kString,  // page_url
    FieldType::kString,  // page_title
    FieldType::kString,  // page_referrer
    FieldType::kString,  // page_urlscheme
    FieldType::kString,  // page_urlhost
    FieldType::kInteger,  // page_urlport
    FieldType::kString,  // page_urlpath
    FieldType::kString,  // page_urlquery
    FieldType::kString,  // page_urlfragment
    FieldType::kString,  // refr_urlscheme
    FieldType::kString,  // refr_urlhost
    FieldType::kInteger,  // refr_urlport
    FieldType::kString,  // refr_urlpath
    FieldType::kString,  // refr_urlquery
    FieldType::kString,  // refr_urlfragment
    FieldType::kString,  // refr_medium
    FieldType::kString,  // refr_source
    FieldType::kString,  // refr_term
    FieldType::kString,  // mkt_medium
    FieldType::kString,  // mkt_source
    FieldType::kString,  // mkt_term
    FieldType::kString,  // mkt_content
    FieldType::kString,  // mkt_campaign
    FieldType::kString,  // contexts
    FieldType::kString,  // se_category
    FieldType::kString,  // se_action
    FieldType::kString,  // se_label
    FieldType::kString,  // se_property
    FieldType::kString,  // se_value
    FieldType::kString,  // unstruct_event
    FieldType::kString,  // tr_orderid
    FieldType::kString,  // tr_affiliation
    FieldType::kString,  // tr_total
    FieldType::kString,  // tr_tax
    FieldType::kString,  // tr_shipping
    FieldType::kString,  // tr_city
    FieldType::kString,  // tr_state
    FieldType::kString,  // tr_country
    FieldType::kString,  // ti_orderid
    FieldType::kString,  // ti_sku
    FieldType::kString,  // ti_name
    FieldType::kString,  // ti_category
    FieldType::kString,  // ti_price
    FieldType::kInteger,  // ti_quantity
    FieldType::kInteger,  // pp_xoffset_min
    FieldType::kInteger,  // pp_xoffset_max
    FieldType::kInteger,  // pp_yoffset_min
    FieldType::kInteger,  // pp_yoffset_max
    FieldType::kString,  // useragent
    FieldType::kString,  // br_name
    FieldType::kString,  // br_family
    FieldType::kString,  // br_version
    FieldType::kString,  // br_type
    FieldType::kString,  // br_renderengine
    FieldType::kString,  // br_lang
    FieldType::kInteger,  // br_features_pdf
    FieldType::kInteger,  // br_features_flash
    FieldType::kInteger,  // br_features_java
    FieldType::kInteger,  // br_features_director
    FieldType::kInteger,  // br_features_quicktime
    FieldType::kInteger,  // br_features_realplayer
    FieldType::kInteger,  // br_features_windowsmedia
    FieldType::kInteger,  // br_features_gears
    FieldType::kInteger,  // br_features_silverlight
    FieldType::kInteger,  // br_cookies
    FieldType::kString,  // br_colordepth
    FieldType::kInteger,  // br_viewwidth
    FieldType::kInteger,  // br_viewheight
    FieldType::kString,  // os_name
    FieldType::kString,  // os_family
    FieldType::kString,  // os_manufacturer
    FieldType::kString,  // os_timezone
    FieldType::kString,  // dvce_type
    FieldType::kInteger,  // dvce_ismobile
    FieldType::kInteger,  // dvce_screenwidth
    FieldType::kInteger,  // dvce_screenheight
    FieldType::kString,  // doc_charset
    FieldType::kInteger,  // doc_width
    FieldType::kInteger,  // doc_height
    FieldType::kString,  // tr_currency
    FieldType::kString,  // tr_total_base
    FieldType::kString,  // tr_tax_base
    FieldType::kString,  // tr_shipping_base
    FieldType::kString,  // ti_currency
    FieldType::kString,  // ti_price_base
    FieldType::kString,  // base_currency
    FieldType::kString,  // geo_timezone
    FieldType::kString,  // mkt_clickid
    FieldType::kString,  // mkt_network
    FieldType::kString,  // etl_tags
    FieldType::kString,  // dvce_sent_tstamp
    FieldType::kString,  // refr_domain_userid
    FieldType::kString,  // refr_dvce_tstamp
    FieldType::kString,  // derived_contexts
    FieldType::kString,  // domain_sessionid
    FieldType::kString,  // derived_tstamp
    FieldType::kString,  // event_vendor
    FieldType::kString,  // event_name
    FieldType::kString,  // event_format
    FieldType::kString,  // event_version
    FieldType::kString,  // event_fingerprint
    FieldType::kString,  // true_tstamp
};

void FinalizeJsonColumns(EnrichedEvent* event) {
  auto wrap_list = [](const std::vector<std::string>& entities, std::string* out) {
    out->clear();
    if (entities.empty()) return;
    *out = "{\"schema\":\"";
    *out += kContextsSchema;
    *out += "\",\"data\":[";
    for (size_t i = 0; i < entities.size(); ++i) {
      if (i) out->push_back(',');
      *out += entities[i];
    }
    *out += "]}";
  };
  wrap_list(event->contexts, &event->fields[kContexts]);
  wrap_list(event->derived_contexts, &event->fields[kDerivedContexts]);
  std::string& ue = event->fields[kUnstructEvent];
  ue.clear();
  if (!event->unstruct_event.empty()) {
    ue = "{\"schema\":\"";
    ue += kUnstructEventSchema;
    ue += "\",\"data\":";
    ue += event->unstruct_event;
    ue += "}";
  }
}

std::string ToTsv(EnrichedEvent& event) {
  FinalizeJsonColumns(&event);
  size_t total = kFieldCount;
  for (const auto& f : event.fields) total += f.size();
  std::string out;
  out.reserve(total);
  for (size_t i = 0; i < kFieldCount; ++i) {
    if (i) out.push_back('\t');
    out += event.fields[i];
  }
  return out;
}

namespace {

bool IsInteger(std::string_view v) {
  int64_t x;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  return ec == std::errc() && p == v.data() + v.size();
}

bool IsNumber(std::string_view v) {
  double x;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  return ec == std::errc() && p == v.data() + v.size() && v.find_first_of("nNiI") == std::string_view::npos;
}

}  // namespace

std::string ToBadRowJson(EnrichedEvent& event) {
  FinalizeJsonColumns(&event);
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < kFieldCount; ++i) {
    const std::string& v = event.fields[i];
    if (v.empty()) continue;
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    out += kFieldNames[i];
    out += "\":";
    if ((kFieldTypes[i] == FieldType::kInteger && IsInteger(v)) ||
        (kFieldTypes[i] == FieldType::kNumber && IsNumber(v))) {
      out += v;
    } else if (kFieldTypes[i] == FieldType::kString) {
      AppendJsonString(&out, v);
    } else {
      out += "null";
    }
  }
  out.push_back('}');
  return out;
}

}  // namespace furrow::enrich
