// S3ObjectStore against scripted servers: retries, backoff bounds, multipart
// abort, and the request signature checked by an independent signer (botocore).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scripted_http_server.h"
#include "storage/s3_object_store.h"

namespace furrow::storage {
namespace {

namespace fs = std::filesystem;
using ::furrow::testing::RecordedRequest;
using ::furrow::testing::ScriptedHttpServer;
using ::furrow::testing::ScriptedResponse;
using Millis = std::chrono::milliseconds;

ScriptedResponse S3Error(int status, const std::string& code, const std::string& message) {
  return {status,
          {{"Content-Type", "application/xml"}},
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code +
              "</Code><Message>" + message + "</Message><RequestId>1</RequestId></Error>"};
}

ScriptedResponse Ok(std::string body = "") { return {200, {{"ETag", "\"etag\""}}, std::move(body)}; }

struct Harness {
  explicit Harness(const ScriptedHttpServer& server, int max_attempts = 5) {
    options.bucket = "bucket";
    options.endpoint = server.Endpoint();
    options.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
    options.max_attempts = max_attempts;
    options.initial_backoff = Millis(100);
    options.max_backoff = Millis(1000);
    options.jitter_seed = 42;
    options.sleep = [this](Millis d) { sleeps.push_back(d); };
  }
  std::unique_ptr<S3ObjectStore> Open() {
    auto store = S3ObjectStore::Create(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  S3Options options;
  std::vector<Millis> sleeps;
};

TEST(S3RetryTest, SlowDownIsRetriedThenSucceeds) {
  ScriptedHttpServer server({S3Error(503, "SlowDown", "Please reduce your request rate."), Ok()});
  Harness h(server);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Status s = store->Put("k", "payload", {{"key-id", "k1"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<RecordedRequest> requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  for (const RecordedRequest& r : requests) {
    EXPECT_EQ(r.method, "PUT");
    EXPECT_EQ(r.target, "/bucket/k");
    EXPECT_EQ(r.body, "payload");
    EXPECT_EQ(r.headers.at("x-amz-meta-key-id"), "k1");
  }
  ASSERT_EQ(h.sleeps.size(), 1u);
  EXPECT_LE(h.sleeps[0], Millis(100));
}

TEST(S3RetryTest, AttemptsAreCountedByOperationAndOutcome) {
  ScriptedHttpServer server({{503, {}, ""}, Ok(), {404, {}, ""}});
  Harness h(server, /*max_attempts=*/3);
  MetricsRegistry metrics;
  h.options.metrics = &metrics;
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("k", "v", {}).ok());
  EXPECT_EQ(store->Head("gone").status().code(), StatusCode::kNotFound);
  auto count = [&metrics](const char* operation, const char* outcome) {
    return metrics
        .GetCounter("furrow_s3_requests_total", "", {{"operation", operation}, {"outcome", outcome}})
        .Value();
  };
  EXPECT_EQ(count("PutObject", "retried"), 1u);
  EXPECT_EQ(count("PutObject", "ok"), 1u);
  EXPECT_EQ(count("PutObject", "failed"), 0u);
  EXPECT_EQ(count("HeadObject", "failed"), 1u);
}

TEST(S3RetryTest, ThrottlingAndTransientCodesAreRetried) {
  ScriptedHttpServer server({{429, {}, ""},
                             S3Error(400, "RequestTimeout", "Your socket connection timed out"),
                             S3Error(500, "InternalError", "oops"), Ok("body")});
  Harness h(server);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Result<std::string> got = store->Get("k");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "body");
  EXPECT_EQ(server.Requests().size(), 4u);
  EXPECT_EQ(h.sleeps.size(), 3u);
}

TEST(S3RetryTest, ServerErrorForeverStopsAfterBoundedAttemptsWithClearError) {
  ScriptedHttpServer server({S3Error(500, "InternalError", "We encountered an internal error.")});
  Harness h(server, /*max_attempts=*/4);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Status s = store->Put("a/b", "x", {});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "S3 PutObject bucket/a/b: InternalError: We encountered an internal error. "
            "(after 4 attempts)");
  EXPECT_EQ(server.Requests().size(), 4u);
  ASSERT_EQ(h.sleeps.size(), 3u);
  // Full jitter: retry n waits at most min(max_backoff, initial * 2^(n-1)).
  EXPECT_LE(h.sleeps[0], Millis(100));
  EXPECT_LE(h.sleeps[1], Millis(200));
  EXPECT_LE(h.sleeps[2], Millis(400));
}

TEST(S3RetryTest, BackoffIsCappedAtMaxBackoff) {
  ScriptedHttpServer server({{503, {}, ""}});
  Harness h(server, /*max_attempts=*/8);
  h.options.max_backoff = Millis(250);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get("k").status().code(), StatusCode::kUnavailable);
  ASSERT_EQ(h.sleeps.size(), 7u);
  Millis longest(0);
  for (Millis d : h.sleeps) {
    EXPECT_LE(d, Millis(250));
    longest = std::max(longest, d);
  }
  EXPECT_GT(longest, Millis(0));  // the jitter is not stuck at zero
}

TEST(S3RetryTest, TimeoutsAreRetriedThenReportedAsDeadlineExceeded) {
  ScriptedResponse hang;
  hang.hang = true;
  ScriptedHttpServer server({hang});
  Harness h(server, /*max_attempts=*/2);
  h.options.request_timeout = Millis(300);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Status s = store->Put("slow", "x", {});
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_NE(s.message().find("S3 PutObject bucket/slow"), std::string::npos);
  EXPECT_NE(s.message().find("(after 2 attempts)"), std::string::npos) << s.message();
  EXPECT_EQ(h.sleeps.size(), 1u);
}

TEST(S3RetryTest, ClientErrorsAreNotRetried) {
  ScriptedHttpServer server({S3Error(403, "AccessDenied", "Access Denied"), Ok()});
  Harness h(server);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Status s = store->Put("k", "x", {});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "S3 PutObject bucket/k: AccessDenied: Access Denied");
  EXPECT_EQ(server.Requests().size(), 1u);
  EXPECT_TRUE(h.sleeps.empty());
}

TEST(S3RetryTest, HeadWithoutBodyMapsStatusToCode) {
  ScriptedHttpServer server({{404, {}, ""}});
  Harness h(server);
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Result<ObjectInfo> info = store->Head("missing");
  EXPECT_EQ(info.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(info.status().message(), "S3 HeadObject bucket/missing: HTTP 404");
}

TEST(S3RetryTest, FailedMultipartUploadIsAborted) {
  const std::string initiated =
      "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>big</Key>"
      "<UploadId>upload+1</UploadId></InitiateMultipartUploadResult>";
  ScriptedHttpServer server({Ok(initiated), Ok(), S3Error(400, "EntityTooSmall", "too small"),
                             {204, {}, ""}});
  Harness h(server);
  h.options.multipart_threshold = kS3MinPartSize;
  h.options.part_size = kS3MinPartSize;
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  std::string big(kS3MinPartSize + 10, 'b');
  Status s = store->Put("big", big, {{"rows", "2"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("S3 UploadPart bucket/big part 2: EntityTooSmall"), std::string::npos)
      << s.message();
  std::vector<RecordedRequest> r = server.Requests();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].method, "POST");
  EXPECT_EQ(r[0].target, "/bucket/big?uploads=");
  EXPECT_EQ(r[0].headers.at("x-amz-meta-rows"), "2");
  EXPECT_EQ(r[1].target, "/bucket/big?partNumber=1&uploadId=upload%2B1");
  EXPECT_EQ(r[1].body.size(), kS3MinPartSize);
  EXPECT_EQ(r[2].target, "/bucket/big?partNumber=2&uploadId=upload%2B1");
  EXPECT_EQ(r[2].body.size(), 10u);
  EXPECT_EQ(r[3].method, "DELETE");
  EXPECT_EQ(r[3].target, "/bucket/big?uploadId=upload%2B1");
}

TEST(S3RetryTest, CompleteMultipartUploadErrorInsideA200IsAnError) {
  const std::string initiated =
      "<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>";
  ScriptedHttpServer server(
      {Ok(initiated), Ok(), Ok(), {200, {}, "<Error><Code>AccessDenied</Code><Message>no</Message></Error>"},
       {204, {}, ""}});
  Harness h(server);
  h.options.multipart_threshold = kS3MinPartSize;
  h.options.part_size = kS3MinPartSize;
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  Status s = store->Put("big", std::string(kS3MinPartSize + 1, 'c'), {});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  std::vector<RecordedRequest> r = server.Requests();
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[3].method, "POST");
  EXPECT_EQ(r[3].target, "/bucket/big?uploadId=u");
  EXPECT_NE(r[3].body.find("<PartNumber>2</PartNumber><ETag>&quot;etag&quot;</ETag>"),
            std::string::npos);
  EXPECT_EQ(r[4].method, "DELETE");
}

// Runs tests/storage/verify_sigv4.py (botocore) on a recorded request.
void ExpectBotocoreAcceptsSignature(const RecordedRequest& request, const std::string& secret) {
  fs::path file = fs::temp_directory_path() /
                  ("furrow-sigv4-" + std::to_string(::getpid()) + "-" + request.method + ".txt");
  {
    std::ofstream out(file, std::ios::binary);
    out << request.raw_head << "\r\n\r\n" << request.body;
  }
  const char* source = std::getenv("FURROW_SOURCE_DIR");
  fs::path script = fs::path(source != nullptr ? source : ".") / "tests/storage/verify_sigv4.py";
  std::string command = "python3 " + script.string() + " " + file.string() + " AKIDEXAMPLE '" +
                        secret + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
  int status = ::pclose(pipe);
  fs::remove(file);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << request.raw_head << "\n" << output;
  EXPECT_NE(output.find("signature ok"), std::string::npos) << output;
}

TEST(S3SignatureTest, BotocoreVerifiesTheSignaturesOfPutListAndParts) {
  const std::string initiated =
      "<InitiateMultipartUploadResult><UploadId>id/with=chars</UploadId>"
      "</InitiateMultipartUploadResult>";
  const std::string listed =
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
  ScriptedHttpServer server({Ok(), Ok(listed), Ok(initiated), Ok(), Ok(), Ok("<Done/>")});
  Harness h(server);
  h.options.credentials.session_token = "session/token+value";
  h.options.key_prefix = "pre fix";
  h.options.multipart_threshold = kS3MinPartSize;
  h.options.part_size = kS3MinPartSize;
  auto store = h.Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("a b/c+d~e.gz", "signed body", {{"key-id", "k1"}}).ok());
  ASSERT_TRUE(store->List("a b/").ok());
  ASSERT_TRUE(store->Put("big", std::string(kS3MinPartSize + 3, 'p'), {}).ok());
  std::vector<RecordedRequest> r = server.Requests();
  ASSERT_EQ(r.size(), 6u);
  EXPECT_EQ(r[0].target, "/bucket/pre%20fix/a%20b/c%2Bd~e.gz");
  EXPECT_EQ(r[0].headers.at("x-amz-security-token"), "session/token+value");
  EXPECT_EQ(r[1].target, "/bucket?list-type=2&prefix=pre%20fix%2Fa%20b%2F");
  for (const RecordedRequest& request : r) {
    ExpectBotocoreAcceptsSignature(request, h.options.credentials.secret_access_key);
  }
}

}  // namespace
}  // namespace furrow::storage
