#include "enrich/atomic_limits.h"

#include <array>

#include "core/json_escape.h"

namespace furrow::enrich {

using namespace ::furrow::event;  // NOLINT: field indices

namespace {


std::array<size_t, event::kFieldCount> Limits() {
  std::array<size_t, event::kFieldCount> l{};
  auto set = [&](size_t f, size_t n) { l[f] = n; };
  set(kAppId, 255); set(kPlatform, 255); set(kUserId, 255);
  set(kEvent, 128); set(kNameTracker, 128); set(kEventId, 36);
  set(kVTracker, 100); set(kVCollector, 100); set(kVEtl, 100);
  set(kUserIpaddress, 128); set(kUserFingerprint, 128); set(kDomainUserid, 128);
  set(kNetworkUserid, 128);
  set(kGeoCountry, 2); set(kGeoRegion, 3); set(kGeoCity, 75); set(kGeoZipcode, 15);
  set(kGeoRegionName, 100); set(kIpIsp, 100); set(kIpOrganization, 128); set(kIpDomain, 128);
  set(kIpNetspeed, 100);
  set(kPageTitle, 2000);
  set(kPageUrlscheme, 16); set(kPageUrlhost, 255); set(kPageUrlpath, 3000);
  set(kPageUrlquery, 6000); set(kPageUrlfragment, 3000);
  set(kRefrUrlscheme, 16); set(kRefrUrlhost, 255); set(kRefrUrlpath, 6000);
  set(kRefrUrlquery, 6000); set(kRefrUrlfragment, 3000);
  set(kRefrMedium, 25); set(kRefrSource, 50); set(kRefrTerm, 255);
  set(kMktMedium, 255); set(kMktSource, 255); set(kMktTerm, 255); set(kMktContent, 500);
  set(kMktCampaign, 255); set(kMktClickid, 128); set(kMktNetwork, 64);
  set(kSeCategory, 1000); set(kSeAction, 1000); set(kSeLabel, 4096); set(kSeProperty, 1000);
  set(kTrOrderid, 255); set(kTrAffiliation, 255); set(kTrCity, 255); set(kTrState, 255);
  set(kTrCountry, 255); set(kTiOrderid, 255); set(kTiSku, 255); set(kTiName, 255);
  set(kTiCategory, 255);
  set(kUseragent, 1000);
  set(kBrName, 50); set(kBrFamily, 50); set(kBrVersion, 50); set(kBrType, 50);
  set(kBrRenderengine, 50); set(kBrLang, 255); set(kBrColordepth, 12);
  set(kOsName, 50); set(kOsFamily, 50); set(kOsManufacturer, 50); set(kOsTimezone, 255);
  set(kDvceType, 50); set(kDocCharset, 128);
  set(kTrCurrency, 3); set(kTiCurrency, 3); set(kBaseCurrency, 3);
  set(kGeoTimezone, 64); set(kEtlTags, 500);
  set(kRefrDomainUserid, 128); set(kDomainSessionid, 128);
  set(kEventVendor, 1000); set(kEventName, 1000); set(kEventFormat, 128);
  set(kEventVersion, 128); set(kEventFingerprint, 128);
  return l;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace

std::optional<std::string> CheckAtomicLimits(const EnrichedEvent& event,
                                             const AtomicLimitsOptions& options) {
  static const auto kLimits = Limits();
  std::string reports;
  auto check = [&](size_t field, size_t limit) {
    const std::string& v = event.fields[field];
    if (limit == 0 || v.size() <= limit) return;  // bytes >= code points
    size_t length = CodePoints(v);
    if (length <= limit) return;
    if (!reports.empty()) reports.push_back(',');
    std::string name(kFieldNames[field]);
    reports += "{\"message\":";
    AppendJsonString(&reports, "$." + name + ": expected at most " + std::to_string(limit) +
                                   " characters, got " + std::to_string(length) +
                                   " (keyword maxLength)");
    reports += ",\"path\":\"$." + name + "\",\"keyword\":\"maxLength\",\"targets\":[\"" +
               std::to_string(limit) + "\"]}";
  };
  for (size_t f = 0; f < event::kFieldCount; ++f) check(f, kLimits[f]);
  check(kPageUrl, options.max_url_length);
  check(kPageReferrer, options.max_url_length);
  if (reports.empty()) return std::nullopt;
  std::string out = "{\"schemaKey\":\"";
  out += kAtomicSchema;
  out += "\",\"error\":{\"error\":\"ValidationError\",\"dataReports\":[";
  out += reports;
  out += "]}}";
  return out;
}

}  // namespace furrow::enrich
