// Iglu validation throughput, with RapidJSON's parse of the same document as the
// baseline, measured in the same run on one thread per CPU second of that thread (so
// the rates are per core and stay meaningful on a machine shared with other work).
//
//   iglu_bench [--seconds S]      (default 1 CPU second per measurement)
//
// Run from the repository root: the schemas come from ../shared/data/iglu-central
// (an embedded repository) and from furrow's built-in schemas.
//
// Prints documents/s for: parsing a typical contexts array (the baseline enrich pays
// anyway); validating it against the contexts wrapper and each entity against its
// schema (web_page, client_session with uuid/date-time formats, a link_click event);
// cached resolver lookups of the same keys, on one thread and on two; and the ratio of
// each to the parse rate.
#include <rapidjson/document.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "iglu/resolver.h"

namespace {

using namespace furrow;
using namespace furrow::iglu;

double g_seconds = 1.0;
volatile uint64_t g_sink = 0;

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `batch` (which handles `per_batch` items) kRepeat times between readings of
// the thread's CPU clock (a system call) for g_seconds; items per CPU second.
constexpr int kRepeat = 200;

double Rate(size_t per_batch, const std::function<void()>& batch) {
  batch();  // warm up (and fill caches)
  const double start = ThreadCpuSeconds();
  uint64_t items = 0;
  double elapsed = 0;
  do {
    for (int i = 0; i < kRepeat; ++i) batch();
    items += per_batch * kRepeat;
    elapsed = ThreadCpuSeconds() - start;
  } while (elapsed < g_seconds);
  return static_cast<double>(items) / elapsed;
}

const char kContexts[] = R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[
  {"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
   "data":{"id":"5e9a3a54-3f1c-4bd0-9b0b-8f6b3a3d8a11"}},
  {"schema":"iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
   "data":{"userId":"0b0c9a1e-7f54-4c2a-a7a5-1e4b3c2d1f00","sessionId":"7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
           "sessionIndex":12,"storageMechanism":"COOKIE_1","previousSessionId":"1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
           "firstEventId":"2e3d4c5b-6f7a-4b8c-9d0e-1f2a3b4c5d6e","firstEventTimestamp":"2024-05-01T10:00:00.000Z",
           "eventIndex":3}},
  {"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
   "data":{"targetUrl":"https://example.com/pricing?plan=team","elementId":"cta","elementClasses":["btn","btn-primary"]}}
]})";

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) g_seconds = std::atof(argv[++i]);
  }
  ResolverConfig config;
  config.cache_size = 500;
  RepositoryConfig repo;
  repo.name = "iglu-central-copy";
  repo.kind = RepositoryConfig::Kind::kEmbedded;
  repo.path = "../shared/data/iglu-central";
  config.repositories.push_back(repo);
  Result<std::unique_ptr<Resolver>> resolver = Resolver::Create(config);
  if (!resolver.ok()) {
    std::fprintf(stderr, "iglu_bench: %s\n", resolver.status().ToString().c_str());
    return 1;
  }
  rapidjson::Document doc;
  doc.Parse(kContexts);
  Result<SelfDescribing> wrapper = ParseSelfDescribing(doc);
  if (doc.HasParseError() || !wrapper.ok()) return 1;

  auto validate_all = [&] {
    Result<std::vector<ValidationError>> errors = (*resolver)->ValidateSelfDescribing(doc);
    size_t n = errors.ok() ? errors->size() : 1;
    for (const rapidjson::Value& entity : wrapper->data->GetArray()) {
      Result<std::vector<ValidationError>> e = (*resolver)->ValidateSelfDescribing(entity);
      n += e.ok() ? e->size() : 1;
    }
    if (n != 0) {
      std::fprintf(stderr, "iglu_bench: the sample does not validate\n");
      std::exit(1);
    }
    g_sink = g_sink + n;
  };

  const double parse = Rate(1, [&] {
    rapidjson::Document d;
    d.Parse(kContexts);
    g_sink = g_sink + d.MemberCount();
  });
  const double validate = Rate(1, validate_all);
  std::vector<SchemaKey> keys;
  keys.push_back(wrapper->key);
  for (const rapidjson::Value& entity : wrapper->data->GetArray()) {
    keys.push_back(ParseSelfDescribing(entity)->key);
  }
  const double lookup = Rate(keys.size(), [&] {
    for (const SchemaKey& key : keys) g_sink = g_sink + (*resolver)->Lookup(key).ok();
  });
  // Two threads looking up the same keys: per-thread CPU rate, to show the shards do
  // not serialise readers.
  std::atomic<uint64_t> rate_sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      double r = Rate(keys.size(), [&] {
        for (const SchemaKey& key : keys) g_sink = g_sink + (*resolver)->Lookup(key).ok();
      });
      rate_sum += static_cast<uint64_t>(r);
    });
  }
  for (auto& t : threads) t.join();

  std::printf("parse contexts document (baseline)     %12.0f docs/s\n", parse);
  std::printf("validate wrapper + 3 entities           %12.0f docs/s   %.2fx parse\n", validate,
              validate / parse);
  std::printf("cached lookup, 1 thread                 %12.0f lookups/s\n", lookup);
  std::printf("cached lookup, 2 threads (per thread)   %12.0f lookups/s\n",
              static_cast<double>(rate_sum.load()) / 2);
  return 0;
}
