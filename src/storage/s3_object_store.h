// S3ObjectStore: an ObjectStore in an Amazon S3 bucket or an S3-compatible store
// (MinIO, Ceph RGW, R2, s3rver, ...), optionally below a key prefix.
//
// Requests go through net::HttpClient (libcurl) and are signed with AWS Signature
// Version 4 by curl; furrow computes the payload's SHA-256 itself (sent as
// x-amz-content-sha256, so S3 verifies every body) and builds canonical, sorted
// query strings, which is what curl 7.88's signer needs.
//
// Addressing: virtual-hosted style (https://BUCKET.s3.REGION.amazonaws.com/KEY) or
// path style (ENDPOINT/BUCKET/KEY). kAuto picks path style for a custom endpoint or
// a bucket name that is not a DNS label (dots, upper case, underscores), virtual
// hosted otherwise.
//
// Atomicity: S3 makes an object visible only when its PutObject or
// CompleteMultipartUpload succeeds, so readers never see partial objects. Objects
// larger than multipart_threshold are uploaded in parts of part_size bytes (a file
// is read one part at a time, so memory stays bounded by the larger of the two); a
// failed multipart upload is aborted (best effort) so no parts linger.
//
// Retries: transport failures (connection refused or reset, timeouts), HTTP 500,
// 502, 503 (SlowDown), 504, 429, and S3's RequestTimeout/InternalError codes are
// retried up to retry.max_attempts times in total, sleeping a random delay in
// [0, min(max_backoff, initial_backoff * 2^(n-1))] ("full jitter") through the
// injected sleep function before retry n. Other errors are returned at once.
//
// Errors carry the operation, bucket/key and S3's own code and message, e.g.
//   "S3 PutObject bucket/key: NoSuchBucket: The specified bucket does not exist".
// Codes: kNotFound (NoSuchKey, NoSuchBucket, 404), kPermissionDenied (AccessDenied,
// InvalidAccessKeyId, SignatureDoesNotMatch, 401/403), kUnavailable (outages after
// the retries), kDeadlineExceeded (timeouts after the retries), kInvalidArgument
// (400s such as EntityTooSmall or a bad key), kFailedPrecondition (other 4xx, e.g.
// a PermanentRedirect to another region), kResourceExhausted (Get of an object
// larger than max_get_bytes).
//
// Secrets: credentials are held in memory and given to curl only; they never appear
// in messages, logs or Describe().
//
// Thread safety: safe for concurrent use (the HttpClient pools its curl handles).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "net/http_client.h"
#include "storage/object_store.h"

namespace furrow::storage {

enum class S3AddressingStyle { kAuto, kPath, kVirtualHosted };

// "auto", "path" or "virtual"; false if unknown.
bool ParseS3AddressingStyle(std::string_view text, S3AddressingStyle* out);

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional; sent as x-amz-security-token
};

// S3's smallest part (except the last) and largest number of parts.
inline constexpr uint64_t kS3MinPartSize = 5ull * 1024 * 1024;
inline constexpr uint64_t kS3MaxParts = 10000;

struct S3Options {
  // The bucket. Required.
  std::string bucket;
  // Prepended to every key ("events" or "events/"; a '/' is added when missing).
  // Default: none.
  std::string key_prefix;
  // Region used for signing and the default AWS endpoint. Default "us-east-1".
  std::string region = "us-east-1";
  // scheme://host[:port] of an S3-compatible store. Default: empty, meaning AWS
  // (https://s3.REGION.amazonaws.com).
  std::string endpoint;
  // Default kAuto (see the banner).
  S3AddressingStyle addressing_style = S3AddressingStyle::kAuto;
  S3Credentials credentials;
  // Objects larger than this are uploaded in parts. Default 64 MiB.
  uint64_t multipart_threshold = 64ull * 1024 * 1024;
  // Size of each part but the last; at least kS3MinPartSize. Grown automatically
  // when an object would need more than kS3MaxParts parts. Default 16 MiB.
  uint64_t part_size = 16ull * 1024 * 1024;
  // Keys per ListObjectsV2 page (max-keys); 0 leaves it to the store (1000 on S3).
  // Default 0.
  int list_page_size = 0;
  // Get fails with kResourceExhausted for larger objects. Default 1 GiB.
  uint64_t max_get_bytes = 1ull << 30;
  // Total attempts per request (>= 1) and the backoff bounds. Defaults: 5
  // attempts, 200 ms initial, 10 s maximum.
  int max_attempts = 5;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{10000};
  // Per-request limits. Defaults: 10 s to connect, 300 s for the whole request.
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds request_timeout{300000};
  // How the store waits between attempts. Default: sleeps the calling thread.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Seed of the jitter generator. Default 0: seeded from std::random_device.
  uint64_t jitter_seed = 0;
  // When set, every attempt is counted in furrow_s3_requests_total{operation,
  // outcome} with outcome "ok", "retried" (failed, tried again) or "failed" (given
  // up). Not owned; must outlive the store. Default: none.
  MetricsRegistry* metrics = nullptr;
};

class S3ObjectStore final : public ObjectStore {
 public:
  // Validates `options` (kInvalidArgument when the bucket, endpoint, part size or
  // credentials are missing or malformed). Does not contact the store.
  [[nodiscard]] static Result<std::unique_ptr<S3ObjectStore>> Create(S3Options options);
  ~S3ObjectStore() override;

  Status Put(std::string_view key, std::string_view bytes,
             const ObjectMetadata& metadata) override;
  Status PutFile(std::string_view key, const std::filesystem::path& file,
                 const ObjectMetadata& metadata) override;
  Result<std::string> Get(std::string_view key) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Status ForEach(std::string_view prefix,
                 const std::function<Status(const ObjectInfo&)>& visit) override;
  Status Delete(std::string_view key) override;
  // "s3://bucket/prefix".
  std::string Describe() const override;

  // The URL of `key` (full key, prefix included) with `query` (already canonical),
  // as requests use it. Exposed for tests of the addressing rules.
  std::string UrlFor(std::string_view full_key, std::string_view query) const;

 private:
  class Impl;
  explicit S3ObjectStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace furrow::storage
