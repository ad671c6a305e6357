// S3ObjectStore against a real S3 implementation (s3rver), with the objects read
// back and written by an independent client (the AWS CLI). s3rver checks the access
// key id but not SigV4 signatures; s3_retry_test.cc checks those with botocore.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <atomic>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "app/lake.h"
#include "s3rver_process.h"
#include "storage/s3_object_store.h"

namespace furrow::storage {
namespace {

namespace fs = std::filesystem;
using ::furrow::testing::S3rverProcess;

constexpr char kBucket[] = "lake";

class S3rverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new S3rverProcess();
    // "localhost" as service endpoint lets s3rver see LAKE.s3.localhost as a
    // virtual-hosted request; curl resolves *.localhost to loopback.
    started_ = server_->Start({kBucket}, 0, "localhost");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(started_) << server_->error(); }

  static S3Options Options(const std::string& prefix) {
    S3Options options;
    options.bucket = kBucket;
    options.key_prefix = prefix;
    options.endpoint = server_->Endpoint();
    options.credentials = {"S3RVER", "S3RVER", ""};
    options.max_attempts = 2;
    options.sleep = [](std::chrono::milliseconds) {};
    return options;
  }
  static std::unique_ptr<S3ObjectStore> Open(S3Options options) {
    auto store = S3ObjectStore::Create(std::move(options));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  static std::vector<std::string> Keys(ObjectStore& store, std::string_view prefix) {
    Result<std::vector<ObjectInfo>> listed = store.List(prefix);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    std::vector<std::string> keys;
    if (listed.ok()) {
      for (const ObjectInfo& info : *listed) keys.push_back(info.key);
    }
    return keys;
  }

  static S3rverProcess* server_;
  static bool started_;
};

S3rverProcess* S3rverTest::server_ = nullptr;
bool S3rverTest::started_ = false;

TEST_F(S3rverTest, PutGetHeadListDeleteRoundTrip) {
  auto store = Open(Options("roundtrip/run"));
  ASSERT_NE(store, nullptr);
  ObjectMetadata metadata{{"key-id", "k-2026-11"}, {"stream-range", "enriched-good:10-99"}};
  std::string bytes("event one\nevent two\n\0\xff", 22);
  ASSERT_TRUE(store->Put("output/2026/11/25/a b+c.tsv", bytes, metadata).ok());
  ASSERT_TRUE(store->Put("output/2026/11/25/z.tsv", "z", {}).ok());
  ASSERT_TRUE(store->Put("raw-bad/x", "x", {}).ok());

  Result<std::string> got = store->Get("output/2026/11/25/a b+c.tsv");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, bytes);
  Result<ObjectInfo> info = store->Head("output/2026/11/25/a b+c.tsv");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, bytes.size());
  EXPECT_EQ(info->metadata, metadata);

  EXPECT_EQ(Keys(*store, "output/"),
            (std::vector<std::string>{"output/2026/11/25/a b+c.tsv", "output/2026/11/25/z.tsv"}));
  EXPECT_EQ(Keys(*store, "").size(), 3u);
  EXPECT_EQ(Keys(*store, "nothing/"), std::vector<std::string>{});

  ASSERT_TRUE(store->Delete("raw-bad/x").ok());
  Result<std::string> gone = store->Get("raw-bad/x");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find("S3 GetObject lake/roundtrip/run/raw-bad/x: NoSuchKey"),
            std::string::npos)
      << gone.status().message();
  EXPECT_EQ(store->Head("raw-bad/x").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->Delete("raw-bad/x").ok());
}

TEST_F(S3rverTest, ListFollowsContinuationTokensAcrossPages) {
  S3Options options = Options("paged");
  options.list_page_size = 2;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> expected;
  for (int i = 0; i < 7; ++i) {
    std::string key = "p/" + std::to_string(i);
    ASSERT_TRUE(store->Put(key, key, {}).ok());
    expected.push_back(key);
  }
  EXPECT_EQ(Keys(*store, "p/"), expected);
}

TEST_F(S3rverTest, ConcurrentWritersShareOneStore) {
  auto store = Open(Options("concurrent"));
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        if (!store->Put(key, key, {{"thread", std::to_string(t)}}).ok()) ++failures;
        Result<std::string> got = store->Get(key);
        if (!got.ok() || *got != key) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Keys(*store, "").size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST_F(S3rverTest, ObjectsAreReadableAndWritableByTheAwsCli) {
  auto store = Open(Options("interop"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Put("output/part-1.tsv", "a\tb\n", {{"key-id", "k7"}}).ok());

  S3rverProcess::CommandResult ls = server_->Aws("s3 ls s3://lake/interop/ --recursive");
  ASSERT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find("interop/output/part-1.tsv"), std::string::npos) << ls.output;

  S3rverProcess::CommandResult cat = server_->Aws("s3 cp s3://lake/interop/output/part-1.tsv -");
  ASSERT_EQ(cat.exit_code, 0) << cat.output;
  EXPECT_EQ(cat.output, "a\tb\n");

  S3rverProcess::CommandResult head =
      server_->Aws("s3api head-object --bucket lake --key interop/output/part-1.tsv");
  ASSERT_EQ(head.exit_code, 0) << head.output;
  EXPECT_NE(head.output.find("\"key-id\": \"k7\""), std::string::npos) << head.output;

  // And the other way round: an object the CLI wrote, with its metadata.
  fs::path local = server_->dir() / "from-cli.txt";
  std::ofstream(local) << "written by aws";
  S3rverProcess::CommandResult cp = server_->Aws("s3 cp " + local.string() +
                                                 " s3://lake/interop/cli/file.txt --metadata rows=1");
  ASSERT_EQ(cp.exit_code, 0) << cp.output;
  Result<std::string> got = store->Get("cli/file.txt");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "written by aws");
  Result<ObjectInfo> info = store->Head("cli/file.txt");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->metadata.at("rows"), "1");
}

TEST_F(S3rverTest, LargeObjectsGoUpInPartsAndReadBackWhole) {
  S3Options options = Options("multipart");
  options.multipart_threshold = kS3MinPartSize;
  options.part_size = kS3MinPartSize;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  std::string big(2 * kS3MinPartSize + 12345, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  ASSERT_TRUE(store->Put("big/memory.bin", big, {{"parts", "3"}}).ok());
  Result<std::string> got = store->Get("big/memory.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == big);
  Result<ObjectInfo> info = store->Head("big/memory.bin");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, big.size());
  EXPECT_EQ(info->metadata.at("parts"), "3");

  fs::path file = server_->dir() / "upload.bin";
  {
    std::ofstream out(file, std::ios::binary);
    out.write(big.data(), static_cast<std::streamsize>(big.size()));
  }
  ASSERT_TRUE(store->PutFile("big/file.bin", file, {}).ok());
  fs::path back = server_->dir() / "download.bin";
  S3rverProcess::CommandResult cp =
      server_->Aws("s3 cp s3://lake/multipart/big/file.bin " + back.string());
  ASSERT_EQ(cp.exit_code, 0) << cp.output;
  EXPECT_EQ(fs::file_size(back), big.size());
  std::ifstream in(back, std::ios::binary);
  std::string downloaded((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(downloaded == big);
}

TEST_F(S3rverTest, VirtualHostedAddressingReachesTheBucket) {
  S3Options options = Options("vhost");
  options.endpoint = "http://s3.localhost:" + std::to_string(server_->port());
  options.addressing_style = S3AddressingStyle::kVirtualHosted;
  auto store = Open(options);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(store->UrlFor("vhost/k", ""),
            "http://lake.s3.localhost:" + std::to_string(server_->port()) + "/vhost/k");
  ASSERT_TRUE(store->Put("k", "virtual", {{"a", "b"}}).ok());
  EXPECT_EQ(Keys(*store, ""), std::vector<std::string>{"k"});
  S3rverProcess::CommandResult cat = server_->Aws("s3 cp s3://lake/vhost/k -");
  ASSERT_EQ(cat.exit_code, 0) << cat.output;
  EXPECT_EQ(cat.output, "virtual");
}

TEST_F(S3rverTest, ErrorsCarryTheS3CodeAndMessage) {
  S3Options options = Options("");
  options.bucket = "no-such-bucket";
  auto missing_bucket = Open(options);
  ASSERT_NE(missing_bucket, nullptr);
  Status put = missing_bucket->Put("k", "x", {});
  EXPECT_EQ(put.code(), StatusCode::kNotFound);
  EXPECT_EQ(put.message(),
            "S3 PutObject no-such-bucket/k: NoSuchBucket: The specified bucket does not exist");
  EXPECT_EQ(missing_bucket->List("").status().code(), StatusCode::kNotFound);

  S3Options bad_key = Options("");
  bad_key.credentials = {"NOT-A-KEY", "secret-value", ""};
  auto denied = Open(bad_key);
  ASSERT_NE(denied, nullptr);
  Status s = denied->Put("k", "x", {});
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("InvalidAccessKeyId"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("secret-value"), std::string::npos);
}

TEST_F(S3rverTest, OpenLakeResolvesTheAwsEnvironmentToAWorkingStore) {
  fs::path credentials = server_->dir() / "credentials";
  std::ofstream(credentials) << "[default]\naws_access_key_id = WRONG\n"
                                "aws_secret_access_key = WRONG\n"
                                "[furrow-test]\naws_access_key_id = S3RVER\n"
                                "aws_secret_access_key = S3RVER\n";
  std::map<std::string, std::string> vars{{"AWS_ENDPOINT_URL", server_->Endpoint()},
                                          {"AWS_SHARED_CREDENTIALS_FILE", credentials.string()},
                                          {"AWS_PROFILE", "furrow-test"},
                                          {"AWS_REGION", "us-east-1"}};
  storage::EnvironmentLookup env = [&vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  auto lake = app::OpenLake("s3://lake/via-env/", "/unused", {}, env);
  ASSERT_TRUE(lake.ok()) << lake.status().ToString();
  EXPECT_EQ((*lake)->Describe(), "s3://lake/via-env");
  ASSERT_TRUE((*lake)->Put("pings/2026-11-25.json", "{}", {{"rows", "0"}}).ok());
  S3rverProcess::CommandResult ls = server_->Aws("s3 ls s3://lake/via-env/pings/");
  ASSERT_EQ(ls.exit_code, 0) << ls.output;
  EXPECT_NE(ls.output.find("2026-11-25.json"), std::string::npos) << ls.output;

  vars["AWS_PROFILE"] = "default";
  auto wrong = app::OpenLake("s3://lake/via-env", "/unused", {}, env);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ((*wrong)->Put("x", "1", {}).code(), StatusCode::kPermissionDenied);
}

TEST(S3rverOutageTest, PutFailsUnavailableWhileTheStoreIsDownAndWorksAfterRestart) {
  S3rverProcess server;
  ASSERT_TRUE(server.Start({kBucket})) << server.error();
  int port = server.port();
  S3Options options;
  options.bucket = kBucket;
  options.endpoint = server.Endpoint();
  options.credentials = {"S3RVER", "S3RVER", ""};
  options.max_attempts = 3;
  std::vector<std::chrono::milliseconds> sleeps;
  options.sleep = [&sleeps](std::chrono::milliseconds d) { sleeps.push_back(d); };
  auto created = S3ObjectStore::Create(options);
  ASSERT_TRUE(created.ok());
  auto& store = *created;
  ASSERT_TRUE(store->Put("before", "1", {}).ok());

  server.Stop();
  Status down = store->Put("during", "2", {});
  EXPECT_EQ(down.code(), StatusCode::kUnavailable) << down.ToString();
  EXPECT_NE(down.message().find("S3 PutObject lake/during"), std::string::npos);
  EXPECT_NE(down.message().find("(after 3 attempts)"), std::string::npos) << down.message();
  EXPECT_EQ(sleeps.size(), 2u);

  ASSERT_TRUE(server.Start({kBucket}, port)) << server.error();
  ASSERT_TRUE(store->Put("during", "2", {}).ok());
  Result<std::string> got = store->Get("during");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "2");
  Result<std::string> kept = store->Get("before");
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
}

}  // namespace
}  // namespace furrow::storage
