// `furrow enrich` end to end: raw-good records written to the embedded file
// streams, the real binary run over them, outputs read back.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/metrics.h"
#include "enrich/enrich_test_util.h"
#include "enrich/golden_cases.h"
#include "event/enriched_event.h"
#include "stream/file_log.h"
#include "tracker/collector_payload.h"

namespace furrow::enrich::testing {
namespace {

namespace fs = std::filesystem;

struct E2eSetup {
  TempDir dir;
  fs::path data_dir, enrichments, resolver;
  size_t events = 0;

  E2eSetup() {
    data_dir = dir.path() / "var";
    enrichments = dir.path() / "enrichments";
    fs::create_directories(enrichments);
    WriteAllEnrichmentConfigs(enrichments);
    resolver = dir.path() / "resolver.json";
    std::ofstream(resolver) << R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
      "data":{"cacheSize":500,"repositories":[{"name":"Iglu Central copy","priority":0,"vendorPrefixes":[],
      "connection":{"embedded":{"path":")" << fs::absolute("../shared/data/iglu-central").string() << R"("}}}]}})";
  }

  std::unique_ptr<stream::FileStreamProvider> Open(MetricsRegistry* metrics) {
    auto p = stream::FileStreamProvider::Open((data_dir / "streams").string(), stream::FileStreamOptions(),
                                              SystemClock::Instance(), metrics);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }

  // Every golden case as GET, all of them in one POST, and one undecodable record.
  void WriteRawGood() {
    MetricsRegistry metrics;
    auto provider = Open(&metrics);
    auto producer = provider->GetProducer(stream::kRawGood);
    ASSERT_TRUE(producer.ok());
    std::vector<Params> all;
    for (const auto& c : GoldenCases()) {
      ASSERT_TRUE((*producer)->AppendSync(tracker::EncodeCollectorPayload(AsGet(c.params))).ok());
      all.push_back(c.params);
    }
    ASSERT_TRUE((*producer)->AppendSync(tracker::EncodeCollectorPayload(PostPayload(PayloadDataBody(all)))).ok());
    ASSERT_TRUE((*producer)->AppendSync("not a thrift record").ok());
    events = all.size() * 2 + 1;
    provider->Close();
  }

  std::vector<std::string> ReadAll(const std::string& name) {
    MetricsRegistry metrics;
    auto provider = Open(&metrics);
    auto consumer = provider->OpenConsumer(name, "e2e-test-reader");
    EXPECT_TRUE(consumer.ok());
    std::vector<std::string> out;
    while (true) {
      auto batch = (*consumer)->Poll(1000, 1 << 24, std::chrono::milliseconds(0));
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || batch->records.empty()) break;
      for (auto& r : batch->records) out.push_back(r.payload);
    }
    provider->Close();
    return out;
  }

  std::vector<std::string> Args(bool exit_when_idle) {
    std::vector<std::string> args = {std::getenv("FURROW_BINARY"), "enrich",
                                     "--data-dir", data_dir.string(),
                                     "--iglu-config", resolver.string(),
                                     "--enrichments", enrichments.string(),
                                     "--port", "0"};
    if (exit_when_idle) args.push_back("--exit-when-idle");
    return args;
  }
};

// Starts the binary; with `stderr_fd`, its stderr goes to a pipe read there.
pid_t Spawn(const std::vector<std::string>& args, int* stderr_fd = nullptr) {
  int fds[2] = {-1, -1};
  if (stderr_fd != nullptr && pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    if (stderr_fd != nullptr) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (stderr_fd != nullptr) {
    close(fds[1]);
    *stderr_fd = fds[0];
  }
  return pid;
}

// Reads `fd` until `text` appears or the stream ends; returns whether it appeared.
bool WaitForText(int fd, const std::string& text) {
  std::string seen;
  char buf[512];
  while (seen.find(text) == std::string::npos) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) return false;
    seen.append(buf, static_cast<size_t>(n));
  }
  return true;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(EnrichCommandTest, EnrichesEveryRecordOfRawGoodOncePerEvent) {
  ASSERT_NE(std::getenv("FURROW_BINARY"), nullptr);
  E2eSetup s;
  s.WriteRawGood();
  ASSERT_EQ(Wait(Spawn(s.Args(true))), 0);
  auto good = s.ReadAll(stream::kEnrichedGood);
  auto bad = s.ReadAll(stream::kEnrichedBad);
  EXPECT_EQ(good.size(), 12u);
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(good.size() + bad.size(), s.events);
  for (const auto& line : good) {
    auto fields = event::SplitTsv(line);
    ASSERT_TRUE(fields.ok());
    EXPECT_EQ((*fields)[event::kGeoCountry], "GB");
    EXPECT_EQ((*fields)[event::kBrFamily], "Chrome");
  }
  EXPECT_NE(bad[0].find("collector_payload_format_violation"), std::string::npos);
  EXPECT_EQ(ValidateBadRow(bad[0]), "");
  // A second run has nothing left to do: the position was committed.
  ASSERT_EQ(Wait(Spawn(s.Args(true))), 0);
  EXPECT_EQ(s.ReadAll(stream::kEnrichedGood).size(), 12u);
}

TEST(EnrichCommandTest, SigtermFinishesFlushesCommitsAndExitsZero) {
  ASSERT_NE(std::getenv("FURROW_BINARY"), nullptr);
  E2eSetup s;
  s.WriteRawGood();
  int err = -1;
  pid_t pid = Spawn(s.Args(false), &err);
  ASSERT_GT(pid, 0);
  // The streams are locked while the stage runs, so they cannot be watched from
  // here. Once it has started, whenever SIGTERM lands (before, during or after
  // the batch), the stage must exit 0 with its outputs durable and its position
  // consistent with them.
  bool started = WaitForText(err, "enrich started");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  kill(pid, SIGTERM);
  int rc = Wait(pid);
  close(err);
  ASSERT_TRUE(started);
  EXPECT_EQ(rc, 0);
  // A second run enriches whatever the first did not commit; together, every
  // event exactly once (a batch is committed only after its outputs).
  ASSERT_EQ(Wait(Spawn(s.Args(true))), 0);
  EXPECT_EQ(s.ReadAll(stream::kEnrichedGood).size(), 12u);
  EXPECT_EQ(s.ReadAll(stream::kEnrichedBad).size(), 1u);
}

TEST(EnrichCommandTest, MissingEnrichmentDataFailsAtStartup) {
  ASSERT_NE(std::getenv("FURROW_BINARY"), nullptr);
  E2eSetup s;
  std::ofstream(s.enrichments / "ip_lookups.json") << R"({"schema":"iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1",
    "data":{"name":"ip_lookups","enabled":true,"parameters":{"geo":{"database":"GeoIP2-City.mmdb","uri":"/nonexistent"}}}})";
  EXPECT_EQ(Wait(Spawn(s.Args(true))), 1);
}

}  // namespace
}  // namespace furrow::enrich::testing
