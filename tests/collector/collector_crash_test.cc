// Crash test: no acknowledged event is ever lost.
//
// Clients send GET and POST events continuously over keep-alive connections, each
// event carrying a unique id; every id that got a 200 is remembered. At a random
// moment the collector is killed with SIGKILL and restarted on the same data dir.
// After several rounds, every acknowledged id must be in raw-good, and every record
// must be intact (checksums verified by the stream reader, Thrift decodes).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "stream/file_log_inspect.h"
#include "tracker/collector_payload.h"
#include "tracker/query_string.h"

namespace furrow::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kRounds = 4;
constexpr int kClients = 4;

struct Acks {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> ids;  // guarded by mu
  size_t round_acks = 0;      // guarded by mu
};

// Sends events on one keep-alive connection until the server goes away or `stop`.
void Client(int port, int round, int client, const std::atomic<bool>& stop, Acks& acks) {
  int fd = Connect(port);
  if (fd < 0) return;
  for (int n = 0; !stop.load(); ++n) {
    std::vector<std::string> ids;
    std::string request;
    std::string prefix = std::to_string(round) + "-" + std::to_string(client) + "-" + std::to_string(n);
    if (client % 2 == 0) {
      ids.push_back(prefix);
      request = "GET /i?e=pv&eid=" + prefix + "&url=https%3A%2F%2Fexample.com%2F HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\n\r\n";
    } else {
      std::string body = "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[";
      for (int e = 0; e < 3; ++e) {
        ids.push_back(prefix + "." + std::to_string(e));
        if (e > 0) body += ",";
        body += "{\"e\":\"se\",\"eid\":\"" + ids.back() + "\",\"tv\":\"t\",\"p\":\"web\"}";
      }
      body += "]}";
      request = "POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body;
    }
    if (!SendAll(fd, request)) break;
    HttpReply reply = ReadReply(fd);
    if (reply.status == 0) break;
    if (reply.status != 200) continue;
    {
      std::lock_guard<std::mutex> lock(acks.mu);
      for (std::string& id : ids) acks.ids.insert(std::move(id));
      ++acks.round_acks;
    }
    acks.cv.notify_all();
  }
  close(fd);
}

// Every event id in raw-good; fails the test on a damaged or undecodable record.
std::set<std::string> StoredIds(const std::string& data_dir, size_t* records) {
  std::set<std::string> ids;
  *records = 0;
  Status s = stream::ReadStream(data_dir + "/streams", "raw-good", 0, [&](const stream::Record& r) {
    ++*records;
    Result<tracker::CollectorPayload> p = tracker::DecodeCollectorPayload(r.payload);
    EXPECT_TRUE(p.ok()) << "record " << r.offset << ": " << p.status().ToString();
    if (!p.ok()) return true;
    if (p->querystring) {
      if (auto eid = tracker::FindQueryParam(*p->querystring, "eid")) ids.insert(*eid);
    }
    if (p->body) {
      rapidjson::Document doc;
      doc.Parse(p->body->c_str(), p->body->size());
      EXPECT_FALSE(doc.HasParseError());
      if (!doc.HasParseError() && doc.IsObject() && doc.HasMember("data") && doc["data"].IsArray()) {
        for (const auto& e : doc["data"].GetArray()) {
          if (e.IsObject() && e.HasMember("eid") && e["eid"].IsString()) ids.insert(e["eid"].GetString());
        }
      }
    }
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return ids;
}

TEST(CollectorCrashTest, KillNineNeverLosesAcknowledgedEvents) {
  TempDir dir;
  std::random_device seed_source;
  const unsigned seed = seed_source();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  Acks acks;

  for (int round = 0; round < kRounds; ++round) {
    ChildProcess collector;
    ASSERT_TRUE(collector.Start({FurrowBinary(), "collector", "--data-dir", dir.path(), "--port",
                                 "0", "--bind", "127.0.0.1", "--threads", "2"}));
    std::optional<int> port = collector.WaitForListening(milliseconds(60000));
    ASSERT_TRUE(port.has_value()) << "round " << round;
    {
      std::lock_guard<std::mutex> lock(acks.mu);
      acks.round_acks = 0;
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(Client, *port, round, c, std::cref(stop), std::ref(acks));
    }
    // Kill after a random number of acknowledged requests.
    const size_t kill_after = std::uniform_int_distribution<size_t>(50, 1500)(rng);
    {
      std::unique_lock<std::mutex> lock(acks.mu);
      acks.cv.wait_for(lock, std::chrono::seconds(60), [&] { return acks.round_acks >= kill_after; });
      EXPECT_GE(acks.round_acks, kill_after) << "round " << round << " made too little progress";
    }
    collector.Signal(SIGKILL);
    std::optional<int> status = collector.Wait(milliseconds(30000));
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFSIGNALED(*status));
    stop = true;
    for (std::thread& t : clients) t.join();
  }

  size_t records = 0;
  std::set<std::string> stored = StoredIds(dir.path(), &records);
  size_t missing = 0;
  std::lock_guard<std::mutex> lock(acks.mu);
  for (const std::string& id : acks.ids) {
    if (!stored.count(id)) {
      if (++missing <= 10) ADD_FAILURE() << "acknowledged event " << id << " is not in raw-good";
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acks.ids.size() << " acknowledged events";
  EXPECT_GT(acks.ids.size(), 0u);
  EXPECT_GE(records, acks.ids.size() / 3);
}

}  // namespace
}  // namespace furrow::testing
