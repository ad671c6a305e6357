// Enrich throughput on one thread, per CPU second of that thread (so the rate is
// per core and stays meaningful on a shared machine), with a baseline measured in
// the same run.
//
//   enrich_bench [--seconds S] [--events N]    (run from the repository root)
//
// Workload: raw-good records (Thrift CollectorPayloads) of a realistic mix —
// page views with the web_page context (GET), structured events (GET), and
// POSTs of self-describing events with two contexts — over 50 user agents and
// 200 IP addresses, with Iglu validation (Iglu Central copy in ../shared/data)
// and the ua_parser (uap-core, RE2), campaign_attribution, referer_parser,
// event_fingerprint and ip_lookups (MaxMind test City and ISP databases)
// enrichments on.
//
// Baseline: the work no enricher can skip on the same records — Thrift decode,
// query-string / JSON body parse, and a RapidJSON parse of every self-describing
// parameter — so the ratio says how much the enrichment itself costs on top.
//
// Prints events/s per core for the baseline and for furrow's Enricher, their
// ratio, the 100,000 events/s per core target, and the cost of each step in ns
// per event (measured in a separate pass with per-step timing on).
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "core/clock.h"
#include "enrich/codec.h"
#include "enrich/enricher.h"
#include "enrich/enrichment_registry.h"
#include "enrich/iglu_validator.h"
#include "iglu/resolver.h"
#include "tracker/collector_payload.h"
#include "tracker/query_string.h"

namespace {

using namespace furrow;
namespace fs = std::filesystem;

double g_seconds = 2.0;
size_t g_events = 3000;
volatile uint64_t g_sink = 0;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string Base64Url(const std::string& s) {
  std::string b = enrich::Base64Encode(s);
  for (char& c : b) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b.empty() && b.back() == '=') b.pop_back();
  return b;
}

std::string Encode(const std::string& s) { return tracker::PercentEncode(s); }

const char* kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
};

std::vector<std::string> MakeRecords(size_t n) {
  std::mt19937 rng(42);
  std::vector<std::string> user_agents;
  for (int i = 0; i < 50; ++i) {
    std::string ua = kUserAgents[i % std::size(kUserAgents)];
    // Distinct build numbers so the cache sees 50 different strings.
    ua += " Build/" + std::to_string(1000 + i);
    user_agents.push_back(ua);
  }
  std::vector<std::string> ips;
  for (int i = 0; i < 200; ++i) {
    ips.push_back(i % 4 == 0 ? "81.2.69." + std::to_string(140 + i % 20)
                             : "1." + std::to_string(128 + i % 8) + "." + std::to_string(i) + ".7");
  }
  const std::string web_page_cx = Base64Url(
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b6d3f3e-1111-4222-8333-444455556666"}}]})");
  const std::string two_contexts =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0b6d3f3e-1111-4222-8333-444455556666"}},)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0","data":{"latitude":51.5,"longitude":-0.12}}]})";
  const std::string link_click =
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":)"
      R"({"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://example.org/a","elementId":"cta"}}})";
  const char* referrers[] = {"https://www.google.com/search?q=garden+tools", "https://www.bing.com/search?q=rake",
                             "https://m.facebook.com/", "https://blog.example.net/post/1", ""};
  std::vector<std::string> records;
  for (size_t i = 0; i < n; ++i) {
    tracker::CollectorPayload p;
    p.ip_address = "10.0.0.1";
    p.timestamp_ms = 1700000000000 + static_cast<int64_t>(i);
    p.collector = "furrow-0.1.0-file";
    p.user_agent = user_agents[rng() % user_agents.size()];
    p.hostname = "collector.example.com";
    p.network_user_id = "c5f4b6a2-2c5f-4b0a-9d3e-7a1b2c3d4e5f";
    p.headers = std::vector<std::string>{"X-Forwarded-For: " + ips[rng() % ips.size()], "Host: collector.example.com"};
    std::string eid = "6a1b2c3d-0000-4000-8000-" + std::string(12 - std::to_string(i).size(), '0') + std::to_string(i);
    std::string common = "aid=shop&p=web&tv=js-3.17.0&tna=sp1&dtm=1699999990000&stm=1699999995000"
                         "&duid=d-user-" + std::to_string(rng() % 1000) + "&vid=3&sid=9a1b2c3d-0000-4000-8000-000000000002"
                         "&lang=en-GB&cs=UTF-8&cd=24&tz=Europe%2FLondon&res=1920x1080&vp=1280x720&ds=1280x3000&cookie=1"
                         "&url=" + Encode("https://shop.example.com/products/" + std::to_string(i % 97) +
                                          "?utm_source=newsletter&utm_medium=email&utm_campaign=spring" +
                                          (i % 3 == 0 ? "&gclid=abc" : "")) +
                         "&refr=" + Encode(referrers[i % std::size(referrers)]) + "&page=Products";
    switch (i % 3) {
      case 0:
        p.path = "/i";
        p.querystring = "e=pv&eid=" + eid + "&" + common + "&cx=" + web_page_cx;
        break;
      case 1:
        p.path = "/i";
        p.querystring = "e=se&eid=" + eid + "&" + common + "&se_ca=shop&se_ac=add-to-basket&se_la=rake&se_va=12.5";
        break;
      default: {
        p.path = "/com.snowplowanalytics.snowplow/tp2";
        p.content_type = "application/json; charset=UTF-8";
        std::string body = R"({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{)";
        bool first = true;
        for (const auto& [k, v] : tracker::ParseQueryString("e=ue&eid=" + eid + "&" + common)) {
          if (!first) body += ',';
          first = false;
          body += "\"" + k + "\":\"" + v + "\"";
        }
        rapidjson::Document d;
        std::string co_escaped, ue_escaped;
        for (char c : two_contexts) { if (c == '"') co_escaped += '\\'; co_escaped += c; }
        for (char c : link_click) { if (c == '"') ue_escaped += '\\'; ue_escaped += c; }
        body += ",\"co\":\"" + co_escaped + "\",\"ue_pr\":\"" + ue_escaped + "\"}]}";
        p.body = body;
        break;
      }
    }
    records.push_back(tracker::EncodeCollectorPayload(p));
  }
  return records;
}

void WriteConfigs(const fs::path& dir) {
  const std::string maxmind = fs::absolute("../shared/data/maxmind/test-data").lexically_normal().string();
  auto write = [&](const char* name, const std::string& text) { std::ofstream(dir / name) << text; };
  write("campaign.json", R"({"schema":"iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1",
    "data":{"name":"campaign_attribution","enabled":true,"parameters":{"fields":{"mktMedium":["utm_medium"],
    "mktSource":["utm_source"],"mktTerm":["utm_term"],"mktContent":["utm_content"],"mktCampaign":["utm_campaign"]}}}})");
  write("referer.json", R"({"schema":"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1",
    "data":{"name":"referer_parser","enabled":true,"parameters":{"internalDomains":[],"database":"referers.yml",
    "uri":"file:///usr/share/rubygems-integration/all/gems/referer-parser-0.3.0/data"}}})");
  write("ua.json", R"({"schema":"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1",
    "data":{"name":"ua_parser_config","enabled":true,"parameters":{"database":"regexes.yaml","uri":"file:///usr/share/uap-core"}}})");
  write("fingerprint.json", R"({"schema":"iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1",
    "data":{"name":"event_fingerprint_config","enabled":true,"parameters":{"hashAlgorithm":"MD5","excludeParameters":["cv","eid","nuid","stm"]}}})");
  write("ip.json", R"({"schema":"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
    "data":{"name":"ip_lookups","enabled":true,"parameters":{
    "geo":{"database":"GeoIP2-City-Test.mmdb","uri":")" + maxmind + R"("},
    "isp":{"database":"GeoIP2-ISP-Test.mmdb","uri":")" + maxmind + R"("}}}})");
}

// The unavoidable part: decode, parse parameters, parse every JSON parameter.
uint64_t Baseline(const std::string& record) {
  auto p = tracker::DecodeCollectorPayload(record);
  if (!p.ok()) return 0;
  uint64_t n = 0;
  auto parse_params = [&](const std::vector<std::pair<std::string, std::string>>& params) {
    for (const auto& [k, v] : params) {
      n += v.size();
      if (k == "cx" || k == "ue_px") {
        auto decoded = enrich::Base64Decode(v);
        if (decoded) {
          rapidjson::Document d;
          d.Parse(decoded->c_str(), decoded->size());
          n += d.IsObject();
        }
      } else if (k == "co" || k == "ue_pr") {
        rapidjson::Document d;
        d.Parse(v.c_str(), v.size());
        n += d.IsObject();
      }
    }
  };
  if (p->body) {
    rapidjson::Document d;
    d.Parse(p->body->c_str(), p->body->size());
    if (d.IsObject() && d.HasMember("data") && d["data"].IsArray()) {
      for (const auto& e : d["data"].GetArray()) {
        std::vector<std::pair<std::string, std::string>> params;
        for (const auto& m : e.GetObject()) {
          if (m.value.IsString()) params.emplace_back(m.name.GetString(), m.value.GetString());
        }
        parse_params(params);
      }
    }
  } else if (p->querystring) {
    parse_params(tracker::ParseQueryString(*p->querystring));
  }
  return n;
}

// Monotonic() reads this thread's CPU time, so per-step costs exclude the time
// other processes hold the core.
class ThreadCpuClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime Monotonic() const override {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return MonoTime(std::chrono::nanoseconds(static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec));
  }
};

template <typename F>
double EventsPerCpuSecond(const std::vector<std::string>& records, F&& process) {
  for (size_t i = 0; i < records.size(); ++i) process(records[i]);  // warm caches
  size_t events = 0;
  double start = ThreadCpuSeconds();
  double elapsed = 0;
  do {
    for (const std::string& r : records) events += process(r);
    elapsed = ThreadCpuSeconds() - start;
  } while (elapsed < g_seconds);
  return static_cast<double>(events) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) g_seconds = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--events") == 0 && i + 1 < argc) g_events = static_cast<size_t>(std::atol(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--events N]\n", argv[0]);
      return 2;
    }
  }
  fs::path dir = fs::temp_directory_path() / ("furrow-enrich-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  WriteConfigs(dir);

  std::string config = R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
    "data":{"cacheSize":1000,"repositories":[{"name":"Iglu Central copy","priority":0,
    "vendorPrefixes":[],"connection":{"embedded":{"path":"../shared/data/iglu-central"}}}]}})";
  auto parsed = iglu::ResolverConfig::Parse(config, fs::current_path());
  auto resolver = parsed.ok() ? iglu::Resolver::Create(std::move(*parsed))
                              : Result<std::unique_ptr<iglu::Resolver>>(parsed.status());
  if (!resolver.ok()) {
    std::fprintf(stderr, "enrich_bench: %s (run from the repository root)\n", resolver.status().ToString().c_str());
    return 1;
  }
  ManualClock clock;
  ThreadCpuClock cpu_clock;
  enrich::IgluEntityValidator validator(resolver->get(), &clock);
  enrich::CountingUuidSource uuids;

  auto make = [&](bool timed) {
    auto loaded = enrich::LoadEnrichments(dir);
    if (!loaded.ok()) {
      std::fprintf(stderr, "enrich_bench: %s\n", loaded.status().ToString().c_str());
      std::exit(1);
    }
    enrich::EnricherOptions o;
    o.validator = &validator;
    o.uuids = &uuids;
    o.clock = timed ? static_cast<const Clock*>(&cpu_clock) : &clock;
    o.enrichments = std::move(*loaded);
    o.measure_enrichments = timed;
    return std::make_unique<enrich::Enricher>(std::move(o));
  };
  auto enricher = make(false);
  std::vector<std::string> records = MakeRecords(g_events);

  size_t good = 0, bad = 0;
  enrich::EnrichOutput check;
  for (const auto& r : records) {
    check.Clear();
    enricher->ProcessRecord(r, &check);
    good += check.good.size();
    bad += check.bad.size();
  }
  std::printf("workload: %zu records, %zu good events, %zu bad rows (must be 0)\n", records.size(), good, bad);
  if (bad != 0) {
    enricher->ProcessRecord(records[0], &check);
    std::fprintf(stderr, "%s\n", check.bad.empty() ? "" : check.bad[0].json.c_str());
  }

  double baseline = EventsPerCpuSecond(records, [](const std::string& r) {
    g_sink = g_sink + Baseline(r);
    return size_t{1};
  });
  enrich::EnrichOutput out;
  double furrow = EventsPerCpuSecond(records, [&](const std::string& r) {
    out.Clear();
    enricher->ProcessRecord(r, &out);
    g_sink = g_sink + out.good.size();
    return out.good.size() + out.bad.size();
  });
  std::printf("baseline (decode + parse params + parse JSON): %12.0f events/s per core\n", baseline);
  std::printf("furrow enrich (validation + 5 enrichments):    %12.0f events/s per core\n", furrow);
  std::printf("ratio furrow/baseline: %.3f   target: 100000 events/s per core (%s)\n", furrow / baseline,
              furrow >= 100000 ? "met" : "NOT met");

  auto timed = make(true);
  enrich::EnrichOutput steps;
  size_t events = 0;
  double start = ThreadCpuSeconds();
  while (ThreadCpuSeconds() - start < g_seconds / 2) {
    for (const auto& r : records) {
      steps.Clear();
      timed->ProcessRecord(r, &steps);
      events += steps.good.size() + steps.bad.size();
    }
  }
  // What one timed step costs with nothing in it (two clock reads), subtracted
  // from every step below.
  double overhead = 0;
  {
    const int kReads = 100000;
    MonoTime t0 = cpu_clock.Monotonic();
    for (int i = 0; i < kReads; ++i) g_sink = g_sink + static_cast<uint64_t>(cpu_clock.Monotonic().time_since_epoch().count());
    overhead = static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(cpu_clock.Monotonic() - t0).count()) / kReads;
  }
  std::printf("cost per step (ns of thread CPU time per event; timer overhead %.0f ns per step subtracted):\n", overhead);
  for (size_t i = 0; i < timed->StepNames().size(); ++i) {
    // The adapter step runs once per record; the others once per event (1 per record here).
    double ns = static_cast<double>(steps.step_ns[i]) / static_cast<double>(events) - overhead;
    std::printf("  %-32s %8.0f\n", timed->StepNames()[i].c_str(), ns < 0 ? 0 : ns);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
