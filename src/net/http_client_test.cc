#include "net/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace furrow::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using BeastRequest = http::request<http::string_body>;
using BeastResponse = http::response<http::string_body>;

// A tiny blocking HTTP/1.1 server on 127.0.0.1 with a free port, one thread per
// connection, answering through `respond`. Records every request it reads.
class TestServer {
 public:
  explicit TestServer(std::function<BeastResponse(const BeastRequest&)> respond)
      : respond_(std::move(respond)),
        acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestServer() {
    stopping_ = true;
    boost::system::error_code ec;
    // Wake the blocking accept with one last connection.
    tcp::socket wake(io_);
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    accept_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ec);
    }
    for (auto& t : connection_threads_) t.join();
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<BeastRequest> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop() {
    while (true) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) return;
      ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      sockets_.push_back(socket);
      connection_threads_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  void Serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    while (true) {
      BeastRequest request;
      boost::system::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(request);
      }
      BeastResponse response = respond_(request);
      response.version(11);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || !request.keep_alive()) return;
    }
  }

  std::function<BeastResponse(const BeastRequest&)> respond_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> connection_threads_;
  std::vector<BeastRequest> requests_;
};

BeastResponse Echo(const BeastRequest& request) {
  BeastResponse response;
  response.result(http::status::ok);
  response.set("X-Method", std::string(request.method_string()));
  response.set("X-Target", std::string(request.target()));
  response.body() = request.body();
  return response;
}

BeastResponse WithStatus(int status, std::string body = "") {
  BeastResponse response;
  response.result(static_cast<unsigned>(status));
  response.body() = std::move(body);
  return response;
}

// A free loopback port with nothing listening on it.
uint16_t ClosedPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

TEST(HttpClientTest, GetReturnsStatusHeadersAndBody) {
  TestServer server(Echo);
  HttpClient client;
  HttpClientRequest request;
  request.url = server.Url("/path?q=1");
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("x-method").value_or(""), "GET");
  EXPECT_EQ(response->Header("X-TARGET").value_or(""), "/path?q=1");
  EXPECT_EQ(response->body, "");
  ASSERT_EQ(server.Requests().size(), 1u);
  EXPECT_EQ(server.Requests()[0][http::field::user_agent], "furrow");
}

TEST(HttpClientTest, PostSendsBodyAndHeaders) {
  TestServer server(Echo);
  HttpClientOptions options;
  options.extra_headers = {{"X-Extra", "yes"}};
  options.user_agent = "furrow-test/1";
  HttpClient client(options);
  HttpClientRequest request;
  request.method = "POST";
  request.url = server.Url("/com.snowplowanalytics.snowplow/tp2");
  request.headers = {{"Content-Type", "application/json"}};
  request.body = std::string(100000, 'x') + "end";
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("X-Method").value_or(""), "POST");
  EXPECT_EQ(response->body, request.body);
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0]["X-Extra"], "yes");
  EXPECT_EQ(seen[0][http::field::content_type], "application/json");
  EXPECT_EQ(seen[0][http::field::user_agent], "furrow-test/1");
  EXPECT_EQ(seen[0].count(http::field::expect), 0u);
}

TEST(HttpClientTest, PutAndDeleteUseTheirMethods) {
  TestServer server(Echo);
  HttpClient client;
  HttpClientRequest put;
  put.method = "PUT";
  put.url = server.Url("/bucket/key");
  put.body = "data";
  Result<HttpClientResponse> r1 = client.Send(put);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->Header("X-Method").value_or(""), "PUT");
  EXPECT_EQ(r1->body, "data");

  HttpClientRequest put_empty;
  put_empty.method = "PUT";
  put_empty.url = server.Url("/bucket/empty");
  Result<HttpClientResponse> r2 = client.Send(put_empty);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_EQ(r2->Header("X-Method").value_or(""), "PUT");

  HttpClientRequest del;
  del.method = "DELETE";
  del.url = server.Url("/bucket/key");
  Result<HttpClientResponse> r3 = client.Send(del);
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(r3->Header("X-Method").value_or(""), "DELETE");
}

TEST(HttpClientTest, HeadReadsNoBody) {
  TestServer server([](const BeastRequest& request) {
    BeastResponse response = WithStatus(200);
    response.set("X-Method", std::string(request.method_string()));
    response.set(http::field::content_length, "5");
    return response;
  });
  HttpClient client;
  HttpClientRequest request;
  request.method = "HEAD";
  request.url = server.Url("/");
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->Header("X-Method").value_or(""), "HEAD");
  EXPECT_EQ(response->body, "");
}

TEST(HttpClientTest, ErrorStatusesAreResponsesNotErrors) {
  TestServer server([](const BeastRequest&) { return WithStatus(404, "nope"); });
  HttpClient client;
  HttpClientRequest request;
  request.url = server.Url("/missing");
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body, "nope");
}

TEST(HttpClientTest, ReusesKeptAliveConnection) {
  TestServer server(Echo);
  HttpClient client;
  HttpClientRequest request;
  request.url = server.Url("/");
  for (int i = 0; i < 5; ++i) {
    Result<HttpClientResponse> response = client.Send(request);
    ASSERT_TRUE(response.ok()) << response.status().ToString();
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/";
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("127.0.0.1"), std::string::npos);
}

TEST(HttpClientTest, UnresolvableHostIsUnavailable) {
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://no-such-host.invalid/";
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

TEST(HttpClientTest, MalformedUrlIsInvalidArgument) {
  HttpClient client;
  HttpClientRequest request;
  request.url = "ftp://127.0.0.1/file";
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpClientTest, SilentServerIsDeadlineExceeded) {
  // Accepts (via the listen backlog) but never answers.
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/";
  request.timeout = std::chrono::milliseconds(200);
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded);
}

TEST(HttpClientTest, OversizedResponseIsResourceExhausted) {
  TestServer server([](const BeastRequest&) { return WithStatus(200, std::string(5000, 'a')); });
  HttpClientOptions options;
  options.max_response_bytes = 4096;
  HttpClient client(options);
  HttpClientRequest request;
  request.url = server.Url("/big");
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kResourceExhausted);

  // The same client still works for a response under the limit.
  HttpClientOptions roomy;
  roomy.max_response_bytes = 5000;
  HttpClient exact(roomy);
  Result<HttpClientResponse> ok = exact.Send(request);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body.size(), 5000u);
}

TEST(HttpClientTest, SignsWithAwsSigV4) {
  TestServer server(Echo);
  HttpClientOptions options;
  options.aws_sigv4 = AwsSigV4Options{"eu-west-1", "s3", "AKIDEXAMPLE", "secret", "session-token"};
  HttpClient client(options);
  HttpClientRequest request;
  request.method = "PUT";
  request.url = server.Url("/bucket/key");
  request.body = "payload";
  Result<HttpClientResponse> response = client.Send(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  auto seen = server.Requests();
  ASSERT_EQ(seen.size(), 1u);
  std::string authorization(seen[0][http::field::authorization]);
  EXPECT_EQ(authorization.rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0), 0u)
      << authorization;
  EXPECT_NE(authorization.find("/eu-west-1/s3/aws4_request"), std::string::npos) << authorization;
  EXPECT_NE(authorization.find("Signature="), std::string::npos) << authorization;
  EXPECT_FALSE(seen[0]["X-Amz-Date"].empty());
  EXPECT_EQ(seen[0]["x-amz-security-token"], "session-token");
}

TEST(HttpClientTest, SafeForConcurrentUse) {
  TestServer server(Echo);
  HttpClient client;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        HttpClientRequest request;
        request.method = "POST";
        request.url = server.Url("/t");
        request.body = std::to_string(t) + "-" + std::to_string(i);
        Result<HttpClientResponse> response = client.Send(request);
        if (response.ok() && response->body == request.body) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST(HttpClientRetryTest, BackoffGrowsExponentiallyUpToTheCap) {
  RetryPolicy policy;
  policy.initial_backoff = std::chrono::milliseconds(100);
  policy.max_backoff = std::chrono::milliseconds(1000);
  policy.multiplier = 2.0;
  EXPECT_EQ(BackoffDelay(policy, 1).count(), 100);
  EXPECT_EQ(BackoffDelay(policy, 2).count(), 200);
  EXPECT_EQ(BackoffDelay(policy, 3).count(), 400);
  EXPECT_EQ(BackoffDelay(policy, 4).count(), 800);
  EXPECT_EQ(BackoffDelay(policy, 5).count(), 1000);
  EXPECT_EQ(BackoffDelay(policy, 50).count(), 1000);
}

TEST(HttpClientRetryTest, RetriesServerErrorsUntilSuccess) {
  std::atomic<int> calls{0};
  TestServer server([&](const BeastRequest&) {
    return ++calls <= 2 ? WithStatus(503, "busy") : WithStatus(200, "done");
  });
  HttpClient client;
  HttpClientRequest request;
  request.url = server.Url("/");
  RetryPolicy policy;
  policy.max_attempts = 5;
  std::vector<int64_t> slept;
  Result<HttpClientResponse> response = SendWithRetry(
      client, request, policy, [&](std::chrono::milliseconds d) { slept.push_back(d.count()); });
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "done");
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(slept, (std::vector<int64_t>{100, 200}));
}

TEST(HttpClientRetryTest, StopsAfterMaxAttemptsWithLastResult) {
  std::atomic<int> calls{0};
  TestServer server([&](const BeastRequest&) {
    ++calls;
    return WithStatus(500, "broken");
  });
  HttpClient client;
  HttpClientRequest request;
  request.url = server.Url("/");
  RetryPolicy policy;
  policy.max_attempts = 3;
  int sleeps = 0;
  Result<HttpClientResponse> response =
      SendWithRetry(client, request, policy, [&](std::chrono::milliseconds) { ++sleeps; });
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(sleeps, 2);
}

TEST(HttpClientRetryTest, DoesNotRetryClientErrors) {
  std::atomic<int> calls{0};
  TestServer server([&](const BeastRequest&) {
    ++calls;
    return WithStatus(403);
  });
  HttpClient client;
  HttpClientRequest request;
  request.url = server.Url("/");
  int sleeps = 0;
  Result<HttpClientResponse> response =
      SendWithRetry(client, request, RetryPolicy{}, [&](std::chrono::milliseconds) { ++sleeps; });
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 403);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(sleeps, 0);
}

TEST(HttpClientRetryTest, RetriesConnectionErrorsAndReturnsTheError) {
  HttpClient client;
  HttpClientRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/";
  RetryPolicy policy;
  policy.max_attempts = 4;
  int sleeps = 0;
  Result<HttpClientResponse> response =
      SendWithRetry(client, request, policy, [&](std::chrono::milliseconds) { ++sleeps; });
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(sleeps, 3);
}

}  // namespace
}  // namespace furrow::net
