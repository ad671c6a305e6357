#include "enrich/golden_cases.h"

#include "enrich/codec.h"
#include "enrich/enrich_test_util.h"
#include "tracker/query_string.h"

namespace furrow::enrich::testing {

std::string Base64Url(const std::string& text) {
  std::string b = Base64Encode(text);
  for (char& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

namespace {

const char kWebPage[] =
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)"
    R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b6d3f3e-1111-4222-8333-444455556666"}}]})";

Params Common(const std::string& e, const std::string& eid_suffix) {
  return {{"e", e},
          {"eid", "6a1b2c3d-0000-4000-8000-" + eid_suffix},
          {"aid", "shop"},
          {"p", "web"},
          {"tv", "js-3.17.0"},
          {"tna", "sp1"},
          {"dtm", "1699999990000"},
          {"stm", "1699999995000"},
          {"duid", "d-user-1"},
          {"vid", "3"},
          {"sid", "9a1b2c3d-0000-4000-8000-000000000002"},
          {"uid", "user@example.com"},
          {"url", "https://shop.example.com/products?utm_source=newsletter&utm_medium=email&utm_campaign=spring&gclid=abc123#reviews"},
          {"page", "Products"},
          {"refr", "https://www.google.com/search?q=garden+tools"},
          {"lang", "en-GB"},
          {"cs", "UTF-8"},
          {"cd", "24"},
          {"tz", "Europe/London"},
          {"res", "1920x1080"},
          {"vp", "1280x720"},
          {"ds", "1280x3000"},
          {"f_pdf", "1"},
          {"cookie", "1"},
          {"fp", "12345"},
          {"cx", Base64Url(kWebPage)}};
}

Params With(Params base, const Params& extra) {
  for (const auto& p : extra) base.push_back(p);
  return base;
}

}  // namespace

std::vector<GoldenCase> GoldenCases() {
  const std::string link_click =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":)"
      R"({"targetUrl":"https://example.org/garden","elementId":"cta"}}})";
  return {
      {"page_view", Common("pv", "000000000001")},
      {"page_ping", With(Common("pp", "000000000002"),
                         {{"pp_mix", "0"}, {"pp_max", "120"}, {"pp_miy", "10"}, {"pp_may", "900"}})},
      {"struct", With(Common("se", "000000000003"), {{"se_ca", "shop"},
                                                     {"se_ac", "add-to-basket"},
                                                     {"se_la", "rake"},
                                                     {"se_pr", "garden"},
                                                     {"se_va", "12.5"}})},
      {"unstruct", With(Common("ue", "000000000004"), {{"ue_px", Base64Url(link_click)}})},
      {"transaction", With(Common("tr", "000000000005"), {{"tr_id", "order-1"},
                                                          {"tr_af", "web-shop"},
                                                          {"tr_tt", "49.99"},
                                                          {"tr_tx", "8.33"},
                                                          {"tr_sh", "4.5"},
                                                          {"tr_ci", "London"},
                                                          {"tr_st", "England"},
                                                          {"tr_co", "GB"},
                                                          {"tr_cu", "GBP"}})},
      {"transaction_item", With(Common("ti", "000000000006"), {{"ti_id", "order-1"},
                                                               {"ti_sk", "RAKE-1"},
                                                               {"ti_nm", "Garden rake"},
                                                               {"ti_ca", "tools"},
                                                               {"ti_pr", "19.99"},
                                                               {"ti_qu", "2"},
                                                               {"ti_cu", "GBP"}})},
  };
}

tracker::CollectorPayload AsGet(const Params& params) {
  std::string qs;
  for (const auto& [k, v] : params) {
    if (!qs.empty()) qs += '&';
    qs += tracker::PercentEncode(k) + "=" + tracker::PercentEncode(v);
  }
  return GetPayload(qs);
}

tracker::CollectorPayload AsPost(const Params& params) {
  return PostPayload(PayloadDataBody({params}));
}

}  // namespace furrow::enrich::testing
