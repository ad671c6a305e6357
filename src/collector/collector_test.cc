#include "collector/collector.h"

#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

#include "collector/test_support.h"
#include "core/version.h"
#include "tracker/collector_payload.h"

namespace furrow::collector {
namespace {

using testing::CapturingResponder;
using testing::CountingRandomSource;
using testing::FakeProducer;
using tracker::CollectorPayload;

// The first UUID CountingRandomSource yields (bytes 00..0f, version and variant set).
constexpr char kFirstUuid[] = "00010203-0405-4607-8809-0a0b0c0d0e0f";
constexpr char kTp2Body[] =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\","
    "\"data\":[{\"e\":\"pv\",\"tv\":\"js-3\",\"p\":\"web\"}]}";

class CollectorTest : public ::testing::Test {
 protected:
  void Make(CollectorOptions options = {}) {
    Result<std::unique_ptr<Collector>> c =
        Collector::Create(std::move(options), {&good_, &bad_, &clock_, &random_, &metrics_});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    collector_ = std::move(*c);
  }

  std::shared_ptr<CapturingResponder> Request(std::string method, std::string target,
                                              net::HeaderList headers = {},
                                              std::string body = "") {
    if (!collector_) Make();
    net::HttpRequest req;
    req.method = std::move(method);
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q == std::string::npos ? "" : target.substr(q + 1);
    req.headers = std::move(headers);
    req.body = std::move(body);
    req.remote_address = "198.51.100.7";
    req.remote_port = 40000;
    auto responder = std::make_shared<CapturingResponder>();
    collector_->Handle(std::move(req), responder);
    return responder;
  }

  std::vector<CollectorPayload> GoodPayloads() const {
    std::vector<CollectorPayload> out;
    for (const std::string& r : good_.records()) {
      Result<CollectorPayload> p = tracker::DecodeCollectorPayload(r);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (p.ok()) out.push_back(std::move(*p));
    }
    return out;
  }

  CollectorPayload OnlyPayload() const {
    std::vector<CollectorPayload> all = GoodPayloads();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? CollectorPayload() : all.front();
  }

  uint64_t CounterValue(std::string_view name, const MetricLabels& labels = {}) {
    return metrics_.GetCounter(name, "", labels).Value();
  }

  uint64_t Requests(const char* route, const char* status) {
    return CounterValue("furrow_collector_requests_total", {{"route", route}, {"status", status}});
  }

  FakeProducer good_;
  FakeProducer bad_;
  ManualClock clock_;
  CountingRandomSource random_;
  MetricsRegistry metrics_;
  std::unique_ptr<Collector> collector_;
};

TEST_F(CollectorTest, PixelGetStoresEveryFieldAndAnswersGif) {
  auto r = Request("GET", "/i?e=pv&url=https%3A%2F%2Fshop.example.com%2F&aid=shop",
                   {{"Host", "c.example.com:8080"},
                    {"User-Agent", "Mozilla/5.0 (X11)"},
                    {"Referer", "https://shop.example.com/"},
                    {"X-Forwarded-For", "203.0.113.9"},
                    {"Accept", "*/*"}});
  ASSERT_TRUE(r->sent());
  net::HttpResponse resp = r->response();
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.body, std::string(PixelGif()));
  EXPECT_EQ(resp.body.size(), 43u);
  EXPECT_EQ(r->Header("Content-Type"), "image/gif");
  EXPECT_EQ(r->Header("Cache-Control"), "no-cache, no-store, must-revalidate");

  CollectorPayload p = OnlyPayload();
  EXPECT_EQ(p.schema, tracker::kCollectorPayloadSchema);
  EXPECT_EQ(p.ip_address, "198.51.100.7");
  EXPECT_EQ(p.timestamp_ms, clock_.NowMillis());
  EXPECT_EQ(p.encoding, "UTF-8");
  EXPECT_EQ(p.collector, std::string("furrow-") + kVersion + "-file");
  EXPECT_EQ(p.user_agent, "Mozilla/5.0 (X11)");
  EXPECT_EQ(p.referer_uri, "https://shop.example.com/");
  EXPECT_EQ(p.path, "/i");
  EXPECT_EQ(p.querystring, "e=pv&url=https%3A%2F%2Fshop.example.com%2F&aid=shop");
  EXPECT_FALSE(p.body.has_value());
  EXPECT_FALSE(p.content_type.has_value());
  EXPECT_EQ(p.hostname, "c.example.com");
  EXPECT_EQ(p.network_user_id, kFirstUuid);
  ASSERT_TRUE(p.headers.has_value());
  EXPECT_EQ(*p.headers, (std::vector<std::string>{"Host: c.example.com:8080",
                                                  "User-Agent: Mozilla/5.0 (X11)",
                                                  "Referer: https://shop.example.com/",
                                                  "X-Forwarded-For: 203.0.113.9",
                                                  "Accept: */*"}));
  EXPECT_EQ(Requests("pixel", "200"), 1u);
  EXPECT_EQ(CounterValue("furrow_collector_records_written_total", {{"stream", "raw-good"}}), 1u);
}

TEST_F(CollectorTest, UsesInjectedClockForTimestamp) {
  Make();
  clock_.SetWall(WallTime(std::chrono::milliseconds(1800000000555)));
  Request("GET", "/i?e=pv");
  EXPECT_EQ(OnlyPayload().timestamp_ms, 1800000000555);
}

TEST_F(CollectorTest, HeadPixelIsStored) {
  auto r = Request("HEAD", "/ice.png?e=pv");
  EXPECT_EQ(r->response().status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "image/gif");
  EXPECT_EQ(OnlyPayload().path, "/ice.png");
}

TEST_F(CollectorTest, AnyTwoSegmentPathIsStoredOnGet) {
  auto r = Request("GET", "/com.acme/v7?x=1");
  EXPECT_EQ(r->response().status, 200);
  EXPECT_EQ(r->Header("Content-Type"), "image/gif");
  EXPECT_EQ(OnlyPayload().path, "/com.acme/v7");
}

TEST_F(CollectorTest, PostTp2StoresBodyWithContentTypeLast) {
  auto r = Request("POST", "/com.snowplowanalytics.snowplow/tp2",
                   {{"Host", "c.example.com"},
                    {"Content-Type", "application/json; charset=utf-8"},
                    {"Content-Length", "100"},
                    {"Origin", "https://shop.example.com"}},
                   kTp2Body);
  ASSERT_TRUE(r->sent());
  EXPECT_EQ(r->response().status, 200);
  EXPECT_EQ(r->response().body, "ok");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain; charset=utf-8");
  CollectorPayload p = OnlyPayload();
  EXPECT_EQ(p.body, kTp2Body);
  EXPECT_EQ(p.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(p.path, "/com.snowplowanalytics.snowplow/tp2");
  EXPECT_FALSE(p.querystring.has_value());
  ASSERT_TRUE(p.headers.has_value());
  EXPECT_EQ(*p.headers, (std::vector<std::string>{
                            "Host: c.example.com", "Origin: https://shop.example.com",
                            "Content-Type: application/json; charset=utf-8"}));
  EXPECT_EQ(CounterValue("furrow_collector_bytes_received_total"), sizeof(kTp2Body) - 1);
}

TEST_F(CollectorTest, AnswersOnlyAfterRecordIsDurable) {
  Make();
  good_.HoldCallbacks(true);
  auto r = Request("POST", "/com.snowplowanalytics.snowplow/tp2", {}, kTp2Body);
  EXPECT_FALSE(r->sent());
  good_.Release();
  ASSERT_TRUE(r->sent());
  EXPECT_EQ(r->sends(), 1);
  EXPECT_EQ(r->response().status, 200);
  EXPECT_EQ(good_.records().size(), 1u);
}

TEST_F(CollectorTest, FullStreamAnswers503WithRetryAfter) {
  Make();
  good_.FailWith(ResourceExhaustedError("budget full"));
  auto r = Request("GET", "/i?e=pv", {{"Origin", "https://a.example"}});
  ASSERT_TRUE(r->sent());
  EXPECT_EQ(r->response().status, 503);
  EXPECT_EQ(r->Header("Retry-After"), "5");
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_FALSE(r->Header("Set-Cookie").has_value());
  EXPECT_EQ(CounterValue("furrow_collector_unavailable_total", {{"reason", "resource_exhausted"}}), 1u);
  EXPECT_EQ(Requests("pixel", "503"), 1u);
}

TEST_F(CollectorTest, DiskErrorAnswers503CountedAsOther) {
  Make();
  good_.FailWith(IoError("disk gone"));
  auto r = Request("POST", "/com.snowplowanalytics.snowplow/tp2", {}, kTp2Body);
  EXPECT_EQ(r->response().status, 503);
  EXPECT_EQ(CounterValue("furrow_collector_unavailable_total", {{"reason", "other"}}), 1u);
}

TEST_F(CollectorTest, PreflightEchoesOriginOnAnyPath) {
  auto r = Request("OPTIONS", "/com.snowplowanalytics.snowplow/tp2",
                   {{"Origin", "https://shop.example.com"}});
  EXPECT_EQ(r->response().status, 200);
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://shop.example.com");
  EXPECT_EQ(r->Header("Access-Control-Allow-Credentials"), "true");
  EXPECT_EQ(r->Header("Access-Control-Allow-Headers"), "Content-Type, SP-Anonymous");
  EXPECT_EQ(r->Header("Access-Control-Max-Age"), "3600");
  auto any = Request("OPTIONS", "/not/a/known/path");
  EXPECT_EQ(any->response().status, 200);
  EXPECT_EQ(any->Header("Access-Control-Allow-Origin"), "*");
  EXPECT_TRUE(good_.records().empty());
}

TEST_F(CollectorTest, NormalResponsesCarryCorsHeaders) {
  auto r = Request("GET", "/i", {{"Origin", "https://x.example"}});
  EXPECT_EQ(r->Header("Access-Control-Allow-Origin"), "https://x.example");
  EXPECT_EQ(r->Header("Access-Control-Allow-Credentials"), "true");
  auto star = Request("GET", "/i");
  EXPECT_EQ(star->Header("Access-Control-Allow-Origin"), "*");
}

TEST_F(CollectorTest, UnknownPathsAre404AndWrongMethods405) {
  EXPECT_EQ(Request("GET", "/")->response().status, 404);
  EXPECT_EQ(Request("GET", "/a/b/c")->response().status, 404);
  EXPECT_EQ(Request("GET", "/a//")->response().status, 404);
  EXPECT_EQ(Request("BREW", "/coffee")->response().status, 404);
  auto put = Request("PUT", "/i");
  EXPECT_EQ(put->response().status, 405);
  EXPECT_EQ(put->Header("Allow"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(Request("POST", "/i", {}, "x")->response().status, 405);
  auto del = Request("DELETE", "/com.snowplowanalytics.snowplow/tp2");
  EXPECT_EQ(del->response().status, 405);
  EXPECT_EQ(del->Header("Allow"), "GET, HEAD, POST, OPTIONS");
  EXPECT_EQ(Request("POST", "/health")->response().status, 405);
  EXPECT_TRUE(good_.records().empty());
  EXPECT_EQ(Requests("not_found", "404"), 4u);
}

TEST_F(CollectorTest, ServesHealthRobotsAndMetrics) {
  auto health = Request("GET", "/health");
  EXPECT_EQ(health->response().status, 200);
  EXPECT_EQ(health->response().body, "ok");
  auto robots = Request("GET", "/robots.txt");
  EXPECT_EQ(robots->response().body, "User-agent: *\nDisallow: /\n");
  auto metrics = Request("GET", "/metrics");
  EXPECT_EQ(metrics->response().status, 200);
  EXPECT_NE(metrics->response().body.find(
                "furrow_collector_requests_total{route=\"health\",status=\"200\"} 1"),
            std::string::npos)
      << metrics->response().body;
  EXPECT_TRUE(good_.records().empty());
}

TEST_F(CollectorTest, SinkHealthFollowsStreamWritability) {
  Make();
  EXPECT_EQ(Request("GET", "/sink-health")->response().status, 200);
  good_.set_writable(false);
  EXPECT_EQ(Request("GET", "/sink-health")->response().status, 503);
}

TEST_F(CollectorTest, CrossdomainIsOffByDefault) {
  EXPECT_EQ(Request("GET", "/crossdomain.xml")->response().status, 404);
}

TEST_F(CollectorTest, CrossdomainServesConfiguredDomains) {
  CollectorOptions o;
  o.crossdomain_enabled = true;
  o.crossdomain_domains = {"*.example.com"};
  o.crossdomain_secure = false;
  Make(o);
  auto r = Request("GET", "/crossdomain.xml");
  EXPECT_EQ(r->response().status, 200);
  EXPECT_NE(r->response().body.find("<allow-access-from domain=\"*.example.com\" secure=\"false\" />"),
            std::string::npos);
}

TEST_F(CollectorTest, RedirectIsOffByDefault) {
  EXPECT_EQ(Request("GET", "/r/tp2?u=https%3A%2F%2Fexample.com%2F")->response().status, 404);
  EXPECT_TRUE(good_.records().empty());
}

TEST_F(CollectorTest, RedirectsToAllowedHostAndStoresTheClick) {
  CollectorOptions o;
  o.redirect_enabled = true;
  o.redirect_allowed_hosts = {"example.com"};
  Make(o);
  auto r = Request("GET", "/r/tp2?u=https%3A%2F%2Fwww.example.com%2Fland%3Fid%3D%24%7BSP_NUID%7D");
  EXPECT_EQ(r->response().status, 302);
  EXPECT_EQ(r->Header("Location"), std::string("https://www.example.com/land?id=") + kFirstUuid);
  CollectorPayload p = OnlyPayload();
  EXPECT_EQ(p.path, "/r/tp2");
  EXPECT_EQ(Requests("redirect", "302"), 1u);
}

TEST_F(CollectorTest, RedirectRejectsBadOrForeignTargets) {
  CollectorOptions o;
  o.redirect_enabled = true;
  o.redirect_allowed_hosts = {"example.com"};
  Make(o);
  EXPECT_EQ(Request("GET", "/r/tp2")->response().status, 400);
  EXPECT_EQ(Request("GET", "/r/tp2?u=")->response().status, 400);
  EXPECT_EQ(Request("GET", "/r/tp2?u=javascript%3Aalert(1)")->response().status, 400);
  EXPECT_EQ(Request("GET", "/r/tp2?u=https%3A%2F%2Fevil.com%2F")->response().status, 400);
  EXPECT_EQ(Request("GET", "/r/tp2?u=https%3A%2F%2Fnotexample.com%2F")->response().status, 400);
  EXPECT_EQ(Request("GET", "/r/tp2?u=https%3A%2F%2Fexample.com%0D%0AX:%201")->response().status, 400);
  EXPECT_TRUE(good_.records().empty());
}

TEST_F(CollectorTest, NuidQueryParameterWinsOverCookie) {
  auto r = Request("GET", "/i?e=pv&nuid=from-query", {{"Cookie", "sp=from-cookie"}});
  EXPECT_EQ(OnlyPayload().network_user_id, "from-query");
  ASSERT_TRUE(r->Header("Set-Cookie").has_value());
  EXPECT_TRUE(r->Header("Set-Cookie")->starts_with("sp=from-query;"));
}

TEST_F(CollectorTest, CookieWinsOverFreshId) {
  auto r = Request("GET", "/i?e=pv", {{"Cookie", "a=1; sp=from-cookie; b=2"}});
  EXPECT_EQ(OnlyPayload().network_user_id, "from-cookie");
  EXPECT_TRUE(r->Header("Set-Cookie")->starts_with("sp=from-cookie;"));
}

TEST_F(CollectorTest, FreshIdIsUuidV4FromInjectedRandomness) {
  auto r = Request("GET", "/i?e=pv");
  EXPECT_EQ(OnlyPayload().network_user_id, kFirstUuid);
  // 1700000000000 ms + 365 days.
  EXPECT_EQ(r->Header("Set-Cookie"),
            std::string("sp=") + kFirstUuid +
                "; Expires=Wed, 13 Nov 2024 22:13:20 GMT; Max-Age=31536000; Path=/; Secure; "
                "HttpOnly; SameSite=None");
}

TEST_F(CollectorTest, CookieDomainFollowsOrigin) {
  CollectorOptions o;
  o.cookie.name = "nuid_c";
  o.cookie.domains = {"acme.com", "example.com"};
  o.cookie.fallback_domain = "fallback.org";
  Make(o);
  auto r = Request("GET", "/i", {{"Origin", "https://shop.example.com"}});
  EXPECT_NE(r->Header("Set-Cookie")->find("; Domain=example.com;"), std::string::npos);
  EXPECT_TRUE(r->Header("Set-Cookie")->starts_with("nuid_c="));
  auto other = Request("GET", "/i", {{"Origin", "https://other.net"}});
  EXPECT_NE(other->Header("Set-Cookie")->find("; Domain=fallback.org;"), std::string::npos);
}

TEST_F(CollectorTest, NoCookieWhenDisabled) {
  CollectorOptions o;
  o.cookie.enabled = false;
  Make(o);
  auto r = Request("GET", "/i", {{"Cookie", "sp=abc"}});
  EXPECT_FALSE(r->Header("Set-Cookie").has_value());
  EXPECT_EQ(OnlyPayload().network_user_id, kFirstUuid);
}

TEST_F(CollectorTest, AnonymousRequestsStoreNoIdentity) {
  auto r = Request("POST", "/com.snowplowanalytics.snowplow/tp2?nuid=q",
                   {{"SP-Anonymous", "*"},
                    {"X-Forwarded-For", "203.0.113.9"},
                    {"X-Real-Ip", "203.0.113.9"},
                    {"User-Agent", "UA"}},
                   kTp2Body);
  EXPECT_EQ(r->response().status, 200);
  EXPECT_FALSE(r->Header("Set-Cookie").has_value());
  CollectorPayload p = OnlyPayload();
  EXPECT_EQ(p.ip_address, "unknown");
  EXPECT_EQ(p.network_user_id, kAnonymousNuid);
  EXPECT_EQ(*p.headers, (std::vector<std::string>{"SP-Anonymous: *", "User-Agent: UA"}));
}

TEST_F(CollectorTest, AnonymousRequestExpiresExistingCookie) {
  auto r = Request("GET", "/i", {{"SP-Anonymous", "1"}, {"Cookie", "sp=old; other=x"}});
  ASSERT_TRUE(r->Header("Set-Cookie").has_value());
  EXPECT_TRUE(r->Header("Set-Cookie")->starts_with("sp=; Expires=Thu, 01 Jan 1970"));
  CollectorPayload p = OnlyPayload();
  EXPECT_EQ(p.network_user_id, kAnonymousNuid);
  for (const std::string& h : *p.headers) EXPECT_FALSE(h.starts_with("Cookie")) << h;
}

TEST_F(CollectorTest, DoNotTrackCookieStoresNothing) {
  CollectorOptions o;
  o.dnt_cookie_name = "dnt";
  o.dnt_cookie_value = "(1|yes)";
  Make(o);
  auto r = Request("GET", "/i?e=pv", {{"Cookie", "dnt=yes"}});
  EXPECT_EQ(r->response().status, 200);
  EXPECT_EQ(r->response().body, std::string(PixelGif()));
  EXPECT_FALSE(r->Header("Set-Cookie").has_value());
  EXPECT_TRUE(good_.records().empty());
  EXPECT_EQ(CounterValue("furrow_collector_do_not_track_total"), 1u);
  // A value that does not match fully is tracked.
  Request("GET", "/i?e=pv", {{"Cookie", "dnt=yesplease"}});
  EXPECT_EQ(good_.records().size(), 1u);
}

TEST_F(CollectorTest, CookieBounceRedirectsOnceThenStoresUnderTheFallbackId) {
  CollectorOptions o;
  o.cookie_bounce.enabled = true;
  o.cookie_bounce.forwarded_protocol_header = "X-Forwarded-Proto";
  Make(o);
  // No cookie: 302 back to the same URL with n3pc=true and a cookie; nothing stored.
  auto first = Request("GET", "/i?e=pv&aid=shop", {{"Host", "c.example.com"}, {"X-Forwarded-Proto", "https"}});
  EXPECT_EQ(first->response().status, 302);
  EXPECT_EQ(first->Header("Location"), "https://c.example.com/i?e=pv&aid=shop&n3pc=true");
  ASSERT_TRUE(first->Header("Set-Cookie").has_value());
  EXPECT_TRUE(first->Header("Set-Cookie")->starts_with(std::string("sp=") + kFirstUuid + ";"));
  EXPECT_TRUE(first->response().body.empty());
  EXPECT_TRUE(first->HeaderValues("Content-Type").empty());
  EXPECT_EQ(first->HeaderValues("Cache-Control").size(), 1u);
  EXPECT_TRUE(good_.records().empty());
  EXPECT_EQ(CounterValue("furrow_collector_cookie_bounces_total"), 1u);
  EXPECT_EQ(Requests("pixel", "302"), 1u);

  // The browser came back with the cookie: stored under it, no second bounce.
  auto with_cookie = Request("GET", "/i?e=pv&aid=shop&n3pc=true",
                             {{"Cookie", std::string("sp=") + kFirstUuid}});
  EXPECT_EQ(with_cookie->response().status, 200);
  EXPECT_EQ(OnlyPayload().network_user_id, kFirstUuid);

  // The browser refused the cookie: stored under the fallback id, which is never set.
  auto refused = Request("GET", "/i?e=pv&aid=shop&n3pc=true");
  EXPECT_EQ(refused->response().status, 200);
  EXPECT_EQ(refused->response().body, std::string(PixelGif()));
  EXPECT_FALSE(refused->Header("Set-Cookie").has_value());
  std::vector<CollectorPayload> stored = GoodPayloads();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].network_user_id, "00000000-0000-4000-A000-000000000000");
  EXPECT_EQ(CounterValue("furrow_collector_cookie_bounces_total"), 1u);
}

TEST_F(CollectorTest, CookieBounceOnlyForPixelRequestsWithoutAnId) {
  CollectorOptions o;
  o.cookie_bounce.enabled = true;
  Make(o);
  // No Host header: a relative Location; the vendor GET path is a pixel too.
  auto vendor = Request("GET", "/com.snowplowanalytics.snowplow/tp2");
  EXPECT_EQ(vendor->response().status, 302);
  EXPECT_EQ(vendor->Header("Location"), "/com.snowplowanalytics.snowplow/tp2?n3pc=true");
  // POST, an nuid parameter, SP-Anonymous and an existing cookie are never bounced.
  EXPECT_EQ(Request("POST", "/com.snowplowanalytics.snowplow/tp2", {}, kTp2Body)->response().status, 200);
  EXPECT_EQ(Request("GET", "/i?e=pv&nuid=abc")->response().status, 200);
  EXPECT_EQ(Request("GET", "/i?e=pv", {{"SP-Anonymous", "*"}})->response().status, 200);
  EXPECT_EQ(Request("GET", "/i?e=pv", {{"Cookie", "sp=abc"}})->response().status, 200);
  EXPECT_EQ(good_.records().size(), 4u);
  EXPECT_EQ(CounterValue("furrow_collector_cookie_bounces_total"), 1u);
}

TEST_F(CollectorTest, RejectsInvalidOptions) {
  CollectorOptions bad_regex;
  bad_regex.dnt_cookie_name = "dnt";
  bad_regex.dnt_cookie_value = "(";
  EXPECT_EQ(Collector::Create(bad_regex, {&good_, &bad_, &clock_, &random_, &metrics_}).status().code(),
            StatusCode::kInvalidArgument);
  CollectorOptions bad_map;
  bad_map.path_map = {{"/custom", "/not/standard"}};
  EXPECT_EQ(Collector::Create(bad_map, {&good_, &bad_, &clock_, &random_, &metrics_}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(Collector::Create({}, {}).ok());
}

TEST_F(CollectorTest, CustomPathIsMappedAndMappedPathStored) {
  CollectorOptions o;
  o.path_map = {{"/collect", kTp2Path}, {"/go", kRedirectPath}};
  o.redirect_enabled = true;
  o.redirect_allowed_hosts = {"*"};
  Make(o);
  EXPECT_EQ(Request("POST", "/collect", {}, kTp2Body)->response().status, 200);
  EXPECT_EQ(Request("GET", "/go?u=http%3A%2F%2Fanywhere.net%2F")->response().status, 302);
  std::vector<CollectorPayload> all = GoodPayloads();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].path, kTp2Path);
  EXPECT_EQ(all[1].path, kRedirectPath);
}

TEST_F(CollectorTest, OversizedBodyBecomesSizeViolationButClientGets200) {
  CollectorOptions o;
  o.max_payload_bytes = 100;
  Make(o);
  std::string body(150, 'x');
  auto r = Request("POST", "/com.snowplowanalytics.snowplow/tp2", {}, body);
  EXPECT_EQ(r->response().status, 200);
  EXPECT_TRUE(good_.records().empty());
  ASSERT_EQ(bad_.records().size(), 1u);
  rapidjson::Document doc;
  doc.Parse(bad_.records()[0].c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["schema"].GetString(),
               "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0");
  EXPECT_EQ(doc["data"]["failure"]["maximumAllowedSizeBytes"].GetInt(), 100);
  EXPECT_EQ(doc["data"]["failure"]["actualSizeBytes"].GetInt(), 150);
  EXPECT_EQ(std::string(doc["data"]["payload"].GetString()), std::string(10, 'x'));
  EXPECT_EQ(CounterValue("furrow_collector_bad_rows_total", {{"type", "size_violation"}}), 1u);
}

std::string EventJson(int i, size_t padding) {
  return "{\"e\":\"se\",\"se_ca\":\"c" + std::to_string(i) + "\",\"pad\":\"" +
         std::string(padding, 'p') + "\"}";
}

TEST_F(CollectorTest, SplitsLargePostByDataArray) {
  FakeProducer small_good(1200);
  Result<std::unique_ptr<Collector>> c =
      Collector::Create({}, {&small_good, &bad_, &clock_, &random_, &metrics_});
  ASSERT_TRUE(c.ok());
  std::string body = "{\"schema\":\"iglu:s/payload_data/jsonschema/1-0-4\",\"data\":[";
  std::vector<std::string> events;
  for (int i = 0; i < 20; ++i) {
    events.push_back(EventJson(i, 150));
    if (i > 0) body += ",";
    body += events.back();
  }
  events.push_back(EventJson(99, 3000));  // too large alone
  body += "," + events.back() + "]}";

  net::HttpRequest req;
  req.method = "POST";
  req.path = req.target = kTp2Path;
  req.body = body;
  req.remote_address = "127.0.0.1";
  auto responder = std::make_shared<CapturingResponder>();
  (*c)->Handle(std::move(req), responder);
  EXPECT_EQ(responder->response().status, 200);

  std::vector<std::string> seen;
  ASSERT_GT(small_good.records().size(), 2u);
  for (const std::string& record : small_good.records()) {
    EXPECT_LE(record.size(), 1200u);
    Result<CollectorPayload> p = tracker::DecodeCollectorPayload(record);
    ASSERT_TRUE(p.ok());
    rapidjson::Document doc;
    doc.Parse(p->body->c_str());
    ASSERT_FALSE(doc.HasParseError());
    EXPECT_STREQ(doc["schema"].GetString(), "iglu:s/payload_data/jsonschema/1-0-4");
    for (const auto& e : doc["data"].GetArray()) {
      seen.push_back(std::string("c") + e["se_ca"].GetString());
    }
  }
  ASSERT_EQ(seen.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(seen[i], "cc" + std::to_string(i));
  ASSERT_EQ(bad_.records().size(), 1u);
  EXPECT_NE(bad_.records()[0].find("size_violation"), std::string::npos);
  EXPECT_EQ(CounterValue("furrow_collector_split_requests_total"), 1u);
}

TEST_F(CollectorTest, OversizedGetBecomesSizeViolation) {
  FakeProducer small_good(300);
  Result<std::unique_ptr<Collector>> c =
      Collector::Create({}, {&small_good, &bad_, &clock_, &random_, &metrics_});
  ASSERT_TRUE(c.ok());
  net::HttpRequest req;
  req.method = "GET";
  req.path = "/i";
  req.query = "e=pv&page=" + std::string(500, 'a');
  auto responder = std::make_shared<CapturingResponder>();
  (*c)->Handle(std::move(req), responder);
  EXPECT_EQ(responder->response().status, 200);
  EXPECT_TRUE(small_good.records().empty());
  ASSERT_EQ(bad_.records().size(), 1u);
  EXPECT_NE(bad_.records()[0].find("size_violation"), std::string::npos);
}

TEST_F(CollectorTest, UnsplittableLargePostBecomesSizeViolation) {
  FakeProducer small_good(300);
  Result<std::unique_ptr<Collector>> c =
      Collector::Create({}, {&small_good, &bad_, &clock_, &random_, &metrics_});
  ASSERT_TRUE(c.ok());
  net::HttpRequest req;
  req.method = "POST";
  req.path = kTp2Path;
  req.body = std::string(600, '{');
  auto responder = std::make_shared<CapturingResponder>();
  (*c)->Handle(std::move(req), responder);
  EXPECT_EQ(responder->response().status, 200);
  EXPECT_TRUE(small_good.records().empty());
  EXPECT_EQ(bad_.records().size(), 1u);
}

TEST_F(CollectorTest, StoresInvalidUtf8BytesUnchanged) {
  std::string body = "{\"data\":[\"\xff\xfe\"]}";
  Request("POST", kTp2Path, {{"User-Agent", "\xc3\x28"}}, body);
  CollectorPayload p = OnlyPayload();
  EXPECT_EQ(p.body, body);
  EXPECT_EQ(p.user_agent, "\xc3\x28");
}

}  // namespace
}  // namespace furrow::collector
