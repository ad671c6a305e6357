// HttpClient: a small HTTP/1.1 client on libcurl, for talking to S3, Kinesis,
// warehouses, Iglu registries and the Service Ping receiver.
//
//   HttpClient client(HttpClientOptions{});
//   HttpClientRequest request;
//   request.method = "PUT";
//   request.url = "http://127.0.0.1:9000/bucket/key";
//   request.body = data;
//   Result<HttpClientResponse> response = client.Send(request);
//
// Any HTTP status (including 4xx and 5xx) is a successful transfer: Send returns
// the response and the caller decides. Transport failures are errors as values:
//   kInvalidArgument    the URL or method is malformed / unsupported by curl
//   kUnavailable        connection refused, DNS failure, connection reset, TLS
//                       failure, ... (the message carries curl's own text)
//   kDeadlineExceeded   the request (or its connect phase) timed out
//   kResourceExhausted  the response body exceeded max_response_bytes
//   kInternal           curl could not be set up (out of memory)
//
// Thread safety: one HttpClient may be used from many threads at once. It keeps
// a small pool of curl easy handles (each with its own connection cache), so
// consecutive requests to the same host reuse kept-alive connections. The
// process-wide curl_global_init runs once, on first construction.
//
// SendWithRetry adds bounded retries with exponential backoff; its sleep is
// injected so tests never sleep.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace furrow::net {

using ClientHeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpClientRequest {
  std::string method = "GET";  // any token; "HEAD" reads no body
  std::string url;             // http:// or https://
  ClientHeaderList headers;    // sent in order, after HttpClientOptions::extra_headers
  std::string body;            // sent as is when non-empty (or for POST/PUT/PATCH)
  std::chrono::milliseconds timeout{30000};          // whole request; 0 = no limit
  std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS connect; 0 = curl's default
};

struct HttpClientResponse {
  int status = 0;
  ClientHeaderList headers;  // of the final response, names as sent by the server
  std::string body;

  // First header with this name (case-insensitive), if any.
  std::optional<std::string_view> Header(std::string_view name) const;
};

// AWS Signature Version 4, computed by curl (CURLOPT_AWS_SIGV4 with
// "aws:amz:REGION:SERVICE"; the access key and secret are curl's user:password).
struct AwsSigV4Options {
  std::string region;   // e.g. "eu-west-1"
  std::string service;  // e.g. "s3", "kinesis"
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // sent as x-amz-security-token when non-empty
};

struct HttpClientOptions {
  // Sign every request with SigV4 when set. Default: unset (no signing).
  std::optional<AwsSigV4Options> aws_sigv4;
  // Headers added to every request, before the request's own. Default: none.
  ClientHeaderList extra_headers;
  // A response body larger than this fails with kResourceExhausted. Default 64 MiB.
  size_t max_response_bytes = 64 * 1024 * 1024;
  // Sent as User-Agent unless the request sets its own. Default "furrow".
  std::string user_agent = "furrow";
  // Follow 3xx redirects (at most 5). Default false.
  bool follow_redirects = false;
  // Verify TLS peers and host names. Default true; only tests turn this off.
  bool verify_tls = true;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one request. Blocks the calling thread until the response is read
  // or an error occurs. See the banner for the error codes.
  [[nodiscard]] Result<HttpClientResponse> Send(const HttpClientRequest& request);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Bounded retry with exponential backoff: attempt i (from 1) waits
// min(initial_backoff * multiplier^(i-1), max_backoff) before attempt i+1.
struct RetryPolicy {
  int max_attempts = 3;  // total attempts, >= 1
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  double multiplier = 2.0;
};

using SleepFunction = std::function<void(std::chrono::milliseconds)>;

// Sleeps the calling thread (the default SleepFunction).
void SleepFor(std::chrono::milliseconds duration);

// The wait before attempt `attempt` + 1 (attempt counts from 1).
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt);

// True for transfers worth retrying: kUnavailable and kDeadlineExceeded errors,
// and HTTP 408, 429, 500, 502, 503 and 504 responses.
bool IsRetryable(const Result<HttpClientResponse>& result);

// Sends `request` up to policy.max_attempts times while IsRetryable, sleeping
// BackoffDelay between attempts through `sleep`. Returns the last result (which
// may be a retryable 5xx response when attempts run out).
[[nodiscard]] Result<HttpClientResponse> SendWithRetry(HttpClient& client,
                                                       const HttpClientRequest& request,
                                                       const RetryPolicy& policy,
                                                       const SleepFunction& sleep = SleepFor);

}  // namespace furrow::net
