#include "receiver/receiver.h"

#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include "ping/test_servers.h"
#include "receiver/sqlite_ping_store.h"

namespace furrow::receiver {
namespace {

class CapturingResponder final : public net::Responder {
 public:
  void Send(net::HttpResponse response) override { promise_.set_value(std::move(response)); }
  std::future<net::HttpResponse> future() { return promise_.get_future(); }

 private:
  std::promise<net::HttpResponse> promise_;
};

std::string Header(const net::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class ReceiverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenSqlitePingStore(dir_.path() + "/receiver.sqlite");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ReceiverOptions options;
    options.tokens = {"s3cret-token"};
    options.worker_threads = 2;
    receiver_ = std::make_unique<Receiver>(options, store_.get(), &clock_, &metrics_);
  }

  net::HttpResponse Call(const std::string& method, const std::string& target, const std::string& body = "",
                         const std::string& content_type = "application/json", net::HeaderList extra = {}) {
    net::HttpRequest request;
    request.method = method;
    request.target = target;
    size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) request.query = target.substr(q + 1);
    if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
    for (auto& h : extra) request.headers.push_back(h);
    request.body = body;
    request.remote_address = "192.0.2.7";
    auto responder = std::make_shared<CapturingResponder>();
    auto future = responder->future();
    receiver_->Handle(std::move(request), responder);
    return future.get();
  }

  int64_t PingCount() {
    auto installations = store_->ListInstallations();
    EXPECT_TRUE(installations.ok());
    int64_t n = 0;
    for (const auto& i : *installations) n += i.ping_count;
    return n;
  }

  uint64_t Rejected(const std::string& reason) {
    return metrics_.GetCounter("furrow_receiver_rejected_total", "Requests rejected, by reason", {{"reason", reason}})
        .Value();
  }

  ping::testing::TempDir dir_;
  ManualClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<PingStore> store_;
  std::unique_ptr<Receiver> receiver_;
};

std::string ExamplePayload() {
  std::ifstream in("../shared/data/gitlab/payloads/service_ping_example.json", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(ReceiverTest, StoresGitlabExampleAndAnswersConvIndex) {
  net::HttpResponse r = Call("POST", "/usage_data", ExamplePayload());
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body, R"({"conv_index":{"usage_data_id":1}})");
  EXPECT_EQ(PingCount(), 1);
  auto pings = store_->ListPings("0000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(pings.ok());
  ASSERT_EQ(pings->size(), 1u);
  EXPECT_EQ((*pings)[0].version, "12.10.0-pre");
}

TEST_F(ReceiverTest, RepeatedPingAnswersTheExistingId) {
  ASSERT_EQ(Call("POST", "/usage_data", ExamplePayload()).status, 201);
  net::HttpResponse again = Call("POST", "/usage_data", ExamplePayload());
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, R"({"conv_index":{"usage_data_id":1}})");
  EXPECT_EQ(PingCount(), 1);
}

TEST_F(ReceiverTest, RejectsBadInputAndStoresNothing) {
  struct Case {
    std::string body;
    std::string content_type;
    int status;
    std::string reason;
    std::string says;
  };
  std::string deep = R"({"uuid":"u","recorded_at":"r","x":)" + std::string(100, '[') + std::string(100, ']') + "}";
  std::vector<Case> cases = {
      {"not json at all", "application/json", 400, "malformed", "not JSON"},
      {R"(["uuid","recorded_at"])", "application/json", 400, "malformed", "not a JSON object"},
      {R"({"recorded_at":"2026-01-01"})", "application/json", 422, "invalid", "uuid"},
      {R"({"uuid":"u"})", "application/json", 422, "invalid", "recorded_at"},
      {deep, "application/json", 400, "malformed", "deeper than 64"},
      {R"({"uuid":"u","recorded_at":"r"})", "text/plain", 415, "content_type", "application/json"},
      {R"({"uuid":"u","recorded_at":"r"})", "", 415, "content_type", "application/json"},
  };
  for (const Case& c : cases) {
    uint64_t before = Rejected(c.reason);
    net::HttpResponse r = Call("POST", "/usage_data", c.body, c.content_type);
    EXPECT_EQ(r.status, c.status) << c.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << r.body;
    EXPECT_EQ(Rejected(c.reason), before + 1) << c.reason;
  }
  EXPECT_EQ(PingCount(), 0);
}

TEST_F(ReceiverTest, AcceptsJsonContentTypeWithCharset) {
  net::HttpResponse r =
      Call("POST", "/usage_data", R"({"uuid":"u","recorded_at":"r"})", "Application/JSON; charset=utf-8");
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(ReceiverTest, StoresMetadataAndErrors) {
  net::HttpResponse m = Call("POST", "/usage_ping_metadata",
                             R"({"metadata":{"uuid":"u","metrics":[{"name":"counts.x","time_elapsed":0.2,"error":null}]}})");
  EXPECT_EQ(m.status, 201) << m.body;
  net::HttpResponse e = Call("POST", "/usage_ping_errors",
                             R"({"error":{"time":"t","uuid":"u","hostname":"h","version":"1","message":"m","elapsed":2}})");
  EXPECT_EQ(e.status, 201) << e.body;
  EXPECT_EQ(Call("POST", "/usage_ping_errors", R"({"nothing":1})").status, 422);
  int rows = 0;
  ASSERT_TRUE(store_->ScanRows("usage_ping_errors", "", "~", 0, 10, [&](int64_t, const std::string&) {
                      ++rows;
                      return Status::Ok();
                    }).ok());
  EXPECT_EQ(rows, 1);
}

TEST_F(ReceiverTest, UnknownPathsAndMethods) {
  EXPECT_EQ(Call("GET", "/nope").status, 404);
  net::HttpResponse r = Call("GET", "/usage_data");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Header(r, "Allow"), "POST");
}

TEST_F(ReceiverTest, UploadPageAndMultipartUpload) {
  net::HttpResponse page = Call("GET", "/usage_data/new", "", "");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("enctype=\"multipart/form-data\""), std::string::npos);
  EXPECT_NE(page.body.find("action=\"/usage_data/upload\""), std::string::npos);
  std::string body = "--BOUND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.json\"\r\n"
                     "Content-Type: application/json\r\n\r\n" +
                     ExamplePayload() + "\r\n--BOUND--\r\n";
  net::HttpResponse r = Call("POST", "/usage_data/upload", body, "multipart/form-data; boundary=BOUND");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find("Stored as usage ping 1"), std::string::npos) << r.body;
  EXPECT_EQ(PingCount(), 1);
  std::string bad = "--BOUND\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.json\"\r\n\r\n"
                    "{\"uuid\":\"<script>\"}\r\n--BOUND--\r\n";
  net::HttpResponse rejected = Call("POST", "/usage_data/upload", bad, "multipart/form-data; boundary=BOUND");
  EXPECT_EQ(rejected.status, 422);
  EXPECT_NE(rejected.body.find("recorded_at"), std::string::npos);
  EXPECT_EQ(PingCount(), 1);
}

TEST_F(ReceiverTest, ApiNeedsAToken) {
  ASSERT_EQ(Call("POST", "/usage_data", ExamplePayload()).status, 201);
  EXPECT_EQ(Call("GET", "/api/v1/installations").status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/installations", "", "", {{"Authorization", "Bearer wrong-token"}}).status, 401);
  net::HttpResponse list = Call("GET", "/api/v1/installations", "", "", {{"Authorization", "Bearer s3cret-token"}});
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"ping_count\":1"), std::string::npos) << list.body;
  net::HttpResponse pings = Call("GET", "/api/v1/installations/0000000-0000-0000-0000-000000000000/pings", "", "",
                                 {{"PRIVATE-TOKEN", "s3cret-token"}});
  EXPECT_EQ(pings.status, 200);
  EXPECT_NE(pings.body.find("\"id\":1"), std::string::npos) << pings.body;
  net::HttpResponse payload = Call("GET", "/api/v1/pings/1", "", "", {{"PRIVATE-TOKEN", "s3cret-token"}});
  EXPECT_EQ(payload.status, 200);
  EXPECT_EQ(payload.body, ExamplePayload());
  EXPECT_EQ(Call("GET", "/api/v1/pings/2", "", "", {{"PRIVATE-TOKEN", "s3cret-token"}}).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/pings/x", "", "", {{"PRIVATE-TOKEN", "s3cret-token"}}).status, 404);
}

TEST_F(ReceiverTest, VersionCheckFollowsTheVersionsApi) {
  net::HeaderList auth = {{"Authorization", "Bearer s3cret-token"}};
  EXPECT_EQ(Call("POST", "/api/v1/versions", R"({"version":"16.2.0"})", "application/json", auth).status, 201);
  EXPECT_EQ(Call("POST", "/api/v1/versions", R"({"version":"16.3.0"})", "application/json", auth).status, 201);
  EXPECT_EQ(Call("POST", "/api/v1/versions", R"({"version":"16.3.0"})", "application/json", auth).status, 409);
  // base64 of {"version":"16.3.0"} and of {"version":"16.2.0"}
  const std::string current = "eyJ2ZXJzaW9uIjoiMTYuMy4wIn0=";
  const std::string older = "eyJ2ZXJzaW9uIjoiMTYuMi4wIn0=";
  net::HttpResponse ok = Call("GET", "/check.json?gitlab_info=" + current, "", "");
  EXPECT_EQ(ok.status, 200);
  EXPECT_NE(ok.body.find("\"severity\":\"success\""), std::string::npos) << ok.body;
  net::HttpResponse warn = Call("GET", "/check.json?gitlab_info=" + older, "", "");
  EXPECT_NE(warn.body.find("\"severity\":\"warning\""), std::string::npos) << warn.body;
  EXPECT_NE(warn.body.find("\"latest_version\":\"16.3.0\""), std::string::npos) << warn.body;
  EXPECT_EQ(Call("POST", "/api/v1/versions/16.2.0/vulnerable", R"({"critical":true})", "application/json", auth).status,
            200);
  net::HttpResponse danger = Call("GET", "/check.json?gitlab_info=" + older, "", "");
  EXPECT_NE(danger.body.find("\"severity\":\"danger\""), std::string::npos) << danger.body;
  net::HttpResponse badge = Call("GET", "/check.svg?gitlab_info=" + older, "", "");
  EXPECT_EQ(Header(badge, "Content-Type"), "image/svg+xml");
  EXPECT_NE(badge.body.find("update asap"), std::string::npos);
  EXPECT_EQ(Call("GET", "/check.json?gitlab_info=%%%", "", "").status, 400);
  EXPECT_EQ(Call("GET", "/check.json", "", "").status, 400);
}

TEST_F(ReceiverTest, FullQueueAnswers503) {
  // A receiver with one worker and a queue of one: block the worker, fill the queue.
  ReceiverOptions options;
  options.worker_threads = 1;
  options.worker_queue = 1;
  Receiver small(options, store_.get(), &clock_, &metrics_);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  class BlockingResponder final : public net::Responder {
   public:
    explicit BlockingResponder(std::shared_future<void> f) : f_(std::move(f)) {}
    void Send(net::HttpResponse response) override {
      f_.wait();
      p_.set_value(std::move(response));
    }
    std::future<net::HttpResponse> future() { return p_.get_future(); }

   private:
    std::shared_future<void> f_;
    std::promise<net::HttpResponse> p_;
  };
  auto make = [](const std::string& uuid) {
    net::HttpRequest r;
    r.method = "POST";
    r.path = r.target = "/usage_data";
    r.headers = {{"Content-Type", "application/json"}};
    r.body = R"({"uuid":")" + uuid + R"(","recorded_at":"r"})";
    return r;
  };
  auto first = std::make_shared<BlockingResponder>(released);  // occupies the worker
  auto first_future = first->future();
  small.Handle(make("a"), first);
  // Until the worker has taken the first task the queue may hold it; submit until a 503 shows.
  std::vector<std::future<net::HttpResponse>> queued;
  net::HttpResponse overloaded;
  for (int i = 0; i < 3; ++i) {
    auto responder = std::make_shared<CapturingResponder>();
    auto future = responder->future();
    small.Handle(make("q" + std::to_string(i)), responder);
    if (future.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      overloaded = future.get();
      break;
    }
    queued.push_back(std::move(future));
  }
  EXPECT_EQ(overloaded.status, 503);
  EXPECT_EQ(Header(overloaded, "Retry-After"), "5");
  release.set_value();
  EXPECT_EQ(first_future.get().status, 201);
  for (auto& f : queued) EXPECT_EQ(f.get().status, 201);
  small.Shutdown();
}

}  // namespace
}  // namespace furrow::receiver
