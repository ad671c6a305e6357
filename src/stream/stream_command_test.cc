// Drives `furrow stream list` and `furrow stream dump` (src/app/stream_command.cc)
// through the real binary ($FURROW_BINARY, set by ctest).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/clock.h"
#include "core/metrics.h"
#include "stream/file_log.h"
#include "stream/log_layout.h"
#include "tracker/collector_payload.h"

namespace furrow::stream {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class StreamCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* binary = std::getenv("FURROW_BINARY");
    if (binary == nullptr) GTEST_SKIP() << "FURROW_BINARY is not set (run through ctest)";
    binary_ = binary;
    char name[] = "/tmp/furrow-stream-command-XXXXXX";
    dir_ = ::mkdtemp(name);
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  // Runs furrow with `args` (already shell-quoted where needed).
  RunResult Run(const std::string& args) {
    std::string out = dir_ + "/stdout";
    std::string err = dir_ + "/stderr";
    std::string command = binary_ + " " + args + " >" + out + " 2>" + err;
    int status = std::system(command.c_str());
    RunResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  // Fills raw-good (two payloads and one undecodable record), raw-bad and
  // enriched-good; reader "enrich" of raw-good commits offset 2.
  void Populate() {
    MetricsRegistry metrics;
    ManualClock clock;
    auto provider = std::move(FileStreamProvider::Open(dir_ + "/var/streams", FileStreamOptions(),
                                                       clock, &metrics))
                        .value();
    Producer* raw = *provider->GetProducer(kRawGood);
    tracker::CollectorPayload payload;
    payload.ip_address = "10.0.0.1";
    payload.timestamp_ms = 1700000000000;
    payload.collector = "furrow-test";
    payload.querystring = "e=pv&p=web";
    ASSERT_TRUE(raw->AppendSync(tracker::EncodeCollectorPayload(payload)).ok());
    ASSERT_TRUE(raw->AppendSync("not thrift").ok());
    payload.path = "/i";
    ASSERT_TRUE(raw->AppendSync(tracker::EncodeCollectorPayload(payload)).ok());
    auto consumer = std::move(provider->OpenConsumer(kRawGood, "enrich")).value();
    ASSERT_TRUE(consumer->Commit(Position{{{0, 2}}}).ok());
    ASSERT_TRUE((*provider->GetProducer(kRawBad))->AppendSync(R"({"schema":"bad","data":{}})").ok());
    ASSERT_TRUE((*provider->GetProducer(kEnrichedGood))->AppendSync("app\tweb\t2026").ok());
    expected_json_ = tracker::CollectorPayloadToJson(payload);
  }

  std::string binary_;
  std::string dir_;
  std::string expected_json_;  // the JSON of raw-good offset 2
};

TEST_F(StreamCommandTest, ListPrintsRecordsOffsetsAndReaders) {
  Populate();
  RunResult r = Run("stream list --data-dir " + dir_ + "/var");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("enriched-good records=1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("raw-bad records=1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("raw-good records=3 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("first_offset=0 end_offset=3\n  reader=enrich committed=2 lag=1\n"),
            std::string::npos)
      << r.out;
}

TEST_F(StreamCommandTest, DumpPrintsRawGoodAsJsonAndReportsUndecodableRecords) {
  Populate();
  RunResult r = Run("stream dump raw-good --data-dir " + dir_ + "/var");
  EXPECT_EQ(r.exit_code, 1);
  std::istringstream lines(r.out);
  std::string first;
  std::string second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_NE(first.find("\"ipAddress\":\"10.0.0.1\""), std::string::npos) << first;
  EXPECT_EQ(first.find("\"path\""), std::string::npos);
  EXPECT_EQ(second, expected_json_);
  EXPECT_NE(r.err.find("raw-good offset 1: cannot decode"), std::string::npos) << r.err;
  // Dumping moved no reader.
  EXPECT_EQ(*ReadReaderPosition(dir_ + "/var/streams/raw-good", "enrich"), 2u);
}

TEST_F(StreamCommandTest, DumpFromAReaderPositionWithLimitAndRawFormat) {
  Populate();
  RunResult r = Run("stream dump raw-good --reader enrich --data-dir " + dir_ + "/var");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, expected_json_ + "\n");
  r = Run("stream dump raw-good --format raw --from 1 --limit 1 --data-dir " + dir_ + "/var");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "not thrift\n");
}

TEST_F(StreamCommandTest, DumpPrintsBadRowsAndEnrichedLinesAsTheyAre) {
  Populate();
  RunResult r = Run("stream dump raw-bad --data-dir " + dir_ + "/var");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"schema\":\"bad\",\"data\":{}}\n");
  r = Run("stream dump enriched-good --data-dir " + dir_ + "/var");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "app\tweb\t2026\n");
}

TEST_F(StreamCommandTest, DumpPrintsEnrichedEventsAsJsonOnRequest) {
  Populate();
  {
    MetricsRegistry metrics;
    ManualClock clock;
    auto provider = std::move(FileStreamProvider::Open(dir_ + "/var/streams", FileStreamOptions(),
                                                       clock, &metrics))
                        .value();
    std::string line = "shop\tweb";
    for (int i = 2; i < 131; ++i) line += i == 6 ? "\tc6a5bd1e-8c2c-4f8b-9c7d-0a1b2c3d4e5f" : "\t";
    ASSERT_TRUE((*provider->GetProducer(kEnrichedGood))->AppendSync(line).ok());
  }
  RunResult r = Run("stream dump enriched-good --format json --from 1 --data-dir " + dir_ + "/var");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"app_id\":\"shop\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"event_id\":\"c6a5bd1e-8c2c-4f8b-9c7d-0a1b2c3d4e5f\""), std::string::npos)
      << r.out;
  // The three-field line of Populate() is not an enriched event.
  r = Run("stream dump enriched-good --format json --data-dir " + dir_ + "/var");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("enriched-good offset 0: cannot decode"), std::string::npos) << r.err;
}

TEST_F(StreamCommandTest, DumpOfAMissingStreamFails) {
  Populate();
  RunResult r = Run("stream dump nothing-here --data-dir " + dir_ + "/var");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no stream nothing-here"), std::string::npos) << r.err;
  r = Run("stream dump ../x --data-dir " + dir_ + "/var");
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
}  // namespace furrow::stream
