// End-to-end tests of `furrow pipeline` (collector + enrich + sink in one process):
// events go in over HTTP, and are read back from the lake files (gunzipped by zcat,
// or downloaded from s3rver by the AWS CLI).
//
//   * first start: the key is generated (0600) and reused; SIGTERM lands every
//     acknowledged event in the lake; `furrow pseudonym --data-dir` matches the lake;
//   * kill -9 under load, several times: every acknowledged event is in the lake
//     exactly once (counted by event_id, which the default allowlist keeps; enrich
//     journals each batch, the sink each file), and no event is in it twice;
//   * the S3 lake goes away under load and comes back: nothing acknowledged is lost
//     or doubled;
//   * canaries in parameters, headers and bodies never reach the lake, the logs or
//     the metrics.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "s3rver_process.h"

namespace furrow::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kTp2[] = "/com.snowplowanalytics.snowplow/tp2";
constexpr std::chrono::seconds kStartTimeout{60};
constexpr std::chrono::seconds kExitTimeout{120};

std::string Uuid(uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n));
  return buf;
}

std::string PageView(const std::string& eid, const std::string& extra = "") {
  return "{\"e\":\"pv\",\"eid\":\"" + eid +
         "\",\"tv\":\"test-1\",\"p\":\"web\",\"url\":\"http://example.com/page\"" + extra + "}";
}

std::string Tp2Body(const std::vector<std::string>& events) {
  std::string body =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[";
  for (size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
  return body + "]}";
}

int PostEvents(int port, const std::vector<std::string>& events,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
  headers.emplace_back("Content-Type", "application/json");
  return Http(port, "POST", kTp2, headers, Tp2Body(events)).status;
}

// Every line of every file under `dir` (decompressed), skipping sidecar files.
size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::vector<std::string> LakeLines(const fs::path& dir) {
  std::vector<std::string> lines;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return lines;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().filename().string()[0] == '.') continue;
    CommandResult out = RunCommand({"zcat", "-f", entry.path().string()});
    EXPECT_EQ(out.exit_code, 0) << entry.path();
    std::istringstream in(out.out);
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) lines.push_back(line);
    }
  }
  return lines;
}

std::string Field(const std::string& tsv, size_t index) {
  size_t start = 0;
  for (size_t i = 0; i < index; ++i) {
    start = tsv.find('\t', start);
    if (start == std::string::npos) return "";
    ++start;
  }
  size_t end = tsv.find('\t', start);
  return tsv.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

constexpr size_t kEventIdField = 6;
constexpr size_t kUserIdField = 12;

std::map<std::string, int> CountEventIds(const std::vector<std::string>& lines) {
  std::map<std::string, int> counts;
  for (const auto& line : lines) counts[Field(line, kEventIdField)]++;
  return counts;
}

class Pipeline {
 public:
  // Starts `furrow pipeline` with stderr appended to DATA_DIR/../stderr.log.
  bool Start(const std::string& data_dir, const std::vector<std::string>& extra = {}) {
    log_ = data_dir + ".stderr.log";
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>>" + log_,
                                     FurrowBinary(), "pipeline", "--data-dir", data_dir,
                                     "--port", "0", "--bind", "127.0.0.1",
                                     "--max-file-age-s", "1", "--workers", "2", "--threads", "2",
                                     "--shutdown-timeout-s", "60"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<ChildProcess>();
    if (!process_->Start(argv)) return false;
    auto port = process_->WaitForListening(kStartTimeout);
    if (!port) return false;
    port_ = *port;
    return true;
  }
  // SIGTERM; returns the exit code (-1 if it did not exit normally in time).
  int Terminate() {
    process_->Signal(SIGTERM);
    auto status = process_->Wait(kExitTimeout);
    if (!status || !WIFEXITED(*status)) return -1;
    return WEXITSTATUS(*status);
  }
  void Kill() {
    process_->Signal(SIGKILL);
    (void)process_->Wait(kExitTimeout);
  }
  int port() const { return port_; }
  std::string Log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string log_;
  int port_ = 0;
};

// Sends one event per request until stopped; records the event ids that got 200.
class Sender {
 public:
  Sender(int port, uint64_t first_id) : port_(port), next_(first_id) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        std::string eid = Uuid(next_++);
        if (PostEvents(port_, {PageView(eid)}) == 200) {
          std::lock_guard<std::mutex> lock(mu_);
          acked_.push_back(eid);
        }
      }
    });
  }
  std::vector<std::string> Stop() {
    stop_.store(true);
    thread_.join();
    return acked_;
  }
  size_t acked() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_.size();
  }
  uint64_t next() const { return next_; }

 private:
  int port_;
  std::atomic<uint64_t> next_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> acked_;
  std::thread thread_;
};

void WaitForAcks(Sender& sender, size_t at_least) {
  while (sender.acked() < at_least) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

TEST(PipelineTest, FirstStartMakesAKeyAndSigtermLandsEveryAcknowledgedEvent) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  Pipeline pipeline;
  ASSERT_TRUE(pipeline.Start(data));

  fs::path key = fs::path(data) / "keys" / "pseudonymize.key";
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream key_in(key);
  std::string key_text((std::istreambuf_iterator<char>(key_in)), {});

  EXPECT_EQ(Http(pipeline.port(), "GET", "/health").status, 200);
  EXPECT_EQ(Http(pipeline.port(), "GET", "/sink-health").status, 200);

  std::set<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    std::vector<std::string> batch;
    for (int j = 0; j < 5; ++j) {
      std::string eid = Uuid(1000 + i * 5 + j);
      batch.push_back(PageView(eid, ",\"uid\":\"user-" + std::to_string(i) + "\""));
      sent.insert(eid);
    }
    ASSERT_EQ(PostEvents(pipeline.port(), batch), 200);
  }
  // One registry: the collector's /metrics also shows enrich and the sink.
  std::string metrics = Http(pipeline.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("furrow_collector"), std::string::npos);
  EXPECT_NE(metrics.find("furrow_enrich_records_total"), std::string::npos);
  EXPECT_NE(metrics.find("furrow_sink"), std::string::npos);
  ASSERT_EQ(pipeline.Terminate(), 0) << pipeline.Log();

  std::vector<std::string> lines = LakeLines(fs::path(data) / "lake" / "output");
  std::map<std::string, int> counts = CountEventIds(lines);
  for (const auto& eid : sent) EXPECT_EQ(counts[eid], 1) << eid;
  EXPECT_EQ(counts.size(), sent.size());

  // `furrow pseudonym --data-dir` gives the pseudonyms this pipeline wrote.
  CommandResult pseudonym = RunCommand({FurrowBinary(), "pseudonym", "user-7", "--data-dir", data});
  ASSERT_EQ(pseudonym.exit_code, 0);
  std::string expected = pseudonym.out.substr(0, pseudonym.out.find('\n'));
  ASSERT_FALSE(expected.empty());
  EXPECT_NE(expected, "user-7");
  int matches = 0;
  for (const auto& line : lines) matches += Field(line, kUserIdField) == expected;
  EXPECT_EQ(matches, 5);

  // A second start reuses the key.
  ASSERT_TRUE(pipeline.Start(data));
  ASSERT_EQ(pipeline.Terminate(), 0) << pipeline.Log();
  std::ifstream key_again(key);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(key_again)), {}), key_text);
}

TEST(PipelineTest, EveryAcknowledgedEventIsInTheLakeExactlyOnceAfterKill9UnderLoad) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  std::mt19937 random(std::random_device{}());
  std::vector<std::string> acked;
  constexpr uint64_t kIdsPerSender = 1'000'000;
  for (uint64_t round = 0; round < 4; ++round) {
    Pipeline pipeline;
    ASSERT_TRUE(pipeline.Start(data)) << "round " << round;
    // Three concurrent senders, so that enrich polls batches of several records and
    // the kill can land between a batch's durable outputs and its commit.
    std::vector<std::unique_ptr<Sender>> senders;
    for (uint64_t k = 0; k < 3; ++k) {
      senders.push_back(std::make_unique<Sender>(pipeline.port(), (round * 3 + k) * kIdsPerSender + 1));
    }
    // Kill at a random point: after a random number of acknowledged events.
    WaitForAcks(*senders[0], 20 + random() % 200);
    pipeline.Kill();
    for (auto& sender : senders) {
      std::vector<std::string> got = sender->Stop();
      acked.insert(acked.end(), got.begin(), got.end());
    }
  }
  Pipeline last;
  ASSERT_TRUE(last.Start(data));
  ASSERT_EQ(last.Terminate(), 0) << last.Log();

  std::vector<std::string> lines = LakeLines(fs::path(data) / "lake" / "output");
  std::map<std::string, int> counts = CountEventIds(lines);
  ASSERT_FALSE(acked.empty());
  // Nothing acknowledged is lost and nothing is doubled: a batch that enrich had
  // written but not committed when it was killed is finished from its journal, not
  // enriched into a second copy (src/enrich/enrich_stage.h). An event whose 200 was
  // lost to the kill may or may not be in the lake, but never twice.
  for (const auto& eid : acked) EXPECT_EQ(counts[eid], 1) << eid;
  for (const auto& [eid, n] : counts) EXPECT_EQ(n, 1) << "duplicated " << eid;
  const std::string log = last.Log();
  ::testing::Test::RecordProperty("journaled_batches_finished",
                                  static_cast<int>(CountOccurrences(log, "finishing a journaled enrich batch")));
}

TEST(PipelineTest, AnS3OutageUnderLoadLosesAndDoublesNothing) {
  S3rverProcess s3;
  ASSERT_TRUE(s3.Start({"lake"})) << s3.error();
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  ::setenv("AWS_ENDPOINT_URL", s3.Endpoint().c_str(), 1);
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  Pipeline pipeline;
  ASSERT_TRUE(pipeline.Start(data, {"--lake", "s3://lake/events", "--s3-addressing-style", "path"}));
  Sender sender(pipeline.port(), 1);
  WaitForAcks(sender, 100);
  s3.Stop();
  // Events keep being acknowledged while the lake is down (the streams hold them).
  size_t during = sender.acked();
  WaitForAcks(sender, during + 200);
  ASSERT_TRUE(s3.Start({"lake"}, s3.port())) << s3.error();
  WaitForAcks(sender, sender.acked() + 100);
  std::vector<std::string> acked = sender.Stop();
  ASSERT_EQ(pipeline.Terminate(), 0) << pipeline.Log();

  fs::path download = fs::path(tmp.path()) / "download";
  auto copied = s3.Aws("s3 cp --recursive s3://lake/events " + download.string());
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  std::map<std::string, int> counts = CountEventIds(LakeLines(download / "output"));
  for (const auto& eid : acked) EXPECT_EQ(counts[eid], 1) << eid;
  for (const auto& [eid, n] : counts) EXPECT_EQ(n, 1) << "duplicated " << eid;
  EXPECT_EQ(counts.size(), acked.size());
}

TEST(PipelineTest, NoCanaryReachesTheLakeTheLogsOrTheMetrics) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  Pipeline pipeline;
  ASSERT_TRUE(pipeline.Start(data));
  std::vector<std::string> canaries;
  auto canary = [&canaries] {
    canaries.push_back("cnry" + std::to_string(700000 + canaries.size()) + "z");
    return canaries.back();
  };
  std::vector<std::pair<std::string, std::string>> headers = {
      {"User-Agent", "Mozilla/5.0 " + canary()},
      {"Referer", "http://" + canary() + ".example/ref"},
      {"Cookie", "sp=" + canary() + "; other=" + canary()},
      {"X-Custom", canary()},
  };
  // Good events: every non-allowlisted parameter carries a canary.
  std::string ue = "{\\\"schema\\\":\\\"iglu:com.snowplowanalytics.snowplow/unstruct_event/"
                   "jsonschema/1-0-0\\\",\\\"data\\\":{\\\"schema\\\":\\\"iglu:com.snowplowanalytics."
                   "snowplow/link_click/jsonschema/1-0-1\\\",\\\"data\\\":{\\\"targetUrl\\\":\\\"http://" +
                   canary() + ".example/\\\",\\\"elementId\\\":\\\"" + canary() + "\\\"}}}";
  std::string event =
      "{\"e\":\"pv\",\"eid\":\"" + Uuid(1) + "\",\"tv\":\"test-1\",\"p\":\"web\",\"url\":\"http://" +
      canary() + ".example/p?q=" + canary() + "\",\"refr\":\"http://" + canary() +
      ".example/\",\"uid\":\"" + canary() + "\",\"duid\":\"" + canary() + "\",\"page\":\"" + canary() +
      "\"}";
  ASSERT_EQ(PostEvents(pipeline.port(), {event}, headers), 200);
  std::string unstruct = "{\"e\":\"ue\",\"eid\":\"" + Uuid(3) +
                         "\",\"tv\":\"test-1\",\"p\":\"web\",\"ue_pr\":\"" + ue + "\"}";
  ASSERT_EQ(PostEvents(pipeline.port(), {unstruct}, headers), 200);
  std::string se = "/i?e=se&eid=" + Uuid(2) + "&tv=test-1&p=web&se_la=" + canary() + "&se_pr=" +
                   canary() + "&uid=" + canary() + "&url=http%3A%2F%2F" + canary() + ".example%2F";
  EXPECT_EQ(Http(pipeline.port(), "GET", se, headers).status, 200);
  // Bad rows: an event that fails validation and a body that is not JSON.
  ASSERT_EQ(PostEvents(pipeline.port(), {"{\"e\":\"pv\",\"eid\":\"" + Uuid(4) + "\",\"url\":\"" +
                                         canary() + "\",\"zz\":\"" + canary() + "\"}"},
                       headers),
            200);
  EXPECT_EQ(Http(pipeline.port(), "POST", kTp2, {{"Content-Type", "application/json"}},
                 "{not json " + canary())
                .status,
            200);
  std::string metrics = Http(pipeline.port(), "GET", "/metrics").body;
  ASSERT_EQ(pipeline.Terminate(), 0) << pipeline.Log();

  std::vector<std::string> lines = LakeLines(fs::path(data) / "lake");
  ASSERT_GE(lines.size(), 3u);
  bool good_seen = false;
  for (const auto& line : lines) good_seen = good_seen || Field(line, kEventIdField) == Uuid(1);
  EXPECT_TRUE(good_seen) << "the canary event did not reach the lake";
  std::string log = pipeline.Log();
  for (const auto& c : canaries) {
    for (const auto& line : lines) ASSERT_EQ(line.find(c), std::string::npos) << c << " in " << line;
    EXPECT_EQ(log.find(c), std::string::npos) << c << " in the log";
    EXPECT_EQ(metrics.find(c), std::string::npos) << c << " in the metrics";
  }
}

}  // namespace
}  // namespace furrow::testing

namespace furrow::testing {
namespace {

// Debian's Chromium, headless, loads a page using @snowplow/browser-tracker that sends
// two page views and a link click with a context to the pipeline
// (browser_events.js). The schemas come from the copy of Iglu Central in
// ../shared/data through an embedded repository.
TEST(PipelineBrowserTest, SnowplowBrowserTrackerEventsReachTheLake) {
  TempDir tmp;
  std::string data = tmp.path() + "/data";
  fs::path iglu = fs::path(tmp.path()) / "resolver.json";
  std::ofstream(iglu)
      << "{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1\","
         "\"data\":{\"cacheSize\":500,\"repositories\":[{\"name\":\"iglu-central-copy\","
         "\"priority\":0,\"vendorPrefixes\":[],\"connection\":{\"embedded\":{\"path\":\""
      << fs::absolute("../shared/data/iglu-central").string() << "\"}}}]}}";
  Pipeline pipeline;
  ASSERT_TRUE(pipeline.Start(data, {"--iglu-config", iglu.string()}));
  const char* source = std::getenv("FURROW_SOURCE_DIR");
  std::string script = std::string(source ? source : ".") + "/tests/pipeline/browser_events.js";
  CommandResult sent = RunCommand({"node", script, "send", std::to_string(pipeline.port())});
  ASSERT_EQ(sent.exit_code, 0) << sent.out;
  ASSERT_EQ(pipeline.Terminate(), 0) << pipeline.Log();

  fs::path output = fs::path(data) / "lake" / "output";
  std::vector<std::string> lines = LakeLines(output);
  int page_views = 0;
  int link_clicks = 0;
  for (const auto& line : lines) {
    EXPECT_EQ(Field(line, 0), "browser-test");
    if (Field(line, 5) == "page_view") ++page_views;
    if (Field(line, 5) == "unstruct" &&
        Field(line, 58).find("link_click/jsonschema/1-0-1") != std::string::npos) {
      ++link_clicks;
      EXPECT_NE(Field(line, 52).find("web_page/jsonschema/1-0-0"), std::string::npos);
    }
  }
  EXPECT_EQ(page_views, 2);
  EXPECT_EQ(link_clicks, 1);
  EXPECT_TRUE(LakeLines(fs::path(data) / "lake" / "enriched-bad").empty());

  // Snowplow's Analytics SDK reads every lake line: typed columns that are not
  // allowlisted are null, never a pseudonym that would not parse as its type.
  CommandResult parsed = RunCommand({"node", script, "read", output.string()});
  ASSERT_EQ(parsed.exit_code, 0) << parsed.out;
  std::istringstream in(parsed.out);
  int sdk_events = 0;
  int sdk_errors = 0;
  for (std::string line; std::getline(in, line);) {
    sdk_events += line.rfind("{\"event\":", 0) == 0;
    sdk_errors += line.rfind("{\"sdk_error\":", 0) == 0;
  }
  EXPECT_EQ(sdk_events, 3) << parsed.out;
  EXPECT_EQ(sdk_errors, 0) << parsed.out;
}

}  // namespace
}  // namespace furrow::testing
