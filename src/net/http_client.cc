#include "net/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

namespace furrow::net {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool HasHeader(const ClientHeaderList& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// State one transfer's callbacks write into.
struct Transfer {
  HttpClientResponse response;
  size_t max_body = 0;
  bool body_too_large = false;
};

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (t->response.body.size() + n > t->max_body) {
    t->body_too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  t->response.body.append(data, n);
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response starts (after 100 Continue or a followed redirect).
    t->response.headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;  // the blank line ending the headers
  t->response.headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                   std::string(Trim(line.substr(colon + 1))));
  return n;
}

Status CurlError(CURLcode code, const char* error_buffer) {
  std::string message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return DeadlineExceededError(message);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return InvalidArgumentError(message);
    case CURLE_OUT_OF_MEMORY:
      return InternalError(message);
    default:
      return UnavailableError(message);
  }
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool Append(Slist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next == nullptr) return false;
  // `next` is the head of the same list (or a new one-element list): own it
  // without freeing the old head.
  static_cast<void>(list.release());
  list.reset(next);
  return true;
}

}  // namespace

std::optional<std::string_view> HttpClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

class HttpClient::Impl {
 public:
  explicit Impl(HttpClientOptions options) : options_(std::move(options)) {
    if (options_.aws_sigv4) {
      const AwsSigV4Options& aws = *options_.aws_sigv4;
      sigv4_provider_ = "aws:amz:" + aws.region + ":" + aws.service;
      sigv4_userpwd_ = aws.access_key_id + ":" + aws.secret_access_key;
    }
  }

  ~Impl() {
    for (CURL* handle : idle_) curl_easy_cleanup(handle);
  }

  Result<HttpClientResponse> Send(const HttpClientRequest& request) {
    CURL* handle = Acquire();
    if (handle == nullptr) return InternalError("curl_easy_init failed");
    Result<HttpClientResponse> result = Perform(handle, request);
    Release(handle);
    return result;
  }

 private:
  static constexpr size_t kMaxIdleHandles = 8;

  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* handle = idle_.back();
        idle_.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* handle) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.size() < kMaxIdleHandles) {
        idle_.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }

  Result<HttpClientResponse> Perform(CURL* h, const HttpClientRequest& request) {
    if (request.method.empty()) return InvalidArgumentError("empty HTTP method");
    // Keeps the connection cache, forgets every option of the previous transfer.
    curl_easy_reset(h);

    Transfer transfer;
    transfer.max_body = options_.max_response_bytes;
    char error_buffer[CURL_ERROR_SIZE];
    error_buffer[0] = '\0';

    Slist headers;
    bool ok = true;
    for (const auto& [name, value] : options_.extra_headers)
      ok &= Append(headers, name + ": " + value);
    for (const auto& [name, value] : request.headers) ok &= Append(headers, name + ": " + value);
    if (options_.aws_sigv4 && !options_.aws_sigv4->session_token.empty()) {
      ok &= Append(headers, "x-amz-security-token: " + options_.aws_sigv4->session_token);
    }
    // curl would otherwise wait up to a second for "100 Continue" on large bodies.
    if (!HasHeader(request.headers, "Expect")) ok &= Append(headers, "Expect:");
    if (!ok) return InternalError("curl_slist_append failed");

    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    if (options_.follow_redirects) {
      curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    }
    if (!options_.verify_tls) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (options_.aws_sigv4) {
      curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4_provider_.c_str());
      curl_easy_setopt(h, CURLOPT_USERPWD, sigv4_userpwd_.c_str());
    }

    const std::string& method = request.method;
    if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method == "GET" && request.body.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
      bool sends_body =
          !request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
      if (sends_body) {
        // POSTFIELDS does not copy: request.body outlives the transfer.
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.body.size()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
      }
      if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }

    CURLcode code = curl_easy_perform(h);
    // The error buffer lives on this stack frame; never leave it set on a pooled handle.
    std::string message = error_buffer;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    if (transfer.body_too_large) {
      return ResourceExhaustedError("response body exceeds " +
                                    std::to_string(options_.max_response_bytes) + " bytes from " +
                                    request.url);
    }
    if (code != CURLE_OK)
      return CurlError(code, message.c_str()).WithContext(method + " " + request.url);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    transfer.response.status = static_cast<int>(status);
    return std::move(transfer.response);
  }

  const HttpClientOptions options_;
  std::string sigv4_provider_;
  std::string sigv4_userpwd_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_
};

HttpClient::HttpClient(HttpClientOptions options) {
  GlobalInitOnce();
  impl_ = std::make_unique<Impl>(std::move(options));
}

HttpClient::~HttpClient() = default;

Result<HttpClientResponse> HttpClient::Send(const HttpClientRequest& request) {
  return impl_->Send(request);
}

void SleepFor(std::chrono::milliseconds duration) { std::this_thread::sleep_for(duration); }

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt) {
  double factor = std::pow(policy.multiplier, std::max(0, attempt - 1));
  double ms = static_cast<double>(policy.initial_backoff.count()) * factor;
  double cap = static_cast<double>(policy.max_backoff.count());
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(ms, cap)));
}

bool IsRetryable(const Result<HttpClientResponse>& result) {
  if (!result.ok()) {
    StatusCode code = result.status().code();
    return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
  }
  switch (result->status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

Result<HttpClientResponse> SendWithRetry(HttpClient& client, const HttpClientRequest& request,
                                         const RetryPolicy& policy, const SleepFunction& sleep) {
  int attempts = std::max(1, policy.max_attempts);
  for (int attempt = 1;; ++attempt) {
    Result<HttpClientResponse> result = client.Send(request);
    if (attempt >= attempts || !IsRetryable(result)) return result;
    sleep(BackoffDelay(policy, attempt));
  }
}

}  // namespace furrow::net
