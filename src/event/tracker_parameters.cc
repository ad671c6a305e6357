#include "event/tracker_parameters.h"

#include <array>
#include <unordered_map>

namespace furrow::event {
namespace {

using K = ParameterKind;

constexpr ParameterMapping One(std::string_view p, K kind, size_t field) {
  return ParameterMapping{p, kind, field, field};
}

constexpr std::array kParameters = {
    One("e", K::kString, kEvent),
    One("p", K::kString, kPlatform),
    One("aid", K::kString, kAppId),
    One("tid", K::kString, kTxnId),
    One("uid", K::kString, kUserId),
    One("duid", K::kString, kDomainUserid),
    One("nuid", K::kString, kNetworkUserid),
    One("tnuid", K::kString, kNetworkUserid),
    One("ua", K::kString, kUseragent),
    One("fp", K::kString, kUserFingerprint),
    One("vid", K::kInteger, kDomainSessionidx),
    One("sid", K::kString, kDomainSessionid),
    One("eid", K::kString, kEventId),
    One("ip", K::kString, kUserIpaddress),
    One("tna", K::kString, kNameTracker),
    One("tv", K::kString, kVTracker),
    One("cv", K::kString, kVCollector),
    One("lang", K::kString, kBrLang),
    One("cs", K::kString, kDocCharset),
    One("cd", K::kString, kBrColordepth),
    One("tz", K::kString, kOsTimezone),
    One("url", K::kString, kPageUrl),
    One("page", K::kString, kPageTitle),
    One("refr", K::kString, kPageReferrer),
    One("dtm", K::kTimestampMs, kDvceCreatedTstamp),
    One("stm", K::kTimestampMs, kDvceSentTstamp),
    One("ttm", K::kTimestampMs, kTrueTstamp),
    ParameterMapping{"res", K::kSize, kDvceScreenwidth, kDvceScreenheight},
    ParameterMapping{"vp", K::kSize, kBrViewwidth, kBrViewheight},
    ParameterMapping{"ds", K::kSize, kDocWidth, kDocHeight},
    One("f_pdf", K::kBoolean, kBrFeaturesPdf),
    One("f_fla", K::kBoolean, kBrFeaturesFlash),
    One("f_java", K::kBoolean, kBrFeaturesJava),
    One("f_dir", K::kBoolean, kBrFeaturesDirector),
    One("f_qt", K::kBoolean, kBrFeaturesQuicktime),
    One("f_realp", K::kBoolean, kBrFeaturesRealplayer),
    One("f_wma", K::kBoolean, kBrFeaturesWindowsmedia),
    One("f_gears", K::kBoolean, kBrFeaturesGears),
    One("f_ag", K::kBoolean, kBrFeaturesSilverlight),
    One("cookie", K::kBoolean, kBrCookies),
    One("se_ca", K::kString, kSeCategory),
    One("se_ac", K::kString, kSeAction),
    One("se_la", K::kString, kSeLabel),
    One("se_pr", K::kString, kSeProperty),
    One("se_va", K::kDecimal, kSeValue),
    One("ev_ca", K::kString, kSeCategory),
    One("ev_ac", K::kString, kSeAction),
    One("ev_la", K::kString, kSeLabel),
    One("ev_pr", K::kString, kSeProperty),
    One("ev_va", K::kDecimal, kSeValue),
    One("tr_id", K::kString, kTrOrderid),
    One("tr_af", K::kString, kTrAffiliation),
    One("tr_tt", K::kDecimal, kTrTotal),
    One("tr_tx", K::kDecimal, kTrTax),
    One("tr_sh", K::kDecimal, kTrShipping),
    One("tr_ci", K::kString, kTrCity),
    One("tr_st", K::kString, kTrState),
    One("tr_co", K::kString, kTrCountry),
    One("tr_cu", K::kString, kTrCurrency),
    One("ti_id", K::kString, kTiOrderid),
    One("ti_sk", K::kString, kTiSku),
    One("ti_nm", K::kString, kTiName),
    One("ti_ca", K::kString, kTiCategory),
    One("ti_pr", K::kDecimal, kTiPrice),
    One("ti_qu", K::kInteger, kTiQuantity),
    One("ti_cu", K::kString, kTiCurrency),
    One("pp_mix", K::kInteger, kPpXoffsetMin),
    One("pp_max", K::kInteger, kPpXoffsetMax),
    One("pp_miy", K::kInteger, kPpYoffsetMin),
    One("pp_may", K::kInteger, kPpYoffsetMax),
    One("ue_pr", K::kJson, kUnstructEvent),
    One("ue_px", K::kJsonBase64Url, kUnstructEvent),
    One("co", K::kJson, kContexts),
    One("cx", K::kJsonBase64Url, kContexts),
};

}  // namespace

const ParameterMapping* FindParameter(std::string_view name) {
  static const auto* const kByName = [] {
    auto* m = new std::unordered_map<std::string_view, const ParameterMapping*>();
    for (const auto& p : kParameters) m->emplace(p.parameter, &p);
    return m;
  }();
  auto it = kByName->find(name);
  return it == kByName->end() ? nullptr : it->second;
}

std::span<const ParameterMapping> AllParameters() { return kParameters; }

}  // namespace furrow::event
