// Integration tests of `furrow collector`: plain HTTP, the real Snowplow Node tracker,
// and bad input. Each test starts the binary on --port 0 with a temporary data dir.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/version.h"
#include "harness.h"
#include "tracker/collector_payload.h"
#include "tracker/query_string.h"

namespace furrow::testing {
namespace {

using std::chrono::milliseconds;
using Json = std::unique_ptr<rapidjson::Document>;

constexpr char kTp2[] = "/com.snowplowanalytics.snowplow/tp2";

int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Collector {
 public:
  bool Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {FurrowBinary(), "collector", "--data-dir", dir_.path(),
                                     "--port", "0", "--bind", "127.0.0.1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!process_.Start(argv)) return false;
    std::optional<int> port = process_.WaitForListening(milliseconds(60000));
    if (!port) return false;
    port_ = *port;
    return true;
  }
  // SIGTERM; true if the process exited 0.
  bool Stop() {
    process_.Signal(SIGTERM);
    std::optional<int> status = process_.Wait(milliseconds(60000));
    return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
  }
  int port() const { return port_; }
  const std::string& data_dir() const { return dir_.path(); }

  // `furrow stream dump NAME --format json`: one JSON document per record. A line
  // may be the payload itself or an object with the payload under "payload".
  std::vector<Json> Dump(const std::string& stream) const {
    CommandResult r = RunCommand(
        {FurrowBinary(), "stream", "dump", stream, "--format", "json", "--data-dir", dir_.path()});
    EXPECT_EQ(r.exit_code, 0) << r.out;
    std::vector<Json> docs;
    size_t pos = 0;
    while (pos < r.out.size()) {
      size_t nl = r.out.find('\n', pos);
      if (nl == std::string::npos) nl = r.out.size();
      std::string line = r.out.substr(pos, nl - pos);
      pos = nl + 1;
      if (line.empty()) continue;
      auto doc = std::make_unique<rapidjson::Document>();
      doc->Parse(line.c_str(), line.size());
      EXPECT_FALSE(doc->HasParseError()) << line;
      if (doc->HasParseError() || !doc->IsObject()) continue;
      if (doc->HasMember("payload") && (*doc)["payload"].IsObject()) {
        auto inner = std::make_unique<rapidjson::Document>();
        inner->CopyFrom((*doc)["payload"], inner->GetAllocator());
        doc = std::move(inner);
      }
      docs.push_back(std::move(doc));
    }
    return docs;
  }

 private:
  TempDir dir_;
  ChildProcess process_;
  int port_ = 0;
};

std::string Str(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return "<absent>";
  return it->value.GetString();
}

std::vector<std::string> Headers(const rapidjson::Value& obj) {
  std::vector<std::string> out;
  auto it = obj.FindMember("headers");
  if (it == obj.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& h : it->value.GetArray()) out.push_back(h.GetString());
  return out;
}

// True if `headers` holds "Name: value" with the name in any case (HTTP/1.1 clients
// such as Node's fetch send lower-case names; the collector stores them as sent).
bool HasHeader(const std::vector<std::string>& headers, const std::string& name,
               const std::string& value) {
  for (const std::string& h : headers) {
    if (h.size() != name.size() + 2 + value.size() || h.compare(name.size(), 2, ": ") != 0 ||
        h.compare(name.size() + 2, std::string::npos, value) != 0) {
      continue;
    }
    bool same = true;
    for (size_t i = 0; i < name.size(); ++i) {
      same = same && std::tolower(static_cast<unsigned char>(h[i])) ==
                         std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return true;
  }
  return false;
}

bool LooksLikeUuid(const std::string& s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
  }
  return true;
}

// Checks the fields every stored request has.
void ExpectCommonFields(const rapidjson::Value& p, int port, int64_t before, int64_t after) {
  EXPECT_EQ(Str(p, "schema"), tracker::kCollectorPayloadSchema);
  EXPECT_EQ(Str(p, "ipAddress"), "127.0.0.1");
  EXPECT_EQ(Str(p, "encoding"), "UTF-8");
  EXPECT_EQ(Str(p, "collector"), std::string("furrow-") + kVersion + "-file");
  EXPECT_EQ(Str(p, "hostname"), "127.0.0.1");
  ASSERT_TRUE(p.HasMember("timestamp") && p["timestamp"].IsInt64());
  EXPECT_GE(p["timestamp"].GetInt64(), before);
  EXPECT_LE(p["timestamp"].GetInt64(), after);
  EXPECT_TRUE(LooksLikeUuid(Str(p, "networkUserId"))) << Str(p, "networkUserId");
  EXPECT_TRUE(HasHeader(Headers(p), "Host", "127.0.0.1:" + std::to_string(port)));
}

TEST(CollectorIntegrationTest, StoresGetHeadPostAndAnswersPreflight) {
  Collector c;
  ASSERT_TRUE(c.Start());
  const int64_t before = NowMs();
  HttpReply get = Http(c.port(), "GET", "/i?e=pv&aid=shop&url=https%3A%2F%2Fshop.example.com%2F",
                       {{"User-Agent", "integration/1.0"}, {"Referer", "https://shop.example.com/"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.Header("Content-Type"), "image/gif");
  EXPECT_EQ(get.body.size(), 43u);
  EXPECT_EQ(get.Header("Cache-Control"), "no-cache, no-store, must-revalidate");
  ASSERT_TRUE(get.Header("Set-Cookie").has_value());
  EXPECT_NE(get.Header("Set-Cookie")->find("; Secure; HttpOnly; SameSite=None"), std::string::npos);

  HttpReply head = Http(c.port(), "HEAD", "/ice.png?e=pp");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), "43");

  const std::string body =
      "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\","
      "\"data\":[{\"e\":\"pv\",\"tv\":\"t\",\"p\":\"web\"}]}";
  HttpReply post = Http(c.port(), "POST", kTp2,
                        {{"Content-Type", "application/json; charset=utf-8"},
                         {"Cookie", "sp=11111111-2222-4333-8444-555555555555"},
                         {"Origin", "https://shop.example.com"}},
                        body);
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "ok");
  EXPECT_EQ(post.Header("Access-Control-Allow-Origin"), "https://shop.example.com");
  EXPECT_EQ(post.Header("Access-Control-Allow-Credentials"), "true");

  HttpReply options = Http(c.port(), "OPTIONS", kTp2, {{"Origin", "https://a.example"}});
  EXPECT_EQ(options.status, 200);
  EXPECT_EQ(options.Header("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(options.Header("Access-Control-Allow-Headers"), "Content-Type, SP-Anonymous");
  EXPECT_EQ(options.Header("Access-Control-Max-Age"), "3600");

  EXPECT_EQ(Http(c.port(), "GET", "/health").status, 200);
  EXPECT_EQ(Http(c.port(), "GET", "/sink-health").status, 200);
  EXPECT_EQ(Http(c.port(), "GET", "/robots.txt").body, "User-agent: *\nDisallow: /\n");
  EXPECT_EQ(Http(c.port(), "GET", "/nowhere").status, 404);
  const int64_t after = NowMs();
  ASSERT_TRUE(c.Stop());

  std::vector<Json> records = c.Dump("raw-good");
  ASSERT_EQ(records.size(), 3u);
  for (const Json& r : records) ExpectCommonFields(*r, c.port(), before, after);
  const rapidjson::Value& g = *records[0];
  EXPECT_EQ(Str(g, "path"), "/i");
  EXPECT_EQ(Str(g, "querystring"), "e=pv&aid=shop&url=https%3A%2F%2Fshop.example.com%2F");
  EXPECT_EQ(Str(g, "userAgent"), "integration/1.0");
  EXPECT_EQ(Str(g, "refererUri"), "https://shop.example.com/");
  EXPECT_FALSE(g.HasMember("body"));
  EXPECT_EQ(get.Header("Set-Cookie")->substr(3, 36), Str(g, "networkUserId"));
  EXPECT_EQ(Str(*records[1], "path"), "/ice.png");
  const rapidjson::Value& p = *records[2];
  EXPECT_EQ(Str(p, "path"), kTp2);
  EXPECT_EQ(Str(p, "body"), body);
  EXPECT_EQ(Str(p, "contentType"), "application/json; charset=utf-8");
  EXPECT_EQ(Str(p, "networkUserId"), "11111111-2222-4333-8444-555555555555");
  std::vector<std::string> headers = Headers(p);
  ASSERT_FALSE(headers.empty());
  EXPECT_EQ(headers.back(), "Content-Type: application/json; charset=utf-8");
}

TEST(CollectorIntegrationTest, SnowplowNodeTrackerEventsArriveWithEveryField) {
  Collector c;
  ASSERT_TRUE(c.Start());
  const int64_t before = NowMs();
  const char* source = std::getenv("FURROW_SOURCE_DIR");
  std::string script = std::string(source ? source : ".") + "/tests/collector/send_events.js";
  CommandResult sent =
      RunCommand({"node", script, "http://127.0.0.1:" + std::to_string(c.port())});
  EXPECT_EQ(sent.exit_code, 0) << sent.out;
  EXPECT_NE(sent.out.find("\"sent\":6"), std::string::npos) << sent.out;
  const int64_t after = NowMs();
  ASSERT_TRUE(c.Stop());

  std::vector<Json> records = c.Dump("raw-good");
  ASSERT_EQ(records.size(), 4u);  // three GETs, one POST batch of three
  std::set<std::string> get_events;
  int posts = 0;
  for (const Json& r : records) {
    ExpectCommonFields(*r, c.port(), before, after);
    EXPECT_NE(Str(*r, "userAgent"), "<absent>");
    std::string path = Str(*r, "path");
    std::vector<tracker::QueryParams> events;
    std::string app;
    if (path == "/i") {
      EXPECT_FALSE(r->HasMember("body"));
      events.push_back(tracker::ParseQueryString(Str(*r, "querystring")));
      app = "furrow-test-get";
    } else {
      ++posts;
      EXPECT_EQ(path, kTp2);
      EXPECT_EQ(Str(*r, "contentType").rfind("application/json", 0), 0u) << Str(*r, "contentType");
      rapidjson::Document body;
      std::string text = Str(*r, "body");
      body.Parse(text.c_str());
      ASSERT_FALSE(body.HasParseError()) << text;
      EXPECT_EQ(Str(body, "schema").rfind("iglu:com.snowplowanalytics.snowplow/payload_data/", 0),
                0u);
      ASSERT_TRUE(body["data"].IsArray());
      EXPECT_EQ(body["data"].Size(), 3u);
      for (const auto& e : body["data"].GetArray()) {
        tracker::QueryParams params;
        for (const auto& m : e.GetObject()) {
          params.emplace_back(m.name.GetString(), m.value.IsString() ? m.value.GetString() : "");
        }
        events.push_back(std::move(params));
      }
      app = "furrow-test-post";
    }
    for (const tracker::QueryParams& params : events) {
      std::map<std::string, std::string> e(params.begin(), params.end());
      EXPECT_EQ(e["aid"], app);
      EXPECT_EQ(e["uid"], "user-42");
      EXPECT_EQ(e["tv"].rfind("node-", 0), 0u) << e["tv"];
      EXPECT_FALSE(e["eid"].empty());
      EXPECT_FALSE(e["dtm"].empty());
      if (path == "/i") get_events.insert(e["e"]);
      if (e["e"] == "pv") {
        EXPECT_EQ(e["url"], "https://shop.example.com/products?id=7");
        EXPECT_EQ(e["page"], "Product 7");
        EXPECT_EQ(e["refr"], "https://search.example.org/?q=boots");
      } else if (e["e"] == "se") {
        EXPECT_EQ(e["se_ca"], "shop");
        EXPECT_EQ(e["se_ac"], "add-to-basket");
        EXPECT_EQ(e["se_la"], "sku-7");
        EXPECT_EQ(e["se_pr"], "size");
        EXPECT_EQ(e["se_va"], "2");
      } else {
        EXPECT_EQ(e["e"], "ue");
        EXPECT_NE(e["ue_pr"].find("iglu:com.acme/checkout/jsonschema/1-0-0"), std::string::npos)
            << e["ue_pr"];
      }
    }
  }
  EXPECT_EQ(posts, 1);
  EXPECT_EQ(get_events, (std::set<std::string>{"pv", "se", "ue"}));
}

std::string Metrics(int port) { return Http(port, "GET", "/metrics").body; }

TEST(CollectorIntegrationTest, BadInputGetsClearStatusesNoCrashAndMovesCounters) {
  Collector c;
  ASSERT_TRUE(c.Start({"--request-timeout", "1", "--max-payload-size", "1000",
                       "--drop-payload-size", "4000"}));
  const int port = c.port();

  // Unknown methods: 405 on a known path, 404 elsewhere.
  HttpReply brew = RawHttp(port, "BREW /i HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(brew.status, 405);
  EXPECT_EQ(RawHttp(port, "PATCH /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status,
            404);
  // Not HTTP at all.
  EXPECT_EQ(RawHttp(port, "\x01\x02\x03 garbage\r\n\r\n").status, 400);
  // Oversized request line and headers.
  EXPECT_EQ(Http(port, "GET", "/i?e=pv&x=" + std::string(30000, 'a')).status, 400);
  EXPECT_EQ(Http(port, "GET", "/i", {{"X-Big", std::string(50000, 'b')}}).status, 400);
  // Body over max payload size: 200 and a size_violation; over the drop size: 413.
  EXPECT_EQ(Http(port, "POST", kTp2, {{"Content-Type", "application/json"}}, std::string(2000, 'x'))
                .status,
            200);
  EXPECT_EQ(Http(port, "POST", kTp2, {{"Content-Type", "application/json"}}, std::string(5000, 'x'))
                .status,
            413);
  // Invalid UTF-8 in the query, headers and body is stored as it is.
  EXPECT_EQ(Http(port, "GET", "/i?e=pv&x=%FF%FE\xff", {{"User-Agent", "\xc3\x28"}}).status, 200);
  EXPECT_EQ(Http(port, "POST", kTp2, {}, "{\"data\":[\"\xff\"]}").status, 200);

  // Truncated request: headers never finish, the client gives up.
  {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /i HTTP/1.1\r\nHost: x\r\n"));
    shutdown(fd, SHUT_WR);
    HttpReply r = ReadReply(fd);
    EXPECT_TRUE(r.status == 0 || r.status == 400 || r.status == 408) << r.status;
    close(fd);
  }
  // Truncated body.
  {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, std::string("POST ") + kTp2 +
                                " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
    shutdown(fd, SHUT_WR);
    HttpReply r = ReadReply(fd);
    EXPECT_NE(r.status, 200);
    close(fd);
  }
  // Slow client: headers started but not finished within the request timeout -> 408.
  {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, "GET /i HTTP/1.1\r\nHost: x\r\n"));
    EXPECT_EQ(ReadReply(fd).status, 408);
    close(fd);
  }
  // Idle client: connects and says nothing; the server closes the connection.
  {
    int fd = Connect(port);
    ASSERT_GE(fd, 0);
    char byte;
    EXPECT_LE(recv(fd, &byte, 1, 0), 0);
    close(fd);
  }
  // Thousands of connections at once, each with one keep-alive request.
  {
    constexpr int kConnections = 2000;
    std::vector<int> fds;
    for (int i = 0; i < kConnections; ++i) {
      int fd = Connect(port);
      if (fd < 0) break;
      fds.push_back(fd);
    }
    EXPECT_EQ(fds.size(), static_cast<size_t>(kConnections));
    for (int fd : fds) SendAll(fd, "GET /i?e=pv&many=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    int ok = 0;
    for (int fd : fds) {
      if (ReadReply(fd).status == 200) ++ok;
      close(fd);
    }
    EXPECT_EQ(ok, kConnections);
  }

  // Still healthy, and every rejection was counted.
  EXPECT_EQ(Http(port, "GET", "/health").status, 200);
  std::string m = Metrics(port);
  EXPECT_GE(MetricValue(m, "furrow_collector_requests_total{route=\"pixel\",status=\"405\"}"), 1) << m;
  EXPECT_GE(MetricValue(m, "furrow_collector_requests_total{route=\"not_found\",status=\"404\"}"), 1);
  EXPECT_EQ(MetricValue(m, "furrow_collector_bad_rows_total{type=\"size_violation\"}"), 1);
  EXPECT_GE(MetricValue(m, "furrow_collector_http_rejected_total{reason=\"request_line_too_long\"}"), 1);
  EXPECT_GE(MetricValue(m, "furrow_collector_http_rejected_total{reason=\"headers_too_large\"}"), 1);
  EXPECT_GE(MetricValue(m, "furrow_collector_http_rejected_total{reason=\"body_too_large\"}"), 1);
  EXPECT_GE(MetricValue(m, "furrow_collector_http_rejected_total{reason=\"header_timeout\"}"), 1);
  EXPECT_GE(MetricValue(m, "furrow_collector_http_rejected_total{reason=\"bad_request\"}"), 1);
  EXPECT_GE(MetricValue(m, "furrow_collector_records_written_total{stream=\"raw-good\"}"), 2002);
  EXPECT_GE(MetricValue(m, "furrow_collector_commit_latency_seconds_count"), 2002);
  ASSERT_TRUE(c.Stop());

  std::vector<Json> bad = c.Dump("raw-bad");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(Str(*bad[0], "schema"),
            "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0");
}

TEST(CollectorIntegrationTest, ConfiguredFeaturesWorkThroughTheCommandLine) {
  Collector c;
  ASSERT_TRUE(c.Start({"--redirect-enabled", "true", "--redirect-allowed-host", "example.com",
                       "--crossdomain-enabled", "true", "--cookie-name", "uid",
                       "--cookie-domain", "example.com", "--dnt-cookie-name", "dnt",
                       "--dnt-cookie-value", "1", "--path-map", "/collect=" + std::string(kTp2)}));
  HttpReply redirect = Http(c.port(), "GET", "/r/tp2?u=https%3A%2F%2Fwww.example.com%2Fx");
  EXPECT_EQ(redirect.status, 302);
  EXPECT_EQ(redirect.Header("Location"), "https://www.example.com/x");
  EXPECT_EQ(Http(c.port(), "GET", "/r/tp2?u=https%3A%2F%2Fevil.org%2F").status, 400);
  EXPECT_EQ(Http(c.port(), "GET", "/crossdomain.xml").status, 200);
  HttpReply cookie = Http(c.port(), "GET", "/i?e=pv", {{"Origin", "https://www.example.com"}});
  ASSERT_TRUE(cookie.Header("Set-Cookie").has_value());
  EXPECT_EQ(cookie.Header("Set-Cookie")->rfind("uid=", 0), 0u);
  EXPECT_NE(cookie.Header("Set-Cookie")->find("; Domain=example.com;"), std::string::npos);
  EXPECT_EQ(Http(c.port(), "GET", "/i?e=pv&dnt=yes", {{"Cookie", "dnt=1"}}).status, 200);
  EXPECT_EQ(Http(c.port(), "POST", "/collect", {}, "{\"data\":[]}").status, 200);
  ASSERT_TRUE(c.Stop());
  std::vector<Json> records = c.Dump("raw-good");
  ASSERT_EQ(records.size(), 3u);  // redirect, pixel, mapped POST; not the DNT request
  EXPECT_EQ(Str(*records[0], "path"), "/r/tp2");
  EXPECT_EQ(Str(*records[1], "path"), "/i");
  EXPECT_EQ(Str(*records[2], "path"), kTp2);
}

TEST(CollectorIntegrationTest, CookieBounceThroughTheCommandLine) {
  Collector c;
  ASSERT_TRUE(c.Start({"--cookie-bounce-enabled", "true", "--cookie-bounce-forwarded-protocol-header",
                       "X-Forwarded-Proto"}));
  HttpReply bounce = Http(c.port(), "GET", "/i?e=pv&aid=web", {{"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(bounce.status, 302);
  EXPECT_EQ(bounce.Header("Location"),
            "https://127.0.0.1:" + std::to_string(c.port()) + "/i?e=pv&aid=web&n3pc=true");
  ASSERT_TRUE(bounce.Header("Set-Cookie").has_value());
  const std::string set_cookie = *bounce.Header("Set-Cookie");
  const std::string nuid = set_cookie.substr(3, set_cookie.find(';') - 3);  // "sp=<id>; ..."
  EXPECT_EQ(Http(c.port(), "GET", "/i?e=pv&aid=web&n3pc=true", {{"Cookie", "sp=" + nuid}}).status, 200);
  EXPECT_EQ(Http(c.port(), "GET", "/i?e=pv&aid=web&n3pc=true").status, 200);
  HttpReply metrics = Http(c.port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("furrow_collector_cookie_bounces_total 1"), std::string::npos);
  ASSERT_TRUE(c.Stop());
  std::vector<Json> records = c.Dump("raw-good");
  ASSERT_EQ(records.size(), 2u);  // the bounce itself stores nothing
  EXPECT_EQ(Str(*records[0], "networkUserId"), nuid);
  EXPECT_EQ(Str(*records[1], "networkUserId"), "00000000-0000-4000-A000-000000000000");
}

}  // namespace
}  // namespace furrow::testing
