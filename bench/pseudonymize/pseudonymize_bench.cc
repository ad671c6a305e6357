// Pseudonymization throughput, with OpenSSL's per-call HMAC-SHA256 as the baseline,
// measured in the same run on one thread, per CPU second of that thread (so the rates
// are per core, and stay meaningful on a machine shared with other work).
//
//   pseudonymize_bench [--seconds S] [--events-only] [--cache-slots N]
//   (default 1 CPU second per measurement and the default cache size)
//
// Prints, for 16-, 32- and 64-byte values: pseudonyms/s of OpenSSL's one-shot HMAC()
// and of EVP_MAC (a fresh init with the key per value, as a caller of the EVP API
// does), of an EVP_MD_CTX_copy_ex variant of the pre-keyed trick, and of furrow's
// PseudonymHasher; then enriched events/s of the whole Pseudonymizer on a realistic
// mix of page views, page pings, structured, self-describing and transaction events
// with GitLab-style contexts, and bad rows/s on a mix of bad rows. Every rate
// includes the hex encoding of the result.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "event/enriched_event.h"
#include "pseudonymize/allowlist.h"
#include "pseudonymize/pseudonym.h"
#include "pseudonymize/pseudonymizer.h"

namespace {

using namespace furrow;
using namespace furrow::pseudonymize;

double g_seconds = 1.0;
volatile uint64_t g_sink = 0;

// CPU time of this thread: on a shared machine, wall time would count the time other
// processes hold the core; CPU time gives the rate per core.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `batch` (which handles `per_batch` items) for g_seconds of CPU time; items
// per CPU second.
double Rate(size_t per_batch, const std::function<void()>& batch) {
  batch();  // warm up
  const double start = ThreadCpuSeconds();
  uint64_t items = 0;
  double elapsed = 0;
  do {
    batch();
    items += per_batch;
    elapsed = ThreadCpuSeconds() - start;
  } while (elapsed < g_seconds);
  return static_cast<double>(items) / elapsed;
}

std::vector<std::string> Values(size_t n, size_t len, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> out(n, std::string(len, 'x'));
  for (auto& v : out) {
    for (char& c : v) c = static_cast<char>('a' + rng() % 26);
  }
  return out;
}

const char kKey[] = "bench-key-0123456789abcdef0123456789abcdef";

double OpenSslHmacRate(const std::vector<std::string>& values) {
  return Rate(values.size(), [&] {
    unsigned char mac[32];
    unsigned int len;
    char hex[64];
    for (const auto& v : values) {
      HMAC(EVP_sha256(), kKey, sizeof(kKey) - 1, reinterpret_cast<const unsigned char*>(v.data()),
           v.size(), mac, &len);
      HexEncode(mac, 32, hex);
      g_sink = g_sink + static_cast<unsigned char>(hex[0]);
    }
  });
}

double EvpMacRate(const std::vector<std::string>& values) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
                         OSSL_PARAM_construct_end()};
  double r = Rate(values.size(), [&] {
    unsigned char out[32];
    size_t len;
    char hex[64];
    for (const auto& v : values) {
      EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(kKey), sizeof(kKey) - 1, params);
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(v.data()), v.size());
      EVP_MAC_final(ctx, out, &len, sizeof(out));
      HexEncode(out, 32, hex);
      g_sink = g_sink + static_cast<unsigned char>(hex[0]);
    }
  });
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return r;
}

// The pre-keyed trick with EVP digests: copy keyed inner/outer EVP_MD_CTXs per value.
double EvpCopyRate(const std::vector<std::string>& values) {
  unsigned char block[64] = {};
  std::memcpy(block, kKey, sizeof(kKey) - 1);
  unsigned char ipad[64], opad[64];
  for (int i = 0; i < 64; ++i) {
    ipad[i] = block[i] ^ 0x36;
    opad[i] = block[i] ^ 0x5c;
  }
  EVP_MD_CTX* inner = EVP_MD_CTX_new();
  EVP_MD_CTX* outer = EVP_MD_CTX_new();
  EVP_MD_CTX* work = EVP_MD_CTX_new();
  EVP_DigestInit_ex(inner, EVP_sha256(), nullptr);
  EVP_DigestUpdate(inner, ipad, 64);
  EVP_DigestInit_ex(outer, EVP_sha256(), nullptr);
  EVP_DigestUpdate(outer, opad, 64);
  double r = Rate(values.size(), [&] {
    unsigned char digest[32];
    unsigned int len;
    char hex[64];
    for (const auto& v : values) {
      EVP_MD_CTX_copy_ex(work, inner);
      EVP_DigestUpdate(work, v.data(), v.size());
      EVP_DigestFinal_ex(work, digest, &len);
      EVP_MD_CTX_copy_ex(work, outer);
      EVP_DigestUpdate(work, digest, 32);
      EVP_DigestFinal_ex(work, digest, &len);
      HexEncode(digest, 32, hex);
      g_sink = g_sink + static_cast<unsigned char>(hex[0]);
    }
  });
  EVP_MD_CTX_free(inner);
  EVP_MD_CTX_free(outer);
  EVP_MD_CTX_free(work);
  return r;
}

double FurrowRate(const PseudonymHasher& hasher, const std::vector<std::string>& values) {
  std::string out;
  return Rate(values.size(), [&] {
    for (const auto& v : values) {
      out.clear();
      hasher.AppendHex(v, &out);
      g_sink = g_sink + static_cast<unsigned char>(out[0]);
    }
  });
}

std::string Uuid(std::mt19937& rng) {
  static const char kHex[] = "0123456789abcdef";
  std::string s(36, '-');
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) continue;
    s[i] = kHex[rng() % 16];
  }
  return s;
}

// Who sends events. Real traffic repeats values: a visitor's ids, IP address and
// user agent recur in every event of their visit (page pings every few seconds), and
// popular pages recur across visitors.
struct Visitor {
  std::string user, duid, nuid, sid, ip, ua, namespace_id;
};

const char* const kUserAgents[] = {
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3 Safari/605.1.15",
};

Visitor MakeVisitor(std::mt19937& rng) {
  Visitor v;
  v.user = "user-" + std::to_string(rng() % 1000000);
  v.duid = Uuid(rng);
  v.nuid = Uuid(rng);
  v.sid = Uuid(rng);
  v.ip = "203.0." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
  v.ua = kUserAgents[rng() % 4];
  v.namespace_id = std::to_string(rng() % 90000);
  return v;
}

// A realistic enriched event: a web event from GitLab's JavaScript tracker after
// enrichment (user agent, geo, referer), with the standard context, a web_page
// context and the derived ua_parser context. `page` picks one of the popular pages.
std::string MakeEvent(std::mt19937& rng, int kind, const Visitor& visitor, uint32_t page) {
  using namespace furrow::event;
  EnrichedEvent e;
  static const char* kEvents[] = {"page_view", "page_ping", "struct", "unstruct", "transaction", "transaction_item"};
  const std::string& user = visitor.user;
  e[kAppId] = "gitlab";
  e[kPlatform] = "web";
  e[kEtlTstamp] = "2026-03-17 09:53:48.123";
  e[kCollectorTstamp] = "2026-03-17 09:53:47.528";
  e[kDvceCreatedTstamp] = "2026-03-17 09:53:47.525";
  e[kEvent] = kEvents[kind];
  e[kEventId] = Uuid(rng);
  e[kNameTracker] = "gl";
  e[kVTracker] = "js-3.24.2";
  e[kVCollector] = "furrow-0.1.0-file";
  e[kVEtl] = "furrow-0.1.0";
  e[kUserId] = user;
  e[kUserIpaddress] = visitor.ip;
  e[kDomainUserid] = visitor.duid;
  e[kDomainSessionidx] = std::to_string(rng() % 900);
  e[kNetworkUserid] = visitor.nuid;
  e[kGeoCountry] = "IN";
  e[kGeoRegion] = "MH";
  e[kGeoCity] = "Mumbai";
  e[kGeoLatitude] = "19.0748";
  e[kGeoLongitude] = "72.8856";
  e[kGeoTimezone] = "Asia/Kolkata";
  e[kPageUrl] = "https://gitlab.com/gitlab-org/gitlab/-/issues/" + std::to_string(page);
  e[kPageTitle] = "Issue " + std::to_string(page) + " - gitlab-org/gitlab - GitLab";
  e[kPageReferrer] = "https://gitlab.com/dashboard/issues";
  e[kPageUrlscheme] = "https";
  e[kPageUrlhost] = "gitlab.com";
  e[kPageUrlport] = "443";
  e[kPageUrlpath] = "/gitlab-org/gitlab/-/issues/" + std::to_string(page);
  e[kRefrUrlscheme] = "https";
  e[kRefrUrlhost] = "gitlab.com";
  e[kRefrUrlport] = "443";
  e[kRefrUrlpath] = "/dashboard/issues";
  e[kRefrMedium] = "internal";
  e[kUseragent] = visitor.ua;
  e[kBrName] = "Chrome 134";
  e[kBrFamily] = "Chrome";
  e[kBrVersion] = "134.0.0.0";
  e[kBrType] = "Browser";
  e[kBrRenderengine] = "WEBKIT";
  e[kBrLang] = "en-GB";
  e[kBrCookies] = "1";
  e[kBrColordepth] = "30";
  e[kBrViewwidth] = "1920";
  e[kBrViewheight] = "331";
  e[kOsName] = "Mac OS X";
  e[kOsFamily] = "Mac OS X";
  e[kOsManufacturer] = "Apple Inc.";
  e[kOsTimezone] = "Asia/Calcutta";
  e[kDvceType] = "Computer";
  e[kDvceIsmobile] = "0";
  e[kDvceScreenwidth] = "1728";
  e[kDvceScreenheight] = "1117";
  e[kDocCharset] = "UTF-8";
  e[kDocWidth] = "1920";
  e[kDocHeight] = "388";
  e[kDvceSentTstamp] = "2026-03-17 09:53:47.528";
  e[kDomainSessionid] = visitor.sid;
  e[kDerivedTstamp] = "2026-03-17 09:53:47.525";
  e[kEventVendor] = "com.snowplowanalytics.snowplow";
  e[kEventName] = kEvents[kind];
  e[kEventFormat] = "jsonschema";
  e[kEventVersion] = "1-0-0";
  e[kEventFingerprint] = "e3b0c44298fc1c149afbf4c8996fb924";
  if (kind == 1) {
    e[kPpXoffsetMin] = "0";
    e[kPpXoffsetMax] = "0";
    e[kPpYoffsetMin] = "120";
    e[kPpYoffsetMax] = "840";
  } else if (kind == 2) {
    e[kSeCategory] = "projects:issues:show";
    e[kSeAction] = "click_button";
    e[kSeLabel] = "assignee_dropdown";
    e[kSeProperty] = "sidebar";
    e[kSeValue] = "1";
  } else if (kind == 3) {
    e[kUnstructEvent] =
        R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://gitlab.com/help","elementId":"help-link","elementClasses":["gl-link"]}}})";
  } else if (kind == 4) {
    e[kTrOrderid] = "order-" + std::to_string(rng() % 100000);
    e[kTrAffiliation] = "web";
    e[kTrTotal] = "29.00";
    e[kTrCurrency] = "USD";
  } else if (kind == 5) {
    e[kTiOrderid] = "order-" + std::to_string(rng() % 100000);
    e[kTiSku] = "premium-seat";
    e[kTiName] = "Premium";
    e[kTiPrice] = "29.00";
    e[kTiQuantity] = "1";
  }
  e[kContexts] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
      R"({"schema":"iglu:com.gitlab/gitlab_standard/jsonschema/1-1-8","data":{"environment":"production","source":"gitlab-javascript",)"
      R"("plan":"premium","extra":{},"user_id":")" + user + R"(","namespace_id":)" + visitor.namespace_id +
      R"(,"project_id":278964,"ultimate_parent_namespace_id":9970,"realm":"saas","instance_id":"ea8bf810-1d6f-4a6a-b4fd-93e8cbd8b57f",)"
      R"("host_name":"gitlab-webservice-default-6f7c5b8d9-x2x7p","instance_version":"17.10.0","context_generated_at":"2026-03-17T09:53:47.522Z",)"
      R"("google_analytics_id":"GA1.2.123456789.1742205227","is_gitlab_team_member":false,"correlation_id":"01JPHN3KSD5A7B3G3ZQ0V5G0R4"}},)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":")" + visitor.sid.substr(0, 24) + std::to_string(page) + R"("}}]})";
  e[kDerivedContexts] =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0","data":{"useragentFamily":"Chrome",)"
      R"("useragentMajor":"134","useragentMinor":"0","useragentPatch":"0","useragentVersion":"Chrome 134.0.0",)"
      R"("osFamily":"Mac OS X","osMajor":"10","osMinor":"15","osPatch":"7","osPatchMinor":null,"osVersion":"Mac OS X 10.15.7","deviceFamily":"Mac"}}]})";
  return e.ToTsv();
}

std::vector<std::string> BadRows() {
  std::vector<std::string> rows;
  rows.push_back(
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1","data":{"processor":{"artifact":"furrow","version":"0.1.0"},"failure":{"timestamp":"2026-03-17T09:53:47.528Z","vendor":"com.snowplowanalytics.snowplow","version":"tp2","messages":[{"field":"e","value":"xx","expectation":"e must be one of pv pp se ue tr ti ad"}]},"payload":{"vendor":"com.snowplowanalytics.snowplow","version":"tp2","querystring":[],"contentType":"application/json","body":"{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[{\"e\":\"xx\",\"url\":\"https://gitlab.com/\",\"page\":\"GitLab\",\"eid\":\"564f9834-3f98-4d78-a738-b7977d621371\",\"tv\":\"js-3.24.2\",\"tna\":\"gl\",\"aid\":\"gitlab\",\"p\":\"web\",\"uid\":\"user-1\",\"res\":\"1728x1117\",\"duid\":\"9e5500ac-3437-4457-a007-351911d54983\"}]}","collector":"furrow-0.1.0-file","encoding":"UTF-8","hostname":"collector.example","timestamp":"2026-03-17T09:53:47.528Z","ipAddress":"203.0.113.9","useragent":"Mozilla/5.0","refererUri":"https://gitlab.com/","headers":["Host: collector.example","User-Agent: Mozilla/5.0","Cookie: sp=abc","Content-Type: application/json"],"networkUserId":"5d2a7f5e-0f2b-4b0c-8e9a-0c3f3c3d3e3f"}}})");
  rows.push_back(
      R"({"schema":"iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0","data":{"processor":{"artifact":"furrow","version":"0.1.0"},"failure":{"timestamp":"2026-03-17T09:53:47.528Z","maximumAllowedSizeBytes":1000000,"actualSizeBytes":2000000,"expectation":"a payload of at most 1000000 bytes"},"payload":"POST /com.snowplowanalytics.snowplow/tp2 {\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[{\"e\":\"pv\"}]}"}})");
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  bool events_only = false;
  PseudonymizerOptions options;  // defaults, unless --cache-slots N
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) g_seconds = std::atof(argv[++i]);
    if (std::strcmp(argv[i], "--events-only") == 0) events_only = true;
    if (std::strcmp(argv[i], "--cache-slots") == 0 && i + 1 < argc) {
      options.cache_slots = static_cast<size_t>(std::atol(argv[++i]));
    }
  }
  auto hasher = PseudonymHasher::Create(kKey);
  auto allowlist = Allowlist::Default();
  if (!hasher.ok() || !allowlist.ok()) {
    std::fprintf(stderr, "setup failed\n");
    return 1;
  }
  std::printf("pseudonyms/s on one core (each includes hex encoding)\n");
  std::printf("%-6s %14s %14s %14s %14s %8s\n", "bytes", "HMAC()", "EVP_MAC", "EVP copy", "furrow",
              "ratio");
  for (size_t len : {16u, 32u, 64u}) {
    if (events_only) break;
    auto values = Values(4096, len, static_cast<uint32_t>(len));
    double base = OpenSslHmacRate(values);
    double evp = EvpMacRate(values);
    double copy = EvpCopyRate(values);
    double furrow = FurrowRate(*hasher, values);
    std::printf("%-6zu %14.0f %14.0f %14.0f %14.0f %7.2fx\n", len, base, evp, copy, furrow, furrow / base);
  }
  std::printf("ratio = furrow / HMAC() (OpenSSL's per-call one-shot HMAC, the baseline)\n\n");

  MetricsRegistry metrics;
  ManualClock clock;
  // Two mixes of 4096 events, mostly page views and pings as on a real product:
  //   realistic: 400 visitors (about 10 events each), 300 popular pages;
  //   distinct:  a new visitor and a new page for every event (the cache's worst case).
  for (bool distinct : {false, true}) {
    Pseudonymizer p(*hasher, *allowlist, &metrics, &clock, options);
    std::mt19937 rng(7);
    std::vector<Visitor> visitors;
    for (int i = 0; i < 400; ++i) visitors.push_back(MakeVisitor(rng));
    std::vector<std::string> events;
    size_t bytes = 0;
    for (int i = 0; i < 4096; ++i) {
      static const int kMix[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5};
      Visitor fresh = MakeVisitor(rng);
      const Visitor& v = distinct ? fresh : visitors[rng() % visitors.size()];
      uint32_t page = distinct ? static_cast<uint32_t>(rng() % 4000000) : 100000 + static_cast<uint32_t>(rng() % 300);
      events.push_back(MakeEvent(rng, kMix[i % 12], v, page));
      bytes += events.back().size();
    }
    std::string out;
    Counter& values = metrics.GetCounter("furrow_pseudonymize_values_total", "");
    size_t before = values.Value();
    for (const auto& e : events) (void)p.ProcessLine(e, &out);
    double per_event = static_cast<double>(values.Value() - before) / static_cast<double>(events.size());
    double event_rate = Rate(events.size(), [&] {
      for (const auto& e : events) {
        if (p.ProcessLine(e, &out) != LineKind::kEnrichedEvent) std::abort();
      }
    });
    std::printf("enriched events/s on one core, %-9s mix: %8.0f  (%.0f MB/s in, %.1f pseudonyms "
                "per event, mean event %zu bytes; target >= 250000)\n",
                distinct ? "distinct" : "realistic", event_rate,
                event_rate * static_cast<double>(bytes) / static_cast<double>(events.size()) / 1e6,
                per_event, bytes / events.size());
  }

  Pseudonymizer p(*hasher, *allowlist, &metrics, &clock, {});
  std::string out;
  auto rows = BadRows();
  double bad_rate = Rate(rows.size(), [&] {
    for (const auto& r : rows) {
      if (p.ProcessLine(r, &out) != LineKind::kBadRow) std::abort();
    }
  });
  std::printf("bad rows/s on one core: %.0f\n", bad_rate);
  return g_sink == 42 ? 1 : 0;
}
