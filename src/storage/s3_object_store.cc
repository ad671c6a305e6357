#include "storage/s3_object_store.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/logging.h"
#include "storage/s3_xml.h"

namespace furrow::storage {

namespace {

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A bucket name usable as a DNS label in virtual-hosted URLs.
bool IsDnsCompatibleBucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return bucket.front() != '-' && bucket.back() != '-';
}

bool IsRetryableCode(std::string_view code) {
  return code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
         code == "RequestTimeout" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestLimitExceeded";
}

bool IsRetryableHttpStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

StatusCode CodeFor(int http_status, std::string_view s3_code) {
  if (s3_code == "NoSuchKey" || s3_code == "NoSuchBucket" || s3_code == "NoSuchUpload") {
    return StatusCode::kNotFound;
  }
  if (s3_code == "AccessDenied" || s3_code == "InvalidAccessKeyId" ||
      s3_code == "SignatureDoesNotMatch" || s3_code == "ExpiredToken" ||
      s3_code == "InvalidToken" || s3_code == "AllAccessDisabled") {
    return StatusCode::kPermissionDenied;
  }
  if (IsRetryableCode(s3_code) || IsRetryableHttpStatus(http_status)) {
    return StatusCode::kUnavailable;
  }
  if (http_status == 404) return StatusCode::kNotFound;
  if (http_status == 401 || http_status == 403) return StatusCode::kPermissionDenied;
  if (http_status == 400) return StatusCode::kInvalidArgument;
  if (http_status == 412) return StatusCode::kFailedPrecondition;
  if (http_status >= 500) return StatusCode::kUnavailable;
  return StatusCode::kFailedPrecondition;
}

// Reads `length` bytes at `offset` of a file or a buffer, for one request body.
using BodyReader = std::function<Status(uint64_t offset, uint64_t length, std::string* out)>;

Status PreadExactly(int fd, const std::filesystem::path& path, uint64_t offset, uint64_t length,
                    std::string* out) {
  out->resize(length);
  uint64_t filled = 0;
  while (filled < length) {
    ssize_t n = ::pread(fd, out->data() + filled, length - filled,
                        static_cast<off_t>(offset + filled));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path.string(), errno);
    }
    if (n == 0) return DataLossError(path.string() + " shrank while it was being uploaded");
    filled += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

}  // namespace

bool ParseS3AddressingStyle(std::string_view text, S3AddressingStyle* out) {
  if (text == "auto") {
    *out = S3AddressingStyle::kAuto;
  } else if (text == "path") {
    *out = S3AddressingStyle::kPath;
  } else if (text == "virtual") {
    *out = S3AddressingStyle::kVirtualHosted;
  } else {
    return false;
  }
  return true;
}

class S3ObjectStore::Impl {
 public:
  Impl(S3Options options, std::string scheme, std::string host, bool path_style)
      : options_(std::move(options)),
        scheme_(std::move(scheme)),
        host_(std::move(host)),
        path_style_(path_style),
        rng_(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device()()) {
    net::HttpClientOptions client_options;
    client_options.aws_sigv4 =
        net::AwsSigV4Options{options_.region, "s3", options_.credentials.access_key_id,
                             options_.credentials.secret_access_key,
                             options_.credentials.session_token};
    client_options.max_response_bytes = static_cast<size_t>(options_.max_get_bytes);
    client_options.user_agent = "furrow-s3";
    client_ = std::make_unique<net::HttpClient>(std::move(client_options));
    if (!options_.sleep) options_.sleep = net::SleepFor;
  }

  std::string FullKey(std::string_view key) const { return options_.key_prefix + std::string(key); }

  std::string Target(std::string_view full_key) const {
    return options_.bucket + "/" + std::string(full_key);
  }

  std::string UrlFor(std::string_view full_key, std::string_view query) const {
    std::string url = scheme_ + "://";
    if (path_style_) {
      url += host_ + "/" + UriEncode(options_.bucket, false);
      if (!full_key.empty()) url += "/" + UriEncode(full_key, true);
    } else {
      url += options_.bucket + "." + host_ + "/" + UriEncode(full_key, true);
    }
    if (!query.empty()) {
      url += '?';
      url += query;
    }
    return url;
  }

  std::string Describe() const {
    std::string out = "s3://" + options_.bucket;
    if (!options_.key_prefix.empty()) {
      out += "/" + options_.key_prefix.substr(0, options_.key_prefix.size() - 1);
    }
    return out;
  }

  // A request with the headers every S3 call carries.
  net::HttpClientRequest NewRequest(std::string method, std::string url, std::string body) const {
    net::HttpClientRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers.emplace_back("x-amz-content-sha256", Sha256Hex(body));
    // curl 7.88's signer signs every header in the list, including the empty
    // "Expect:" the HttpClient adds to suppress 100-continue; that header is never
    // sent, so S3 would compute another signature. A real Expect header (what the
    // AWS SDKs send on uploads; S3 ignores it on bodiless requests) is sent and
    // signed alike.
    request.headers.emplace_back("Expect", "100-continue");
    request.body = std::move(body);
    request.timeout = options_.request_timeout;
    request.connect_timeout = options_.connect_timeout;
    return request;
  }

  static void AddMetadataHeaders(const ObjectMetadata& metadata, net::HttpClientRequest* request) {
    request->headers.emplace_back("Content-Type", "application/octet-stream");
    for (const auto& [name, value] : metadata) {
      request->headers.emplace_back("x-amz-meta-" + name, value);
    }
  }

  // Sends `request` with retries. `what` names the call in messages ("S3 PutObject
  // bucket/key"). A 2xx whose body is an S3 error document (CompleteMultipartUpload
  // can answer so) counts as that error when `error_in_ok_body`. A response with a
  // status in `accepted` (besides 2xx) is returned as a success.
  Result<net::HttpClientResponse> Execute(const std::string& what,
                                          const net::HttpClientRequest& request,
                                          bool error_in_ok_body = false,
                                          std::initializer_list<int> accepted = {}) {
    for (int attempt = 1;; ++attempt) {
      Result<net::HttpClientResponse> result = client_->Send(request);
      Status failure;
      bool retryable = false;
      if (!result.ok()) {
        StatusCode code = result.status().code();
        retryable = code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded;
        failure = Status(code, what + ": " + result.status().message());
      } else {
        int status = result->status;
        bool success = (status >= 200 && status < 300) ||
                       std::find(accepted.begin(), accepted.end(), status) != accepted.end();
        s3xml::ErrorBody error;
        if (!success || error_in_ok_body) error = s3xml::ParseError(result->body);
        if (success && error.code.empty()) {
          Count(what, "ok");
          return result;
        }
        std::string text = what + ": ";
        text += error.code.empty() ? "HTTP " + std::to_string(status) : error.code;
        if (!error.message.empty()) text += ": " + error.message;
        retryable = IsRetryableCode(error.code) || IsRetryableHttpStatus(status);
        failure = Status(CodeFor(status, error.code), std::move(text));
      }
      bool give_up = !retryable || attempt >= options_.max_attempts;
      Count(what, give_up ? "failed" : "retried");
      if (give_up) {
        if (attempt > 1) {
          return Status(failure.code(),
                        failure.message() + " (after " + std::to_string(attempt) + " attempts)");
        }
        return failure;
      }
      std::chrono::milliseconds delay = Backoff(attempt);
      log::Warn("S3 request failed; retrying",
                {{"request", what}, {"attempt", attempt}, {"error", failure.message()},
                 {"delay_ms", static_cast<int64_t>(delay.count())}});
      options_.sleep(delay);
    }
  }

  // Counts one attempt of the call `what` ("S3 PutObject bucket/key").
  void Count(const std::string& what, const char* outcome) {
    if (options_.metrics == nullptr) return;
    size_t start = what.find(' ') + 1;
    std::string operation = what.substr(start, what.find(' ', start) - start);
    options_.metrics
        ->GetCounter("furrow_s3_requests_total", "S3 request attempts by operation and outcome",
                     {{"operation", operation}, {"outcome", outcome}})
        .Inc();
  }

  std::chrono::milliseconds Backoff(int attempt) {
    int64_t cap = options_.initial_backoff.count();
    for (int i = 1; i < attempt && cap < options_.max_backoff.count(); ++i) cap *= 2;
    cap = std::min<int64_t>(cap, options_.max_backoff.count());
    std::lock_guard<std::mutex> lock(rng_mu_);
    std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(cap, 0));
    return std::chrono::milliseconds(pick(rng_));
  }

  Status PutSingle(std::string_view key, std::string body, const ObjectMetadata& metadata) {
    std::string full_key = FullKey(key);
    net::HttpClientRequest request = NewRequest("PUT", UrlFor(full_key, ""), std::move(body));
    AddMetadataHeaders(metadata, &request);
    return Execute("S3 PutObject " + Target(full_key), request).status();
  }

  Status PutMultipart(std::string_view key, uint64_t size, const BodyReader& read,
                      const ObjectMetadata& metadata) {
    std::string full_key = FullKey(key);
    std::string target = Target(full_key);
    uint64_t part_size = options_.part_size;
    if ((size + part_size - 1) / part_size > kS3MaxParts) {
      constexpr uint64_t kMiB = 1024 * 1024;
      part_size = ((size + kS3MaxParts - 1) / kS3MaxParts + kMiB - 1) / kMiB * kMiB;
    }

    net::HttpClientRequest initiate = NewRequest("POST", UrlFor(full_key, "uploads="), "");
    AddMetadataHeaders(metadata, &initiate);
    FURROW_ASSIGN_OR_RETURN(net::HttpClientResponse initiated,
                            Execute("S3 CreateMultipartUpload " + target, initiate));
    Result<std::string> upload_id = s3xml::ParseUploadId(initiated.body);
    if (!upload_id.ok()) {
      return upload_id.status().WithContext("S3 CreateMultipartUpload " + target);
    }
    Status s = UploadParts(full_key, target, *upload_id, size, part_size, read);
    if (!s.ok()) Abort(full_key, target, *upload_id);
    return s;
  }

  Status UploadParts(const std::string& full_key, const std::string& target,
                     const std::string& upload_id, uint64_t size, uint64_t part_size,
                     const BodyReader& read) {
    std::string encoded_id = UriEncode(upload_id, false);
    std::vector<std::string> etags;
    for (uint64_t offset = 0; offset < size; offset += part_size) {
      uint64_t length = std::min(part_size, size - offset);
      std::string body;
      FURROW_RETURN_IF_ERROR(read(offset, length, &body));
      int number = static_cast<int>(etags.size()) + 1;
      std::string query = "partNumber=" + std::to_string(number) + "&uploadId=" + encoded_id;
      net::HttpClientRequest request = NewRequest("PUT", UrlFor(full_key, query), std::move(body));
      std::string what = "S3 UploadPart " + target + " part " + std::to_string(number);
      FURROW_ASSIGN_OR_RETURN(net::HttpClientResponse response, Execute(what, request));
      std::optional<std::string_view> etag = response.Header("ETag");
      if (!etag || etag->empty()) return UnavailableError(what + ": response has no ETag");
      etags.emplace_back(*etag);
    }
    net::HttpClientRequest complete =
        NewRequest("POST", UrlFor(full_key, "uploadId=" + encoded_id),
                   s3xml::CompleteMultipartUploadBody(etags));
    complete.headers.emplace_back("Content-Type", "application/xml");
    return Execute("S3 CompleteMultipartUpload " + target, complete, /*error_in_ok_body=*/true)
        .status();
  }

  void Abort(const std::string& full_key, const std::string& target, const std::string& upload_id) {
    net::HttpClientRequest request =
        NewRequest("DELETE", UrlFor(full_key, "uploadId=" + UriEncode(upload_id, false)), "");
    Status s = Execute("S3 AbortMultipartUpload " + target, request).status();
    if (!s.ok()) {
      log::Warn("could not abort a failed multipart upload; a bucket lifecycle rule "
                "(AbortIncompleteMultipartUpload) will remove its parts",
                {{"error", s.message()}});
    }
  }

  const S3Options& options() const { return options_; }
  net::HttpClient& client() { return *client_; }

 private:
  S3Options options_;
  std::string scheme_;
  std::string host_;  // host[:port] of the endpoint
  bool path_style_;
  std::unique_ptr<net::HttpClient> client_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
};

Result<std::unique_ptr<S3ObjectStore>> S3ObjectStore::Create(S3Options options) {
  if (options.bucket.empty()) return InvalidArgumentError("S3: no bucket");
  if (options.bucket.find('/') != std::string::npos) {
    return InvalidArgumentError("S3: bucket name contains '/': " + options.bucket);
  }
  while (!options.key_prefix.empty() && options.key_prefix.back() == '/') {
    options.key_prefix.pop_back();
  }
  if (!options.key_prefix.empty()) {
    Status s = ValidateKey(options.key_prefix);
    if (!s.ok()) return InvalidArgumentError("S3: invalid key prefix: " + s.message());
    options.key_prefix += '/';
  }
  if (options.region.empty()) return InvalidArgumentError("S3: no region");
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return InvalidArgumentError("S3: no credentials");
  }
  if (options.part_size < kS3MinPartSize) {
    return InvalidArgumentError("S3: part_size must be at least " +
                                std::to_string(kS3MinPartSize) + " bytes");
  }
  if (options.multipart_threshold == 0) {
    return InvalidArgumentError("S3: multipart_threshold must be positive");
  }
  if (options.max_attempts < 1) return InvalidArgumentError("S3: max_attempts must be >= 1");

  std::string scheme = "https";
  std::string host = "s3." + options.region + ".amazonaws.com";
  bool custom_endpoint = !options.endpoint.empty();
  if (custom_endpoint) {
    std::string_view endpoint = options.endpoint;
    size_t sep = endpoint.find("://");
    if (sep == std::string_view::npos) {
      return InvalidArgumentError("S3: endpoint must be http://HOST[:PORT] or https://...: " +
                                  options.endpoint);
    }
    scheme = Lower(endpoint.substr(0, sep));
    if (scheme != "http" && scheme != "https") {
      return InvalidArgumentError("S3: endpoint scheme must be http or https: " + options.endpoint);
    }
    std::string_view rest = endpoint.substr(sep + 3);
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) {
      return InvalidArgumentError("S3: endpoint must have a host and no path: " +
                                  options.endpoint);
    }
    host = std::string(rest);
  }
  bool path_style = false;
  switch (options.addressing_style) {
    case S3AddressingStyle::kPath: path_style = true; break;
    case S3AddressingStyle::kVirtualHosted:
      path_style = false;
      if (!IsDnsCompatibleBucket(options.bucket) && options.bucket.find('.') == std::string::npos) {
        return InvalidArgumentError("S3: bucket " + options.bucket +
                                    " cannot be addressed virtual-hosted style");
      }
      break;
    case S3AddressingStyle::kAuto:
      path_style = custom_endpoint || !IsDnsCompatibleBucket(options.bucket);
      break;
  }
  auto impl = std::make_unique<Impl>(std::move(options), std::move(scheme), std::move(host),
                                     path_style);
  return std::unique_ptr<S3ObjectStore>(new S3ObjectStore(std::move(impl)));
}

S3ObjectStore::S3ObjectStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
S3ObjectStore::~S3ObjectStore() = default;

std::string S3ObjectStore::Describe() const { return impl_->Describe(); }

std::string S3ObjectStore::UrlFor(std::string_view full_key, std::string_view query) const {
  return impl_->UrlFor(full_key, query);
}

Status S3ObjectStore::Put(std::string_view key, std::string_view bytes,
                          const ObjectMetadata& metadata) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  FURROW_RETURN_IF_ERROR(ValidateMetadata(metadata));
  if (bytes.size() <= impl_->options().multipart_threshold) {
    return impl_->PutSingle(key, std::string(bytes), metadata);
  }
  BodyReader read = [bytes](uint64_t offset, uint64_t length, std::string* out) {
    out->assign(bytes.substr(offset, length));
    return Status::Ok();
  };
  return impl_->PutMultipart(key, bytes.size(), read, metadata);
}

Status S3ObjectStore::PutFile(std::string_view key, const std::filesystem::path& file,
                              const ObjectMetadata& metadata) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  FURROW_RETURN_IF_ERROR(ValidateMetadata(metadata));
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError("open " + file.string() + ": " + std::strerror(err));
    if (err == EACCES) {
      return PermissionDeniedError("open " + file.string() + ": " + std::strerror(err));
    }
    return ErrnoError("open " + file.string(), err);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoError("stat " + file.string(), errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgumentError(file.string() + " is not a regular file");
  uint64_t size = static_cast<uint64_t>(st.st_size);
  BodyReader read = [fd, &file](uint64_t offset, uint64_t length, std::string* out) {
    return PreadExactly(fd, file, offset, length, out);
  };
  if (size <= impl_->options().multipart_threshold) {
    std::string body;
    FURROW_RETURN_IF_ERROR(read(0, size, &body));
    return impl_->PutSingle(key, std::move(body), metadata);
  }
  return impl_->PutMultipart(key, size, read, metadata);
}

Result<std::string> S3ObjectStore::Get(std::string_view key) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  std::string full_key = impl_->FullKey(key);
  net::HttpClientRequest request = impl_->NewRequest("GET", impl_->UrlFor(full_key, ""), "");
  FURROW_ASSIGN_OR_RETURN(net::HttpClientResponse response,
                          impl_->Execute("S3 GetObject " + impl_->Target(full_key), request));
  return std::move(response.body);
}

Result<ObjectInfo> S3ObjectStore::Head(std::string_view key) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  std::string full_key = impl_->FullKey(key);
  std::string what = "S3 HeadObject " + impl_->Target(full_key);
  net::HttpClientRequest request = impl_->NewRequest("HEAD", impl_->UrlFor(full_key, ""), "");
  FURROW_ASSIGN_OR_RETURN(net::HttpClientResponse response, impl_->Execute(what, request));
  ObjectInfo info;
  info.key = std::string(key);
  std::optional<std::string_view> length = response.Header("Content-Length");
  if (!length) return UnavailableError(what + ": response has no Content-Length");
  auto [ptr, ec] = std::from_chars(length->data(), length->data() + length->size(), info.size);
  if (ec != std::errc() || ptr != length->data() + length->size()) {
    return UnavailableError(what + ": malformed Content-Length");
  }
  constexpr std::string_view kMetaHeader = "x-amz-meta-";
  for (const auto& [name, value] : response.headers) {
    std::string lower = Lower(name);
    if (lower.size() > kMetaHeader.size() && lower.compare(0, kMetaHeader.size(), kMetaHeader) == 0) {
      info.metadata[lower.substr(kMetaHeader.size())] = value;
    }
  }
  return info;
}

Status S3ObjectStore::ForEach(std::string_view prefix,
                              const std::function<Status(const ObjectInfo&)>& visit) {
  FURROW_RETURN_IF_ERROR(ValidatePrefix(prefix));
  const std::string& key_prefix = impl_->options().key_prefix;
  std::string full_prefix = impl_->FullKey(prefix);
  std::string what = "S3 ListObjectsV2 " + impl_->Target(full_prefix);
  std::string token;
  while (true) {
    // Parameters in canonical (sorted) order, as SigV4 signs them.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + UriEncode(token, false) + "&";
    query += "list-type=2";
    if (impl_->options().list_page_size > 0) {
      query += "&max-keys=" + std::to_string(impl_->options().list_page_size);
    }
    if (!full_prefix.empty()) query += "&prefix=" + UriEncode(full_prefix, false);
    net::HttpClientRequest request = impl_->NewRequest("GET", impl_->UrlFor("", query), "");
    FURROW_ASSIGN_OR_RETURN(net::HttpClientResponse response, impl_->Execute(what, request));
    Result<s3xml::ListPage> page = s3xml::ParseListObjectsV2(response.body);
    if (!page.ok()) return page.status().WithContext(what);
    for (const auto& [full_key, size] : page->objects) {
      if (full_key.compare(0, key_prefix.size(), key_prefix) != 0) continue;
      ObjectInfo info;
      info.key = full_key.substr(key_prefix.size());
      info.size = size;
      FURROW_RETURN_IF_ERROR(visit(info));
    }
    if (!page->truncated) return Status::Ok();
    token = page->next_continuation_token;
  }
}

Status S3ObjectStore::Delete(std::string_view key) {
  FURROW_RETURN_IF_ERROR(ValidateKey(key));
  std::string full_key = impl_->FullKey(key);
  net::HttpClientRequest request = impl_->NewRequest("DELETE", impl_->UrlFor(full_key, ""), "");
  Result<net::HttpClientResponse> response =
      impl_->Execute("S3 DeleteObject " + impl_->Target(full_key), request);
  if (!response.ok() && response.status().code() == StatusCode::kNotFound &&
      response.status().message().find("NoSuchKey") != std::string::npos) {
    return Status::Ok();  // S3 itself answers 204 here; some compatible stores 404
  }
  return response.status();
}

}  // namespace furrow::storage
