#include "net/http_server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <deque>
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
using namespace std::chrono_literals;

struct ClientResponse {
  int status = 0;
  http::fields headers;
  std::string body;
};

// A blocking test client on a raw socket: sends exact bytes, reads responses.
// Every read gives up after 10 s so a broken server fails the test, not the run.
class RawClient {
 public:
  explicit RawClient(int port) : socket_(io_) {
    socket_.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    struct timeval tv = {10, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  void Send(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
  }

  // Reads one response; status 0 if the connection closed or failed first.
  ClientResponse Read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    boost::system::error_code ec;
    http::read(socket_, buffer_, parser, ec);
    ClientResponse out;
    if (ec) return out;
    out.status = static_cast<int>(parser.get().result_int());
    out.headers = parser.get().base();
    out.body = parser.get().body();
    return out;
  }

  // Reads until the server closes; returns what arrived (buffered bytes included),
  // or nullopt when the read timed out with the connection still open.
  std::optional<std::string> ReadUntilClosed() {
    std::string all(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.clear();
    char chunk[4096];
    while (true) {
      boost::system::error_code ec;
      size_t n = socket_.read_some(asio::buffer(chunk), ec);
      all.append(chunk, n);
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return all;
      if (ec) return std::nullopt;  // timeout (EAGAIN) or another failure
    }
  }

  tcp::socket& socket() { return socket_; }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

std::string Get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

// Records requests and hands out their responders to the test.
class Recorder {
 public:
  Handler MakeHandler() {
    return [this](HttpRequest&& request, std::shared_ptr<Responder> responder) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(std::move(request));
      responders_.push_back(std::move(responder));
      cv_.notify_all();
    };
  }

  // Waits until the handler has seen `n` requests (10 s at most).
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return requests_.size() >= n; });
  }

  std::shared_ptr<Responder> TakeResponder() {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = std::move(responders_.front());
    responders_.pop_front();
    return r;
  }

  HttpRequest Request(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.at(i);
  }

  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HttpRequest> requests_;
  std::deque<std::shared_ptr<Responder>> responders_;
};

// Answers every request at once with 200 and "ok:<method> <target>".
void EchoHandler(HttpRequest&& request, std::shared_ptr<Responder> responder) {
  HttpResponse response;
  response.Set("Content-Type", "text/plain");
  response.body = "ok:" + request.method + " " + request.target +
                  (request.body.empty() ? "" : ":" + request.body);
  responder->Send(std::move(response));
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options, Handler handler) {
    options.bind = "127.0.0.1";
    options.port = 0;
    if (options.threads == 0) options.threads = 2;
    server_ = std::make_unique<HttpServer>(options, std::move(handler), metrics_, "test");
    Status status = server_->Start();
    ASSERT_TRUE(status.ok()) << status.ToString();
    port_ = server_->port();
    ASSERT_GT(port_, 0);
  }

  void StartServer(Handler handler) { StartServer(HttpServerOptions{}, std::move(handler)); }

  void TearDown() override {
    if (server_) server_->Stop(0ms);
  }

  uint64_t Rejected(const std::string& reason) {
    return metrics_.GetCounter("test_http_rejected_total", "", {{"reason", reason}}).Value();
  }
  uint64_t CounterValue(const std::string& name) { return metrics_.GetCounter(name, "").Value(); }

  MetricsRegistry metrics_;
  // Handlers run on the server's threads, so what they touch must outlive the
  // server: TearDown stops it before the fixture's members are destroyed.
  Recorder recorder_;
  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
};

TEST_F(HttpServerTest, ServesGetWithParsedRequest) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(
      "GET /i?e=pv&p=web HTTP/1.1\r\nHost: example.com\r\nX-Custom: a b\r\nx-custom: "
      "second\r\n\r\n");
  ASSERT_TRUE(recorder.WaitFor(1));
  HttpRequest request = recorder.Request(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/i?e=pv&p=web");
  EXPECT_EQ(request.path, "/i");
  EXPECT_EQ(request.query, "e=pv&p=web");
  ASSERT_EQ(request.headers.size(), 3u);
  EXPECT_EQ(request.headers[1].first, "X-Custom");
  EXPECT_EQ(request.Header("x-CUSTOM").value_or(""), "a b");
  EXPECT_FALSE(request.Header("Missing").has_value());
  EXPECT_EQ(request.remote_address, "127.0.0.1");
  EXPECT_NE(request.remote_port, 0);
  EXPECT_TRUE(request.keep_alive);
  EXPECT_EQ(request.body, "");

  HttpResponse response;
  response.Set("X-Answer", "42");
  response.body = "hello";
  recorder.TakeResponder()->Send(std::move(response));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "hello");
  EXPECT_EQ(got.headers["X-Answer"], "42");
  EXPECT_EQ(got.headers[http::field::server], "furrow");
  EXPECT_EQ(got.headers[http::field::content_length], "5");
  EXPECT_EQ(got.headers[http::field::date].size(), 29u);
  EXPECT_EQ(got.headers.count(http::field::connection), 0u);
}

TEST_F(HttpServerTest, ServesPostWithContentLengthAndChunkedBodies) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send(
      "POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\nContent-Length: "
      "11\r\n\r\nhello world");
  ClientResponse first = client.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "ok:POST /com.snowplowanalytics.snowplow/tp2:hello world");

  client.Send(
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
      "world\r\n0\r\n\r\n");
  ClientResponse second = client.Read();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "ok:POST /c:hello world");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer(EchoHandler);
  RawClient client(port_);
  for (int i = 0; i < 5; ++i) {
    client.Send(Get("/n" + std::to_string(i)));
    ClientResponse got = client.Read();
    EXPECT_EQ(got.status, 200);
    EXPECT_EQ(got.body, "ok:GET /n" + std::to_string(i));
  }
  EXPECT_EQ(CounterValue("test_http_connections_accepted_total"), 1u);
  EXPECT_EQ(CounterValue("test_http_requests_total"), 5u);
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send(Get("/a") + "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" +
              Get("/c"));
  EXPECT_EQ(client.Read().body, "ok:GET /a");
  EXPECT_EQ(client.Read().body, "ok:POST /b:xyz");
  EXPECT_EQ(client.Read().body, "ok:GET /c");
}

TEST_F(HttpServerTest, ManyPipelinedRequestsDoNotNestHandlerCalls) {
  // Regression: answering synchronously used to parse the next buffered request
  // inside Send, so each pipelined request nested one handler call deeper.
  struct Depth {
    std::atomic<int> now{0};
    std::atomic<int> max{0};
  };
  auto depth = std::make_shared<Depth>();
  StartServer([depth](HttpRequest&& request, std::shared_ptr<Responder> responder) {
    int now = ++depth->now;
    int seen = depth->max.load();
    while (now > seen && !depth->max.compare_exchange_weak(seen, now)) {
    }
    HttpResponse response;
    response.body = request.target;
    responder->Send(std::move(response));
    --depth->now;
  });
  RawClient client(port_);
  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += Get("/" + std::to_string(i));
  client.Send(flood);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(client.Read().body, "/" + std::to_string(i));
  EXPECT_EQ(depth->max.load(), 1);
}

TEST_F(HttpServerTest, AsyncResponseFromAnotherThreadHoldsBackTheNextRequest) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(Get("/first") + Get("/second"));
  ASSERT_TRUE(recorder.WaitFor(1));
  std::shared_ptr<Responder> first = recorder.TakeResponder();
  // The second request stays unparsed until the first response is written.
  EXPECT_EQ(recorder.count(), 1u);
  std::thread sender([first] {
    HttpResponse response;
    response.body = "first";
    first->Send(std::move(response));
  });
  sender.join();
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "first");
  ASSERT_TRUE(recorder.WaitFor(2));
  EXPECT_EQ(recorder.Request(1).target, "/second");
  std::thread second_sender([r = recorder.TakeResponder()] {
    HttpResponse response;
    response.status = 204;
    r->Send(std::move(response));
  });
  second_sender.join();
  ClientResponse second = client.Read();
  EXPECT_EQ(second.status, 204);
  EXPECT_EQ(second.headers.count(http::field::content_length), 0u);
}

TEST_F(HttpServerTest, HeadResponseHasHeadersButNoBody) {
  StartServer([](HttpRequest&& request, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.body = "12345";
    responder->Send(std::move(response));
  });
  RawClient client(port_);
  client.Send("HEAD /x HTTP/1.1\r\nHost: x\r\n\r\n");
  ClientResponse head = client.Read(/*head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers[http::field::content_length], "5");
  EXPECT_EQ(head.body, "");
  // Had the body been sent, it would now be read as the start of this response.
  client.Send(Get("/y"));
  ClientResponse get = client.Read();
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "12345");
}

TEST_F(HttpServerTest, LargeResponseBodyIsWrittenCompletely) {
  auto big = std::make_shared<std::string>(3 * 1024 * 1024, 'z');
  (*big)[12345] = 'a';
  StartServer([big](HttpRequest&&, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.body = *big;
    responder->Send(std::move(response));
  });
  RawClient client(port_);
  client.Send(Get("/big") + Get("/big"));
  EXPECT_EQ(client.Read().body, *big);
  EXPECT_EQ(client.Read().body, *big);
}

std::string RequestWithLineLength(size_t line_bytes) {
  // "GET " + target + " HTTP/1.1"
  std::string target = "/" + std::string(line_bytes - 4 - 9 - 1, 'a');
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
}

TEST_F(HttpServerTest, ClientThatStopsReadingIsClosedAfterTheWriteTimeout) {
  HttpServerOptions options;
  options.write_timeout = 200ms;
  auto big =
      std::make_shared<std::string>(32 * 1024 * 1024, 'w');  // far more than socket buffers hold
  Recorder& recorder = recorder_;
  Handler record = recorder.MakeHandler();
  StartServer(options, [big, record](HttpRequest&& request, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.body = *big;
    responder->Send(std::move(response));
    record(std::move(request), nullptr);
  });
  RawClient client(port_);
  client.Send(Get("/big"));
  ASSERT_TRUE(recorder.WaitFor(1));
  Gauge& open = metrics_.GetGauge("test_http_open_connections", "");
  // Never read. The server must give up on the write and close the connection.
  for (int i = 0; i < 2000 && open.Value() != 0.0; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(open.Value(), 0.0);
}

TEST_F(HttpServerTest, RequestLineAtTheLimitIsServed) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send(RequestWithLineLength(20480));
  EXPECT_EQ(client.Read().status, 200);
}

TEST_F(HttpServerTest, RequestLineOverTheLimitIs400) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(RequestWithLineLength(20481));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 400);
  EXPECT_EQ(got.headers[http::field::connection], "close");
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
  EXPECT_EQ(Rejected("request_line_too_long"), 1u);
  EXPECT_EQ(Rejected("headers_too_large"), 0u);
  EXPECT_EQ(recorder.count(), 0u);
}

TEST_F(HttpServerTest, EndlessRequestLineIs400BeforeItEnds) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send("GET /" + std::string(30000, 'a'));  // no line end yet
  EXPECT_EQ(client.Read().status, 400);
  EXPECT_EQ(Rejected("request_line_too_long"), 1u);
}

// Header fields of exactly `bytes` (each line with its CRLF, plus the blank line).
std::string RequestWithFieldBytes(size_t bytes) {
  std::string fields = "Host: x\r\n";
  size_t filler = bytes - fields.size() - 2;
  std::string name = "X-Fill: ";
  while (filler > 0) {
    size_t value = std::min<size_t>(filler - name.size() - 2, 8000);
    fields += name + std::string(value, 'v') + "\r\n";
    filler -= name.size() + value + 2;
    if (filler > 0 && filler < name.size() + 3) {
      // Too small for another line: grow the last one instead.
      fields.insert(fields.size() - 2, std::string(filler, 'v'));
      filler = 0;
    }
  }
  return "GET / HTTP/1.1\r\n" + fields + "\r\n";
}

TEST_F(HttpServerTest, HeadersAtTheLimitAreServed) {
  StartServer(EchoHandler);
  RawClient client(port_);
  std::string request = RequestWithFieldBytes(40960);
  ASSERT_EQ(request.size(), 16u + 40960u);
  client.Send(request);
  EXPECT_EQ(client.Read().status, 200);
}

TEST_F(HttpServerTest, HeadersOverTheLimitAre400) {
  StartServer(EchoHandler);
  RawClient client(port_);
  std::string request = RequestWithFieldBytes(40961);
  ASSERT_EQ(request.size(), 16u + 40961u);
  client.Send(request);
  EXPECT_EQ(client.Read().status, 400);
  EXPECT_EQ(Rejected("headers_too_large"), 1u);
  EXPECT_EQ(Rejected("request_line_too_long"), 0u);
}

TEST_F(HttpServerTest, EndlessHeadersAre400) {
  StartServer(EchoHandler);
  RawClient client(port_);
  std::string request = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i)
    request += "X-Header-" + std::to_string(i) + ": " + std::string(1000, 'h') + "\r\n";
  client.Send(request);  // never ends
  EXPECT_EQ(client.Read().status, 400);
  EXPECT_EQ(Rejected("headers_too_large"), 1u);
}

TEST_F(HttpServerTest, ContentLengthOverTheLimitIs413WithoutReadingTheBody) {
  Recorder& recorder = recorder_;
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(options, recorder.MakeHandler());
  RawClient client(port_);
  // The body is never sent: the answer must come from the header alone.
  client.Send("POST /tp2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n");
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 413);
  EXPECT_EQ(got.headers[http::field::connection], "close");
  EXPECT_EQ(Rejected("body_too_large"), 1u);
  EXPECT_EQ(recorder.count(), 0u);
}

TEST_F(HttpServerTest, BodyAtTheLimitIsServed) {
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(options, EchoHandler);
  RawClient client(port_);
  client.Send("POST /tp2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
              std::string(1000, 'b'));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body.size(), std::string("ok:POST /tp2:").size() + 1000);
}

TEST_F(HttpServerTest, DefaultSizedLargeBodyArrivesIntact) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  std::string body(2 * 1024 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 4099) body[i] = static_cast<char>('a' + i % 26);
  client.Send("POST /tp2 HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
              "\r\n\r\n");
  for (size_t i = 0; i < body.size(); i += 100000)
    client.Send(std::string_view(body).substr(i, 100000));
  ASSERT_TRUE(recorder.WaitFor(1));
  EXPECT_TRUE(recorder.Request(0).body == body);
  recorder.TakeResponder()->Send(HttpResponse{});
  EXPECT_EQ(client.Read().status, 200);
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  Recorder& recorder = recorder_;
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(options, recorder.MakeHandler());
  RawClient client(port_);
  std::string chunk(600, 'c');
  client.Send("POST /tp2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
              "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n");
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 413);
  EXPECT_EQ(Rejected("body_too_large"), 1u);
  EXPECT_EQ(recorder.count(), 0u);
}

TEST_F(HttpServerTest, SlowHeadersGet408) {
  HttpServerOptions options;
  options.header_timeout = 200ms;
  StartServer(options, EchoHandler);
  RawClient client(port_);
  client.Send("GET / HTTP/1.1\r\nHost: x\r\n");  // the blank line never comes
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 408);
  EXPECT_EQ(got.headers[http::field::connection], "close");
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
  EXPECT_EQ(Rejected("header_timeout"), 1u);
}

TEST_F(HttpServerTest, SilentNewConnectionIsClosedWithoutAResponse) {
  HttpServerOptions options;
  options.header_timeout = 200ms;
  StartServer(options, EchoHandler);
  RawClient client(port_);
  std::optional<std::string> rest = client.ReadUntilClosed();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "");
}

TEST_F(HttpServerTest, SlowBodyGets408) {
  Recorder& recorder = recorder_;
  HttpServerOptions options;
  options.body_timeout = 200ms;
  StartServer(options, recorder.MakeHandler());
  RawClient client(port_);
  client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 408);
  EXPECT_EQ(Rejected("body_timeout"), 1u);
  EXPECT_EQ(recorder.count(), 0u);
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionIsClosedSilently) {
  HttpServerOptions options;
  options.idle_timeout = 200ms;
  StartServer(options, EchoHandler);
  RawClient client(port_);
  client.Send(Get("/"));
  EXPECT_EQ(client.Read().status, 200);
  std::optional<std::string> rest = client.ReadUntilClosed();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "");
  EXPECT_EQ(Rejected("header_timeout"), 0u);
}

TEST_F(HttpServerTest, GarbageIs400) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(std::string("\x01\x02\xff garbage\r\n\r\n", 15));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 400);
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
  EXPECT_EQ(Rejected("bad_request"), 1u);
  EXPECT_EQ(recorder.count(), 0u);
}

TEST_F(HttpServerTest, BadContentLengthIs400) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n");
  EXPECT_EQ(client.Read().status, 400);
  EXPECT_EQ(Rejected("bad_request"), 1u);
}

TEST_F(HttpServerTest, InvalidUtf8InTargetIsPassedThroughUnharmed) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  const std::string target = "/i?e=pv&x=\xff\xfe\xc3\x28%ZZ&y=\x80";
  client.Send(Get(target));
  ASSERT_TRUE(recorder.WaitFor(1));
  EXPECT_EQ(recorder.Request(0).target, target);
  EXPECT_EQ(recorder.Request(0).query, "e=pv&x=\xff\xfe\xc3\x28%ZZ&y=\x80");
  HttpResponse response;
  recorder.TakeResponder()->Send(std::move(response));
  EXPECT_EQ(client.Read().status, 200);
}

TEST_F(HttpServerTest, UnknownMethodsReachTheHandler) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n");
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "ok:BREW /pot");
}

TEST_F(HttpServerTest, Http10RequestClosesAfterTheResponse) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send("GET /old HTTP/1.0\r\n\r\n");
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.headers[http::field::connection], "close");
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
}

TEST_F(HttpServerTest, Http10KeepAliveIsHonoured) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  ClientResponse first = client.Read();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.headers[http::field::connection], "keep-alive");
  client.Send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(client.Read().body, "ok:GET /b");
}

TEST_F(HttpServerTest, ClientConnectionCloseIsHonoured) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send(Get("/", "Connection: close\r\n"));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.headers[http::field::connection], "close");
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
}

TEST_F(HttpServerTest, HandlerCanCloseTheConnection) {
  StartServer([](HttpRequest&&, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.status = 405;
    response.close = true;
    responder->Send(std::move(response));
  });
  RawClient client(port_);
  client.Send(Get("/"));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 405);
  EXPECT_EQ(got.headers[http::field::connection], "close");
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
}

TEST_F(HttpServerTest, HandlerHeadersCannotSplitTheResponse) {
  StartServer([](HttpRequest&& request, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.Set("X-Echo", "a\r\nSet-Cookie: evil=1");
    response.Set("Content-Length", "999");
    response.body = "ok";
    responder->Send(std::move(response));
  });
  RawClient client(port_);
  client.Send(Get("/"));
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.headers.count(http::field::set_cookie), 0u);
  EXPECT_EQ(got.headers[http::field::content_length], "2");
  EXPECT_EQ(got.body, "ok");
}

TEST_F(HttpServerTest, UnsupportedStatusFromTheHandlerIs500) {
  StartServer([](HttpRequest&& request, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.status = request.path == "/interim" ? 101 : 1000;
    responder->Send(std::move(response));
  });
  RawClient client(port_);
  client.Send(Get("/interim"));
  EXPECT_EQ(client.Read().status, 500);
  client.Send(Get("/huge"));
  EXPECT_EQ(client.Read().status, 500);
}

TEST_F(HttpServerTest, NotModifiedHasNoBody) {
  StartServer([](HttpRequest&&, std::shared_ptr<Responder> responder) {
    HttpResponse response;
    response.status = 304;
    response.body = "ignored";
    responder->Send(std::move(response));
  });
  RawClient client(port_);
  client.Send(Get("/a") + Get("/b"));
  ClientResponse first = client.Read();
  EXPECT_EQ(first.status, 304);
  EXPECT_EQ(first.headers.count(http::field::content_length), 0u);
  EXPECT_EQ(client.Read().status, 304);  // "ignored" was not sent in between
}

TEST_F(HttpServerTest, ExpectContinueGets100BeforeTheBody) {
  StartServer(EchoHandler);
  RawClient client(port_);
  client.Send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  ClientResponse interim = client.Read();
  EXPECT_EQ(interim.status, 100);
  client.Send("data");
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "ok:POST /e:data");
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  StartServer([](HttpRequest&&, std::shared_ptr<Responder>) {});
  RawClient client(port_);
  client.Send(Get("/"));
  EXPECT_EQ(client.Read().status, 500);
  // The connection stays usable.
  client.Send(Get("/"));
  EXPECT_EQ(client.Read().status, 500);
  EXPECT_EQ(CounterValue("test_http_responders_dropped_total"), 2u);
}

TEST_F(HttpServerTest, DroppedResponderOnAnotherThreadAnswers500) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(Get("/"));
  ASSERT_TRUE(recorder.WaitFor(1));
  std::thread([r = recorder.TakeResponder()]() mutable { r.reset(); }).join();
  EXPECT_EQ(client.Read().status, 500);
}

TEST_F(HttpServerTest, SecondSendIsIgnored) {
  StartServer([](HttpRequest&&, std::shared_ptr<Responder> responder) {
    HttpResponse first;
    first.body = "one";
    responder->Send(std::move(first));
    HttpResponse second;
    second.body = "two";
    responder->Send(std::move(second));
  });
  RawClient client(port_);
  client.Send(Get("/") + Get("/"));
  EXPECT_EQ(client.Read().body, "one");
  EXPECT_EQ(client.Read().body, "one");
}

TEST_F(HttpServerTest, MaxConnectionsIsEnforced) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(options, EchoHandler);
  RawClient a(port_);
  RawClient b(port_);
  a.Send(Get("/"));
  b.Send(Get("/"));
  EXPECT_EQ(a.Read().status, 200);
  EXPECT_EQ(b.Read().status, 200);
  RawClient c(port_);
  std::optional<std::string> rest = c.ReadUntilClosed();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "");
  EXPECT_EQ(Rejected("too_many_connections"), 1u);
  // The admitted connections still work.
  a.Send(Get("/again"));
  EXPECT_EQ(a.Read().body, "ok:GET /again");
}

TEST_F(HttpServerTest, TwoThousandConcurrentConnections) {
  constexpr size_t kConnections = 2000;
  struct rlimit limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2 * kConnections + 200) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 2 * kConnections + 200);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ASSERT_GE(limit.rlim_cur, 2 * kConnections + 100)
      << "RLIMIT_NOFILE hard limit too low for this test";
  StartServer(EchoHandler);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (size_t i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<RawClient>(port_));
    clients.back()->Send(Get("/c" + std::to_string(i)));
  }
  size_t ok = 0;
  for (size_t i = 0; i < kConnections; ++i) {
    if (clients[i]->Read().body == "ok:GET /c" + std::to_string(i)) ++ok;
  }
  EXPECT_EQ(ok, kConnections);
  EXPECT_EQ(metrics_.GetGauge("test_http_open_connections", "").Value(),
            static_cast<double>(kConnections));
}

TEST_F(HttpServerTest, StopDrainsAnInFlightAsyncRequest) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient busy(port_);
  RawClient idle(port_);
  idle.Send(Get("/warm"));
  ASSERT_TRUE(recorder.WaitFor(1));
  recorder.TakeResponder()->Send(HttpResponse{});
  EXPECT_EQ(idle.Read().status, 200);

  busy.Send(Get("/slow"));
  ASSERT_TRUE(recorder.WaitFor(2));
  std::shared_ptr<Responder> responder = recorder.TakeResponder();

  std::thread stopper([this] { server_->Stop(20s); });
  // The idle keep-alive connection is closed as the drain starts.
  std::optional<std::string> idle_rest = idle.ReadUntilClosed();
  ASSERT_TRUE(idle_rest.has_value());
  EXPECT_EQ(*idle_rest, "");

  HttpResponse response;
  response.body = "durable";
  responder->Send(std::move(response));
  ClientResponse got = busy.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "durable");
  EXPECT_EQ(got.headers[http::field::connection], "close");
  stopper.join();
  EXPECT_EQ(metrics_.GetGauge("test_http_open_connections", "").Value(), 0.0);
  // No longer listening.
  boost::system::error_code ec;
  asio::io_context io;
  tcp::socket probe(io);
  probe.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)), ec);
  EXPECT_TRUE(ec);
}

TEST_F(HttpServerTest, StopClosesRequestsThatOutliveTheDrain) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(Get("/never"));
  ASSERT_TRUE(recorder.WaitFor(1));
  server_->Stop(50ms);
  std::optional<std::string> rest = client.ReadUntilClosed();
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(*rest, "");
  // Answering after Stop, or after the server is gone, is harmless.
  std::shared_ptr<Responder> late = recorder.TakeResponder();
  late->Send(HttpResponse{});
  server_.reset();
}

TEST_F(HttpServerTest, ResponderMayOutliveTheServer) {
  Recorder& recorder = recorder_;
  StartServer(recorder.MakeHandler());
  RawClient client(port_);
  client.Send(Get("/"));
  ASSERT_TRUE(recorder.WaitFor(1));
  std::shared_ptr<Responder> responder = recorder.TakeResponder();
  server_->Stop(0ms);
  server_.reset();
  responder.reset();  // dropped without Send after the server is gone
  EXPECT_TRUE(client.ReadUntilClosed().has_value());
}

TEST_F(HttpServerTest, CountsBytesAndRequests) {
  StartServer(EchoHandler);
  RawClient client(port_);
  std::string request = Get("/m");
  client.Send(request);
  ClientResponse got = client.Read();
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(CounterValue("test_http_requests_total"), 1u);
  EXPECT_EQ(CounterValue("test_http_read_bytes_total"), request.size());
  // The server counts a write after it returns, which may be after the client read
  // it; the second request is read only after the first write was counted.
  client.Send(request);
  EXPECT_EQ(client.Read().status, 200);
  EXPECT_GT(CounterValue("test_http_written_bytes_total"), got.body.size());
  EXPECT_EQ(CounterValue("test_http_requests_total"), 2u);
}

TEST_F(HttpServerTest, DateHeaderComesFromTheInjectedClock) {
  ManualClock clock(WallTime(std::chrono::seconds(784111777)));  // Sun, 06 Nov 1994 08:49:37 GMT
  HttpServerOptions options;
  options.clock = &clock;
  StartServer(options, EchoHandler);
  RawClient client(port_);
  client.Send(Get("/"));
  EXPECT_EQ(client.Read().headers[http::field::date], "Sun, 06 Nov 1994 08:49:37 GMT");
  clock.Advance(std::chrono::hours(24 * 31));
  client.Send(Get("/"));
  EXPECT_EQ(client.Read().headers[http::field::date], "Wed, 07 Dec 1994 08:49:37 GMT");
}

TEST(HttpServerStartTest, PortInUseIsUnavailable) {
  MetricsRegistry metrics;
  HttpServerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  HttpServer first(options, EchoHandler, metrics, "a");
  ASSERT_TRUE(first.Start().ok());
  options.port = first.port();
  HttpServer second(options, EchoHandler, metrics, "b");
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  first.Stop(0ms);
}

TEST(HttpServerStartTest, StartsOnlyOnce) {
  MetricsRegistry metrics;
  HttpServerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.threads = 1;
  HttpServer server(options, EchoHandler, metrics, "a");
  ASSERT_TRUE(server.Start().ok());
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition);
  server.Stop(0ms);
  EXPECT_EQ(server.Start().code(), StatusCode::kFailedPrecondition);
}

TEST(HttpServerStartTest, BadAddressIsInvalidArgument) {
  MetricsRegistry metrics;
  HttpServerOptions options;
  options.bind = "not an address";
  options.port = 0;
  HttpServer server(options, EchoHandler, metrics, "a");
  EXPECT_EQ(server.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace furrow::net
