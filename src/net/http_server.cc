// Design: one io_context per I/O thread (no locks on the request path). A single
// acceptor on the first context hands each accepted socket to the contexts in
// turn. A connection lives on one context for its whole life and is driven by a
// small state machine; its request parser is a Beast basic_parser that fills an
// HttpRequest directly. Timeouts use one lazily re-armed timer per connection: a
// phase change only stores a new deadline, and the timer re-arms itself when it
// fires early. Responses are written with a direct non-blocking write first, and
// an async write only for what the socket did not take.
#include "net/http_server.h"

#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>

#include "core/logging.h"

namespace furrow::net {

std::optional<std::string_view> HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return std::string_view(value);
    }
  }
  return std::nullopt;
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyTime = std::chrono::steady_clock::time_point;

// Read sizes: small while waiting for a header (most fit; an idle connection
// keeps only this much), larger while reading a body.
constexpr size_t kHeaderReadChunk = 4 * 1024;
constexpr size_t kBodyReadChunk = 64 * 1024;
constexpr size_t kLingerChunk = 4 * 1024;
// An idle connection whose buffer grew past this (large headers or a body) gives
// the memory back.
constexpr size_t kMaxIdleBufferBytes = 16 * 1024;
// Bodies up to this size are copied behind the head so one write sends both.
constexpr size_t kInlineBodyBytes = 4096;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

enum class Reason {
  kRequestLineTooLong,
  kHeadersTooLarge,
  kBodyTooLarge,
  kHeaderTimeout,
  kBodyTimeout,
  kBadRequest,
  kTooManyConnections,
  kCount,
};

constexpr std::array<std::string_view, static_cast<size_t>(Reason::kCount)> kReasonNames = {
    "request_line_too_long", "headers_too_large", "body_too_large",       "header_timeout",
    "body_timeout",          "bad_request",       "too_many_connections",
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

void AppendNumber(std::string& out, uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), n);
  out.append(digits, end);
}

// Header names and values from the handler must not be able to split the response.
void AppendSanitized(std::string& out, std::string_view text) {
  size_t start = out.size();
  out.append(text);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
}

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 IMF-fixdate), recomputed once a second.
class DateCache {
 public:
  std::string_view Get(const Clock& clock) {
    int64_t seconds =
        std::chrono::duration_cast<std::chrono::seconds>(clock.Now().time_since_epoch()).count();
    if (seconds != seconds_) {
      seconds_ = seconds;
      Format(seconds);
    }
    return std::string_view(text_, kLength);
  }

 private:
  static constexpr size_t kLength = 29;

  void Format(int64_t seconds) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = static_cast<time_t>(seconds);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buffer[64];
    snprintf(buffer, sizeof(buffer), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
             tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
    memcpy(text_, buffer, kLength);
  }

  int64_t seconds_ = -1;
  char text_[kLength] = {};
};

// Fills an HttpRequest straight from Beast's parser callbacks (no intermediate
// beast::http::fields).
class RequestParser final : public http::basic_parser<true> {
 public:
  HttpRequest& request() { return request_; }
  int version() const { return version_; }
  bool expect_continue() const { return expect_continue_; }
  // The request line without its CRLF (known once the line is parsed).
  size_t request_line_bytes() const { return request_line_bytes_; }

 private:
  void on_request_impl(http::verb, beast::string_view method, beast::string_view target,
                       int version, error_code&) override {
    request_.method.assign(method.data(), method.size());
    request_.target.assign(target.data(), target.size());
    std::string_view t(target.data(), target.size());
    size_t q = t.find('?');
    if (q == std::string_view::npos) {
      request_.path = request_.target;
    } else {
      request_.path.assign(t.substr(0, q));
      request_.query.assign(t.substr(q + 1));
    }
    version_ = version;
    request_line_bytes_ = method.size() + 1 + target.size() + 1 + 8;  // "HTTP/1.1"
  }

  void on_response_impl(int, beast::string_view, int, error_code&) override {}

  void on_field_impl(http::field name, beast::string_view name_string, beast::string_view value,
                     error_code&) override {
    if (name == http::field::expect &&
        EqualsIgnoreCase(std::string_view(value.data(), value.size()), "100-continue")) {
      expect_continue_ = true;
    }
    request_.headers.emplace_back(std::piecewise_construct,
                                  std::forward_as_tuple(name_string.data(), name_string.size()),
                                  std::forward_as_tuple(value.data(), value.size()));
  }

  void on_header_impl(error_code&) override {}

  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override {
    // Bounded: the parser rejects a Content-Length over the body limit before this.
    if (content_length) request_.body.reserve(static_cast<size_t>(*content_length));
  }

  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    request_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(error_code&) override {}

  HttpRequest request_;
  int version_ = 11;
  bool expect_continue_ = false;
  size_t request_line_bytes_ = 0;
};

class Connection;

// One I/O thread: its io_context and the connections living on it. Shared with
// the connections so that a Responder outliving the server stays safe.
struct Worker {
  asio::io_context ioc{1};
  std::thread thread;
  // Guards cross-thread posts of responses against a stopped context.
  std::mutex post_mu;
  bool stopped = false;  // guarded by post_mu
  // I/O-thread only:
  Connection* first = nullptr;  // intrusive list of open connections
  DateCache date;
};

}  // namespace

// What connections need from the server: configuration, handler, metrics, and
// the open-connection count that Stop waits on.
struct ServerState {
  ServerState(HttpServerOptions options_in, Handler handler_in, MetricsRegistry& metrics,
              const std::string& prefix)
      : options(std::move(options_in)), handler(std::move(handler_in)), clock(options.clock) {
    if (clock == nullptr) clock = &SystemClock::Instance();
    const std::string p = prefix + "_http_";
    open_gauge = &metrics.GetGauge(p + "open_connections", "Open HTTP connections");
    accepted = &metrics.GetCounter(p + "connections_accepted_total", "Accepted HTTP connections");
    requests =
        &metrics.GetCounter(p + "requests_total", "Complete HTTP requests handed to the handler");
    for (size_t i = 0; i < kReasonNames.size(); ++i) {
      rejected[i] = &metrics.GetCounter(p + "rejected_total",
                                        "HTTP requests and connections rejected, by reason",
                                        {{"reason", std::string(kReasonNames[i])}});
    }
    bytes_read = &metrics.GetCounter(p + "read_bytes_total", "Bytes read from HTTP clients");
    bytes_written = &metrics.GetCounter(p + "written_bytes_total", "Bytes written to HTTP clients");
    responders_dropped = &metrics.GetCounter(p + "responders_dropped_total",
                                             "Requests whose handler dropped the Responder (500)");
  }

  void Reject(Reason reason) { rejected[static_cast<size_t>(reason)]->Inc(); }

  // On any I/O thread, once per connection.
  void OnConnectionClosed() {
    open_gauge->Add(-1);
    if (open.fetch_sub(1, std::memory_order_acq_rel) == 1 && draining.load()) {
      std::lock_guard<std::mutex> lock(drain_mu);
      drained.notify_all();
    }
  }

  const HttpServerOptions options;
  const Handler handler;
  const Clock* clock;
  Gauge* open_gauge;
  Counter* accepted;
  Counter* requests;
  std::array<Counter*, static_cast<size_t>(Reason::kCount)> rejected{};
  Counter* bytes_read;
  Counter* bytes_written;
  Counter* responders_dropped;
  std::atomic<bool> draining{false};
  std::atomic<size_t> open{0};
  std::mutex drain_mu;
  std::condition_variable drained;
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ServerState* server, std::shared_ptr<Worker> worker, tcp::socket socket)
      : worker_(std::move(worker)),
        server_(server),
        socket_(std::move(socket)),
        timer_(worker_->ioc) {}

  // On the I/O thread.
  void Start() {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);
    tcp::endpoint peer = socket_.remote_endpoint(ec);
    if (!ec) {
      remote_address_ = peer.address().to_string();
      remote_port_ = peer.port();
    }
    // Link into the worker's list.
    next_ = worker_->first;
    if (next_ != nullptr) next_->prev_ = this;
    worker_->first = this;
    linked_ = true;
    // A new connection gets header_timeout to send its first request.
    SetDeadline(std::chrono::steady_clock::now() + server_->options.header_timeout);
    DoRead();
  }

  // Any thread: the response to the request in the handler.
  void Deliver(HttpResponse response) {
    if (worker_->ioc.get_executor().running_in_this_thread()) {
      OnResponse(std::move(response));
      return;
    }
    std::lock_guard<std::mutex> lock(worker_->post_mu);
    if (worker_->stopped) return;
    asio::post(worker_->ioc, [self = shared_from_this(), r = std::move(response)]() mutable {
      self->OnResponse(std::move(r));
    });
  }

  // Counts a dropped Responder; safe when the server is already gone (then the
  // worker is stopped and nothing runs).
  void DeliverDropped() {
    if (worker_->ioc.get_executor().running_in_this_thread()) {
      server_->responders_dropped->Inc();
      OnResponse(InternalErrorResponse());
      return;
    }
    std::lock_guard<std::mutex> lock(worker_->post_mu);
    if (worker_->stopped) return;
    asio::post(worker_->ioc, [self = shared_from_this()]() {
      self->server_->responders_dropped->Inc();
      self->OnResponse(InternalErrorResponse());
    });
  }

  // On the I/O thread, during Stop: close now unless a request is under way.
  void CloseIfIdle() {
    if (phase_ == Phase::kIdle && buffer_.size() == 0) Close();
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    error_code ec;
    timer_.cancel();
    socket_.close(ec);
    if (linked_) {
      if (prev_ != nullptr) prev_->next_ = next_;
      if (next_ != nullptr) next_->prev_ = prev_;
      if (worker_->first == this) worker_->first = next_;
      linked_ = false;
    }
    server_->OnConnectionClosed();
  }

  Connection* next() const { return next_; }

 private:
  enum class Phase {
    kIdle,       // waiting for the first byte of a request
    kHeader,     // reading the request header
    kContinue,   // writing "100 Continue"
    kBody,       // reading the body
    kHandler,    // the handler has the request
    kWriting,    // writing a response (async part)
    kLingering,  // discarding input after a closing response
    kClosed,
  };

  static HttpResponse InternalErrorResponse() {
    HttpResponse response;
    response.status = 500;
    return response;
  }

  const HttpServerOptions& options() const { return server_->options; }

  // ---- reading and parsing ----

  void DoRead() {
    uint64_t gen = ++read_gen_;
    size_t chunk = phase_ == Phase::kBody ? kBodyReadChunk : kHeaderReadChunk;
    socket_.async_read_some(buffer_.prepare(chunk),
                            [self = shared_from_this(), gen](const error_code& ec, size_t n) {
                              self->OnRead(gen, ec, n);
                            });
  }

  void OnRead(uint64_t gen, const error_code& ec, size_t n) {
    if (gen != read_gen_ || phase_ == Phase::kClosed) return;
    if (n > 0) server_->bytes_read->Inc(n);
    if (phase_ == Phase::kLingering) {
      // Discard; stop at EOF or error (the deadline bounds the rest).
      if (ec) {
        Close();
      } else {
        DoLingerRead();
      }
      return;
    }
    if (ec) {
      Close();  // EOF, reset or cancelled: nothing to answer
      return;
    }
    buffer_.commit(n);
    Parse();
  }

  void StartRequest() {
    phase_ = Phase::kHeader;
    header_start_ = std::chrono::steady_clock::now();
    header_consumed_ = 0;
    parser_.emplace();
    size_t limit = options().max_request_line_bytes + 2 + options().max_header_bytes + 1;
    parser_->header_limit(static_cast<std::uint32_t>(std::min<size_t>(limit, UINT32_MAX)));
    parser_->body_limit(static_cast<std::uint64_t>(options().max_body_bytes));
  }

  // Limits on a header still arriving, checked on the raw bytes: Beast's
  // header_limit covers line and fields together, and we want to tell them apart
  // (and stop early).
  bool CheckPartialHeader(bool beast_limit_hit) {
    size_t max_line = options().max_request_line_bytes;
    if (parser_->request_line_bytes() > 0) {
      // Beast has parsed (and consumed) the request line already.
      if (parser_->request_line_bytes() > max_line) {
        Reject(Reason::kRequestLineTooLong, 400);
        return false;
      }
      size_t fields = header_consumed_ + buffer_.size() - parser_->request_line_bytes() - 2;
      if (fields > options().max_header_bytes || beast_limit_hit) {
        Reject(Reason::kHeadersTooLarge, 400);
        return false;
      }
      return true;
    }
    const char* data = static_cast<const char*>(buffer_.data().data());
    size_t size = buffer_.size();
    size_t scan = std::min(size, max_line + 2);
    const char* nl = static_cast<const char*>(memchr(data, '\n', scan));
    if (nl == nullptr) {
      if (size >= max_line + 2 || beast_limit_hit) {
        Reject(Reason::kRequestLineTooLong, 400);
        return false;
      }
      return true;
    }
    size_t line = static_cast<size_t>(nl - data);
    if (line > 0 && data[line - 1] == '\r') --line;
    if (line > max_line) {
      Reject(Reason::kRequestLineTooLong, 400);
      return false;
    }
    size_t fields = size - static_cast<size_t>(nl - data + 1);
    if (fields > options().max_header_bytes || beast_limit_hit) {
      Reject(Reason::kHeadersTooLarge, 400);
      return false;
    }
    return true;
  }

  void Parse() {
    while (true) {
      if (buffer_.size() == 0) {
        ReadMore();
        return;
      }
      if (phase_ == Phase::kIdle) StartRequest();
      error_code ec;
      size_t n = parser_->put(buffer_.data(), ec);
      buffer_.consume(n);
      if (phase_ == Phase::kHeader) header_consumed_ += n;
      if (ec == http::error::need_more) {
        if (phase_ == Phase::kHeader && !CheckPartialHeader(false)) return;
        ReadMore();
        return;
      }
      if (ec) {
        OnParseError(ec);
        return;
      }
      if (phase_ == Phase::kHeader && parser_->is_header_done()) {
        if (parser_->request_line_bytes() > options().max_request_line_bytes) {
          Reject(Reason::kRequestLineTooLong, 400);
          return;
        }
        if (header_consumed_ - parser_->request_line_bytes() - 2 > options().max_header_bytes) {
          Reject(Reason::kHeadersTooLarge, 400);
          return;
        }
        if (!parser_->is_done()) {
          phase_ = Phase::kBody;
          body_start_ = std::chrono::steady_clock::now();
          parser_->eager(true);
          if (parser_->expect_continue() && parser_->version() >= 11) {
            WriteContinue();
            return;
          }
        }
      }
      if (parser_->is_done()) {
        Dispatch();
        return;
      }
    }
  }

  // Reads on with the deadline of the current phase.
  void ReadMore() {
    if (phase_ == Phase::kHeader) {
      SetDeadline(header_start_ + options().header_timeout);
    } else if (phase_ == Phase::kBody) {
      SetDeadline(body_start_ + options().body_timeout);
    }
    DoRead();
  }

  void OnParseError(const error_code& ec) {
    if (ec == http::error::header_limit) {
      CheckPartialHeader(true);
    } else if (ec == http::error::body_limit) {
      Reject(Reason::kBodyTooLarge, 413);
    } else {
      Reject(Reason::kBadRequest, 400);
    }
  }

  void WriteContinue() {
    phase_ = Phase::kContinue;
    SetDeadline(body_start_ + options().body_timeout);
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](const error_code& ec, size_t n) {
                        if (self->phase_ != Phase::kContinue) return;
                        self->server_->bytes_written->Inc(n);
                        if (ec) {
                          self->Close();
                          return;
                        }
                        self->phase_ = Phase::kBody;
                        self->Parse();
                      });
  }

  // ---- handing off and answering ----

  class ConnectionResponder final : public Responder {
   public:
    explicit ConnectionResponder(std::shared_ptr<Connection> connection)
        : connection_(std::move(connection)) {}
    ~ConnectionResponder() override {
      if (!sent_.exchange(true)) {
        log::Error("http handler dropped its Responder without a response; answering 500");
        connection_->DeliverDropped();
      }
    }
    void Send(HttpResponse response) override {
      if (sent_.exchange(true)) {
        log::Warn("http Responder::Send called more than once; ignored");
        return;
      }
      connection_->Deliver(std::move(response));
    }

   private:
    std::shared_ptr<Connection> connection_;
    std::atomic<bool> sent_{false};
  };

  void Dispatch() {
    phase_ = Phase::kHandler;
    deadline_ = SteadyTime::max();
    keep_alive_ = parser_->keep_alive();
    http10_ = parser_->version() < 11;
    HttpRequest request = std::move(parser_->request());
    head_ = request.method == "HEAD";
    request.keep_alive = keep_alive_;
    request.remote_address = remote_address_;
    request.remote_port = remote_port_;
    parser_.reset();
    server_->requests->Inc();
    server_->handler(std::move(request), std::make_shared<ConnectionResponder>(shared_from_this()));
  }

  void OnResponse(HttpResponse response) {
    if (phase_ != Phase::kHandler) return;  // closed meanwhile (client gone, or Stop)
    bool close =
        response.close || !keep_alive_ || server_->draining.load(std::memory_order_relaxed);
    WriteResponse(response.status, response.headers, std::move(response.body), close, head_);
  }

  void Reject(Reason reason, int status) {
    server_->Reject(reason);
    ++read_gen_;  // a read still pending completes as cancelled and is ignored
    error_code ec;
    socket_.cancel(ec);
    head_ = false;
    WriteResponse(status, {}, std::string(), /*close=*/true, /*head=*/false);
  }

  void WriteResponse(int status, const HeaderList& headers, std::string body, bool close,
                     bool head) {
    if (status < 200 || status > 599) {
      // 1xx would leave the client waiting for a final response.
      log::Error("http handler answered with an unsupported status; sending 500",
                 {{"status", status}});
      status = 500;
    }
    bool no_body = status == 204 || status == 304;
    out_.clear();
    out_.append("HTTP/1.1 ");
    AppendNumber(out_, static_cast<uint64_t>(status));
    out_.push_back(' ');
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(status));
    if (reason.empty() || reason[0] == '<') reason = "Unknown";
    out_.append(reason.data(), reason.size());
    out_.append("\r\nServer: ");
    AppendSanitized(out_, options().server_name);
    out_.append("\r\nDate: ");
    out_.append(worker_->date.Get(*server_->clock));
    out_.append("\r\n");
    for (const auto& [name, value] : headers) {
      if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding"))
        continue;
      if (EqualsIgnoreCase(name, "Connection")) {
        if (EqualsIgnoreCase(value, "close")) close = true;
        continue;
      }
      AppendSanitized(out_, name);
      out_.append(": ");
      AppendSanitized(out_, value);
      out_.append("\r\n");
    }
    if (!no_body) {
      out_.append("Content-Length: ");
      AppendNumber(out_, body.size());
      out_.append("\r\n");
    }
    if (close) {
      out_.append("Connection: close\r\n");
    } else if (http10_) {
      out_.append("Connection: keep-alive\r\n");
    }
    out_.append("\r\n");
    if (head || no_body) body.clear();
    if (body.size() <= kInlineBodyBytes) {
      out_.append(body);
      body.clear();
    }
    body_ = std::move(body);
    closing_ = close;

    // Most responses fit in the socket buffer: try to write them right away.
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(out_), asio::buffer(body_)};
    size_t total = out_.size() + body_.size();
    error_code ec;
    size_t written = socket_.write_some(buffers, ec);
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      Close();
      return;
    }
    if (ec) written = 0;
    server_->bytes_written->Inc(written);
    if (written == total) {
      AfterWrite();
      return;
    }
    phase_ = Phase::kWriting;
    SetDeadline(std::chrono::steady_clock::now() + options().write_timeout);
    std::array<asio::const_buffer, 2> rest = buffers;
    if (written < out_.size()) {
      rest[0] = asio::buffer(out_) + written;
    } else {
      rest[0] = asio::const_buffer();
      rest[1] = asio::buffer(body_) + (written - out_.size());
    }
    asio::async_write(socket_, rest, [self = shared_from_this()](const error_code& ec, size_t n) {
      if (self->phase_ != Phase::kWriting) return;
      self->server_->bytes_written->Inc(n);
      if (ec) {
        self->Close();
        return;
      }
      self->AfterWrite();
    });
  }

  void AfterWrite() {
    body_.clear();
    if (closing_) {
      StartLinger();
      return;
    }
    if (server_->draining.load(std::memory_order_relaxed) && buffer_.size() == 0) {
      Close();
      return;
    }
    phase_ = Phase::kIdle;
    SetDeadline(std::chrono::steady_clock::now() + options().idle_timeout);
    if (buffer_.size() == 0) {
      // Give back what very large headers made the buffer grow to.
      if (buffer_.capacity() > kMaxIdleBufferBytes) buffer_.shrink_to_fit();
      DoRead();
      return;
    }
    // A pipelined request is already buffered. Parse it from the event loop, not
    // from here: this may run inside the handler's Send, and a client pipelining
    // many requests must not make handlers nest on the stack.
    asio::post(worker_->ioc, [self = shared_from_this()] {
      if (self->phase_ == Phase::kIdle) self->Parse();
    });
  }

  void StartLinger() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec || server_->draining.load(std::memory_order_relaxed)) {
      Close();
      return;
    }
    phase_ = Phase::kLingering;
    buffer_.clear();
    SetDeadline(std::chrono::steady_clock::now() + options().linger_timeout);
    DoLingerRead();
  }

  void DoLingerRead() {
    uint64_t gen = ++read_gen_;
    // Read into the (cleared) buffer without committing: the bytes are discarded.
    socket_.async_read_some(buffer_.prepare(kLingerChunk),
                            [self = shared_from_this(), gen](const error_code& ec, size_t n) {
                              self->OnRead(gen, ec, n);
                            });
  }

  // ---- deadlines ----

  // Only stores the deadline; the timer is re-armed when it must fire earlier
  // than it is set to, or when it fires before the deadline.
  void SetDeadline(SteadyTime deadline) {
    deadline_ = deadline;
    if (!timer_armed_ || deadline < timer_expiry_) ArmTimer(deadline);
  }

  void ArmTimer(SteadyTime at) {
    timer_armed_ = true;
    timer_expiry_ = at;
    uint64_t gen = ++timer_gen_;
    timer_.expires_at(at);
    timer_.async_wait(
        [self = shared_from_this(), gen](const error_code& ec) { self->OnTimer(gen, ec); });
  }

  void OnTimer(uint64_t gen, const error_code& ec) {
    if (gen != timer_gen_ || phase_ == Phase::kClosed) return;
    timer_armed_ = false;
    if (deadline_ == SteadyTime::max()) return;
    if (std::chrono::steady_clock::now() < deadline_) {
      ArmTimer(deadline_);
      return;
    }
    switch (phase_) {
      case Phase::kIdle:
        Close();
        return;
      case Phase::kHeader:
        Reject(Reason::kHeaderTimeout, 408);
        return;
      case Phase::kContinue:
      case Phase::kBody:
        Reject(Reason::kBodyTimeout, 408);
        return;
      case Phase::kWriting:
      case Phase::kLingering:
        Close();
        return;
      case Phase::kHandler:
      case Phase::kClosed:
        return;
    }
  }

  // Declared first so it is destroyed last: the socket and timer below belong to
  // worker_->ioc.
  std::shared_ptr<Worker> worker_;
  ServerState* server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::string out_;   // serialized response head (and small bodies)
  std::string body_;  // a large body, written after out_
  std::string remote_address_;
  uint16_t remote_port_ = 0;
  Phase phase_ = Phase::kIdle;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_ = false;
  bool closing_ = false;
  SteadyTime header_start_;
  size_t header_consumed_ = 0;  // header bytes the parser has consumed so far
  SteadyTime body_start_;
  SteadyTime deadline_ = SteadyTime::max();
  SteadyTime timer_expiry_;
  bool timer_armed_ = false;
  uint64_t timer_gen_ = 0;
  uint64_t read_gen_ = 0;
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
  bool linked_ = false;
};

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, Handler handler, MetricsRegistry& metrics,
       const std::string& prefix)
      : state_(std::move(options), std::move(handler), metrics, prefix) {}

  ~Impl() { Stop(std::chrono::milliseconds(0)); }

  Status Start();
  void Stop(std::chrono::milliseconds drain);
  int port() const { return port_; }

 private:
  void Accept();
  void OnAccept(const error_code& ec, tcp::socket socket, size_t worker_index);
  // Runs `fn(worker)` on every worker's thread and waits for all of them.
  void RunOnEachWorker(const std::function<void(Worker&)>& fn);

  ServerState state_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::unique_ptr<tcp::acceptor> acceptor_;           // on workers_[0]
  std::unique_ptr<asio::steady_timer> accept_retry_;  // on workers_[0]
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  size_t next_worker_ = 0;  // accept thread only
  int port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

Status HttpServer::Impl::Start() {
  if (started_ || stopped_)
    return FailedPreconditionError("http server already started (a server runs once)");
  error_code ec;
  asio::ip::address address = asio::ip::make_address(state_.options.bind, ec);
  if (ec)
    return InvalidArgumentError("bad bind address '" + state_.options.bind + "': " + ec.message());
  if (state_.options.port < 0 || state_.options.port > 65535) {
    return InvalidArgumentError("bad port " + std::to_string(state_.options.port));
  }
  int threads = state_.options.threads > 0 ? state_.options.threads
                                           : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 0; i < threads; ++i) workers_.push_back(std::make_shared<Worker>());

  tcp::endpoint endpoint(address, static_cast<unsigned short>(state_.options.port));
  acceptor_ = std::make_unique<tcp::acceptor>(workers_[0]->ioc);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string where = state_.options.bind + ":" + std::to_string(state_.options.port);
    acceptor_.reset();
    workers_.clear();
    if (ec == asio::error::address_in_use)
      return UnavailableError("cannot listen on " + where + ": " + ec.message());
    if (ec == boost::system::errc::address_not_available) {
      return InvalidArgumentError("cannot listen on " + where + ": " + ec.message());
    }
    return UnavailableError("cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_->local_endpoint().port();
  accept_retry_ = std::make_unique<asio::steady_timer>(workers_[0]->ioc);
  started_ = true;
  for (auto& worker : workers_) guards_.push_back(asio::make_work_guard(worker->ioc));
  Accept();
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    w->thread = std::thread([w] {
      // Handlers must not throw; if one does, log it and keep serving.
      while (true) {
        try {
          w->ioc.run();
          return;
        } catch (const std::exception& e) {
          log::Error("http server: exception escaped a handler", {{"error", e.what()}});
        }
      }
    });
  }
  return Status::Ok();
}

void HttpServer::Impl::Accept() {
  size_t index = next_worker_;
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_->async_accept(workers_[index]->ioc,
                          [this, index](const error_code& ec, tcp::socket socket) {
                            OnAccept(ec, std::move(socket), index);
                          });
}

void HttpServer::Impl::OnAccept(const error_code& ec, tcp::socket socket, size_t worker_index) {
  if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
  if (ec) {
    // Out of descriptors or a transient network error: back off briefly.
    log::Warn("http accept failed", {{"error", ec.message()}});
    accept_retry_->expires_after(std::chrono::milliseconds(50));
    accept_retry_->async_wait([this](const error_code& e) {
      if (!e && acceptor_->is_open()) Accept();
    });
    return;
  }
  if (state_.open.load(std::memory_order_relaxed) >= state_.options.max_connections) {
    state_.Reject(Reason::kTooManyConnections);
    error_code ignored;
    socket.close(ignored);
    Accept();
    return;
  }
  state_.open.fetch_add(1, std::memory_order_relaxed);
  state_.accepted->Inc();
  state_.open_gauge->Add(1);
  std::shared_ptr<Worker> worker = workers_[worker_index];
  auto connection = std::make_shared<Connection>(&state_, worker, std::move(socket));
  asio::post(worker->ioc, [connection] { connection->Start(); });
  Accept();
}

void HttpServer::Impl::RunOnEachWorker(const std::function<void(Worker&)>& fn) {
  std::mutex mu;
  std::condition_variable cv;
  size_t done = 0;
  for (auto& worker : workers_) {
    Worker* w = worker.get();
    asio::post(w->ioc, [&, w] {
      fn(*w);
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == workers_.size(); });
}

void HttpServer::Impl::Stop(std::chrono::milliseconds drain) {
  if (!started_) return;
  started_ = false;
  stopped_ = true;
  auto deadline = std::chrono::steady_clock::now() + drain;
  state_.draining = true;
  // Stop accepting, and close connections waiting for a next request.
  RunOnEachWorker([this](Worker& w) {
    if (&w == workers_[0].get()) {
      error_code ec;
      acceptor_->close(ec);
      accept_retry_->cancel();
    }
    for (Connection* c = w.first; c != nullptr;) {
      Connection* next = c->next();
      c->CloseIfIdle();
      c = next;
    }
  });
  {
    std::unique_lock<std::mutex> lock(state_.drain_mu);
    state_.drained.wait_until(lock, deadline, [this] { return state_.open.load() == 0; });
  }
  // Close whatever is left; refuse later cross-thread responses.
  RunOnEachWorker([](Worker& w) {
    for (Connection* c = w.first; c != nullptr;) {
      Connection* next = c->next();
      c->Close();
      c = next;
    }
  });
  for (auto& worker : workers_) {
    std::lock_guard<std::mutex> lock(worker->post_mu);
    worker->stopped = true;
  }
  // With every socket, timer and acceptor closed, each run() returns once its
  // queue is empty.
  guards_.clear();
  for (auto& worker : workers_) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  acceptor_.reset();
  accept_retry_.reset();
  workers_.clear();
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler, MetricsRegistry& metrics,
                       std::string metrics_prefix)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), metrics,
                                   std::move(metrics_prefix))) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Start() { return impl_->Start(); }

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop(std::chrono::milliseconds drain) { impl_->Stop(drain); }

}  // namespace furrow::net
