#include "iglu/resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "iglu/builtin_schemas.h"

namespace furrow::iglu {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kIgluCentralSchemas = "../shared/data/iglu-central/schemas";

using Request = http::request<http::string_body>;
using Handler = std::function<std::pair<int, std::string>(const Request&)>;

// A tiny HTTP/1.1 server on 127.0.0.1 with a free port, one thread per connection.
class TestHttpServer {
 public:
  explicit TestHttpServer(Handler handler)
      : handler_(std::move(handler)), acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestHttpServer() { Stop(); }

  int port() const { return acceptor_.local_endpoint().port(); }
  std::string uri() const { return "http://127.0.0.1:" + std::to_string(port()); }
  int requests() const { return requests_.load(); }

  void Stop() {
    if (stopping_.exchange(true)) return;
    boost::system::error_code ec;
    tcp::socket waker(io_);
    waker.connect(acceptor_.local_endpoint(), ec);  // wakes the blocking accept
    accept_thread_.join();
    std::lock_guard lock(mu_);
    for (auto& socket : sockets_) socket->shutdown(tcp::socket::shutdown_both, ec);
    for (auto& t : connections_) t.join();
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      auto socket = std::make_shared<tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec || stopping_) break;
      std::lock_guard lock(mu_);
      sockets_.push_back(socket);
      connections_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  void Serve(tcp::socket& socket) {
    boost::beast::flat_buffer buffer;
    while (true) {
      Request request;
      boost::system::error_code ec;
      http::read(socket, buffer, request, ec);
      if (ec) return;
      ++requests_;
      auto [status, body] = handler_(request);
      http::response<http::string_body> response{static_cast<http::status>(status),
                                                 request.version()};
      response.body() = body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || !request.keep_alive()) return;
    }
  }

  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> connections_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
};

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string_view Sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Serves the Iglu Central copy below `prefix` (e.g. "/schemas/").
std::pair<int, std::string> ServeIgluCentral(std::string_view target, std::string_view prefix) {
  if (target.substr(0, prefix.size()) != prefix) return {404, "no such route"};
  Result<SchemaKey> key = SchemaKey::ParsePath(target.substr(prefix.size()));
  if (!key.ok()) return {404, "bad key"};
  std::optional<std::string> text =
      ReadFile(std::filesystem::path(kIgluCentralSchemas) / key->ToPath());
  if (!text) return {404, "not found"};
  return {200, *text};
}

std::vector<SchemaKey> AllIgluCentralJsonSchemas() {
  std::vector<SchemaKey> keys;
  const std::filesystem::path root(kIgluCentralSchemas);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    Result<SchemaKey> key =
        SchemaKey::ParsePath(std::filesystem::relative(entry.path(), root).string());
    if (key.ok() && key->format == "jsonschema") keys.push_back(*key);
  }
  return keys;
}

RepositoryConfig HttpRepo(std::string name, std::string uri, int priority = 0,
                          std::vector<std::string> prefixes = {}, std::string api_key = "") {
  RepositoryConfig repo;
  repo.name = std::move(name);
  repo.kind = RepositoryConfig::Kind::kHttp;
  repo.uri = std::move(uri);
  repo.priority = priority;
  repo.vendor_prefixes = std::move(prefixes);
  repo.api_key = std::move(api_key);
  return repo;
}

RepositoryConfig EmbeddedRepo(std::string name, std::string path, int priority = 0,
                              std::vector<std::string> prefixes = {}) {
  RepositoryConfig repo;
  repo.name = std::move(name);
  repo.kind = RepositoryConfig::Kind::kEmbedded;
  repo.path = std::move(path);
  repo.priority = priority;
  repo.vendor_prefixes = std::move(prefixes);
  return repo;
}

// Options that never sleep and record the waits they were asked for.
struct TestOptions {
  ManualClock clock;
  std::vector<std::chrono::milliseconds> sleeps;
  std::mutex mu;

  ResolverOptions Make(bool use_builtin = false) {
    ResolverOptions options;
    options.clock = &clock;
    options.use_builtin = use_builtin;
    options.sleep = [this](std::chrono::milliseconds d) {
      std::lock_guard lock(mu);
      sleeps.push_back(d);
    };
    options.http_timeout = std::chrono::milliseconds(5000);
    return options;
  }
};

std::unique_ptr<Resolver> CreateOrDie(ResolverConfig config, ResolverOptions options) {
  Result<std::unique_ptr<Resolver>> resolver = Resolver::Create(std::move(config), std::move(options));
  EXPECT_TRUE(resolver.ok()) << resolver.status().ToString();
  return resolver.ok() ? std::move(*resolver) : nullptr;
}

SchemaKey Key(std::string_view uri) { return *SchemaKey::ParseUri(uri); }

std::string MinimalSchema(const SchemaKey& key, std::string_view description) {
  return R"({"self":{"vendor":")" + key.vendor + R"(","name":")" + key.name +
         R"(","format":"jsonschema","version":")" + key.version.ToString() +
         R"("},"description":")" + std::string(description) + R"(","type":"object"})";
}

// A registry in memory that counts fetches and can be told to fail.
class FakeRegistry final : public Registry {
 public:
  explicit FakeRegistry(std::string name) {
    config_.name = std::move(name);
    config_.kind = RepositoryConfig::Kind::kEmbedded;
  }
  const RepositoryConfig& config() const override { return config_; }
  Result<std::string> Fetch(const SchemaKey& key) override {
    ++fetches;
    std::lock_guard lock(mu_);
    if (!failure.ok()) return failure;
    auto it = texts.find(key.ToPath());
    if (it == texts.end()) return NotFoundError("no " + key.ToUri());
    return it->second;
  }
  void Add(const SchemaKey& key, std::string_view description = "fake") {
    std::lock_guard lock(mu_);
    texts[key.ToPath()] = MinimalSchema(key, description);
  }
  void Fail(Status status) {
    std::lock_guard lock(mu_);
    failure = std::move(status);
  }

  std::atomic<int> fetches{0};

 private:
  RepositoryConfig config_;
  std::mutex mu_;
  std::map<std::string, std::string> texts;
  Status failure;
};

std::string DescriptionOf(const Schema& schema) {
  const auto& json = schema.json();
  auto it = json.FindMember("description");
  return it == json.MemberEnd() ? "" : it->value.GetString();
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "furrow-iglu-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  void Write(const std::string& relative, const std::string& text) const {
    std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
  }

 private:
  std::filesystem::path path_;
};

TEST(ResolverTest, EmbeddedRegistryServesTheIgluCentralCopy) {
  TestOptions t;
  ResolverConfig config;
  config.repositories.push_back(EmbeddedRepo("copy", "../shared/data/iglu-central"));
  auto resolver = CreateOrDie(config, t.Make());
  Result<std::shared_ptr<const Schema>> schema =
      resolver->Lookup("iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ((*schema)->key().name, "link_click");
  // The schemas/ directory itself is accepted as the path too.
  ResolverConfig direct;
  direct.repositories.push_back(EmbeddedRepo("copy", kIgluCentralSchemas));
  auto resolver2 = CreateOrDie(direct, t.Make());
  EXPECT_TRUE(resolver2->Lookup("iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1").ok());
}

TEST(ResolverTest, StaticHttpRegistryServesEveryIgluCentralSchema) {
  TestHttpServer server([](const Request& r) {
    if (r.method() != http::verb::get) return std::pair<int, std::string>{405, ""};
    return ServeIgluCentral(Sv(r.target()), "/schemas/");
  });
  TestOptions t;
  ResolverConfig config;
  config.repositories.push_back(HttpRepo("static", server.uri() + "/"));
  auto resolver = CreateOrDie(config, t.Make());
  std::vector<SchemaKey> keys = AllIgluCentralJsonSchemas();
  ASSERT_GT(keys.size(), 500u);
  for (const SchemaKey& key : keys) {
    Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(key);
    EXPECT_TRUE(schema.ok()) << key.ToUri() << ": " << schema.status().ToString();
  }
  Result<std::shared_ptr<const Schema>> missing =
      resolver->Lookup("iglu:com.acme/missing/jsonschema/1-0-0");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("\"static\""));
  EXPECT_TRUE(t.sleeps.empty());
}

TEST(ResolverTest, IgluServerIsAskedWithItsApiKey) {
  std::mutex mu;
  std::vector<std::string> seen_keys;
  TestHttpServer server([&](const Request& r) {
    std::lock_guard lock(mu);
    seen_keys.emplace_back(Sv(r["apikey"]));
    if (r["apikey"] != "7c3a2d1e-secret") return std::pair<int, std::string>{401, "bad key"};
    return ServeIgluCentral(Sv(r.target()), "/api/schemas/");
  });
  TestOptions t;
  ResolverConfig config;
  config.repositories.push_back(HttpRepo("server", server.uri(), 0, {}, "7c3a2d1e-secret"));
  auto resolver = CreateOrDie(config, t.Make());
  Result<std::shared_ptr<const Schema>> schema =
      resolver->Lookup("iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();

  ResolverConfig wrong;
  wrong.repositories.push_back(HttpRepo("server", server.uri(), 0, {}, "wrong"));
  auto resolver2 = CreateOrDie(wrong, t.Make());
  Result<std::shared_ptr<const Schema>> denied =
      resolver2->Lookup("iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(denied.status().message(), HasSubstr("HTTP 401"));
  std::lock_guard lock(mu);
  EXPECT_THAT(seen_keys, ElementsAre("7c3a2d1e-secret", "wrong"));
}

TEST(ResolverTest, OrdersByVendorPrefixThenPriorityThenEmbeddedFirst) {
  TestOptions t;
  ResolverConfig config;
  TempDir dir;
  config.repositories.push_back(HttpRepo("http-p0", "http://127.0.0.1:1", 0));
  config.repositories.push_back(EmbeddedRepo("embedded-p5", dir.path().string(), 5));
  config.repositories.push_back(EmbeddedRepo("embedded-p0", dir.path().string(), 0));
  config.repositories.push_back(HttpRepo("acme-http-p9", "http://127.0.0.1:1", 9, {"com.acme"}));
  config.repositories.push_back(EmbeddedRepo("acme-embedded-p9", dir.path().string(), 9, {"com.acme"}));
  auto resolver = CreateOrDie(config, t.Make(/*use_builtin=*/true));
  EXPECT_THAT(resolver->RepositoryOrder(Key("iglu:com.acme.shop/x/jsonschema/1-0-0")),
              ElementsAre("furrow built-in", "acme-embedded-p9", "acme-http-p9", "embedded-p0",
                          "http-p0", "embedded-p5"));
  EXPECT_THAT(resolver->RepositoryOrder(Key("iglu:org.other/x/jsonschema/1-0-0")),
              ElementsAre("furrow built-in", "embedded-p0", "http-p0", "embedded-p5",
                          "acme-embedded-p9", "acme-http-p9"));

  ResolverOptions last = t.Make(true);
  last.builtin_first = false;
  auto resolver2 = CreateOrDie(config, std::move(last));
  EXPECT_EQ(resolver2->RepositoryOrder(Key("iglu:org.other/x/jsonschema/1-0-0")).back(),
            "furrow built-in");
}

TEST(ResolverTest, FirstRepositoryInOrderThatHasTheSchemaWins) {
  TestOptions t;
  TempDir low, high, acme;
  SchemaKey key = Key("iglu:com.acme/thing/jsonschema/1-0-0");
  SchemaKey other = Key("iglu:com.acme/other/jsonschema/1-0-0");
  low.Write("schemas/" + key.ToPath(), MinimalSchema(key, "priority 1"));
  low.Write("schemas/" + other.ToPath(), MinimalSchema(other, "priority 1"));
  high.Write("schemas/" + key.ToPath(), MinimalSchema(key, "priority 0"));
  acme.Write("schemas/" + key.ToPath(), MinimalSchema(key, "vendor match"));
  ResolverConfig config;
  config.repositories.push_back(EmbeddedRepo("low", low.path().string(), 1));
  config.repositories.push_back(EmbeddedRepo("high", high.path().string(), 0));
  auto resolver = CreateOrDie(config, t.Make());
  Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(key);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  EXPECT_EQ(DescriptionOf(**schema), "priority 0");
  // Not found in the first repository: the next one is asked.
  Result<std::shared_ptr<const Schema>> fallback = resolver->Lookup(other);
  ASSERT_TRUE(fallback.ok()) << fallback.status().ToString();
  EXPECT_EQ(DescriptionOf(**fallback), "priority 1");

  config.repositories.push_back(EmbeddedRepo("acme", acme.path().string(), 7, {"com.acme"}));
  auto resolver2 = CreateOrDie(config, t.Make());
  schema = resolver2->Lookup(key);
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(DescriptionOf(**schema), "vendor match");
}

TEST(ResolverTest, CachesSchemasUntilTheirTtl) {
  TestOptions t;
  auto fake = std::make_unique<FakeRegistry>("fake");
  FakeRegistry* registry = fake.get();
  SchemaKey key = Key("iglu:com.acme/a/jsonschema/1-0-0");
  registry->Add(key);
  std::vector<std::unique_ptr<Registry>> registries;
  registries.push_back(std::move(fake));
  ResolverConfig config;
  config.cache_size = 10;
  config.cache_ttl = std::chrono::seconds(60);
  auto resolver = Resolver::CreateWithRegistries(std::move(registries), config, t.Make());

  auto first = resolver->Lookup(key);
  ASSERT_TRUE(first.ok());
  auto second = resolver->Lookup(key);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
  EXPECT_EQ(registry->fetches.load(), 1);
  EXPECT_EQ(resolver->stats().hits, 1u);
  EXPECT_EQ(resolver->stats().misses, 1u);

  t.clock.Advance(std::chrono::seconds(59));
  ASSERT_TRUE(resolver->Lookup(key).ok());
  EXPECT_EQ(registry->fetches.load(), 1);
  t.clock.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(resolver->Lookup(key).ok());
  EXPECT_EQ(registry->fetches.load(), 2);
}

TEST(ResolverTest, CachesNotFoundAndRecoversAfterTtl) {
  TestOptions t;
  auto fake = std::make_unique<FakeRegistry>("fake");
  FakeRegistry* registry = fake.get();
  SchemaKey key = Key("iglu:com.acme/late/jsonschema/1-0-0");
  std::vector<std::unique_ptr<Registry>> registries;
  registries.push_back(std::move(fake));
  ResolverConfig config;
  config.cache_ttl = std::chrono::seconds(30);
  auto resolver = Resolver::CreateWithRegistries(std::move(registries), config, t.Make());

  EXPECT_EQ(resolver->Lookup(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(resolver->Lookup(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry->fetches.load(), 1);
  EXPECT_EQ(resolver->stats().negative_hits, 1u);
  registry->Add(key);  // published meanwhile
  t.clock.Advance(std::chrono::seconds(31));
  EXPECT_TRUE(resolver->Lookup(key).ok());
  EXPECT_EQ(registry->fetches.load(), 2);
}

TEST(ResolverTest, WithoutCacheTtlSchemasStayAndNotFoundUsesNegativeTtl) {
  TestOptions t;
  auto fake = std::make_unique<FakeRegistry>("fake");
  FakeRegistry* registry = fake.get();
  SchemaKey present = Key("iglu:com.acme/present/jsonschema/1-0-0");
  SchemaKey absent = Key("iglu:com.acme/absent/jsonschema/1-0-0");
  registry->Add(present);
  std::vector<std::unique_ptr<Registry>> registries;
  registries.push_back(std::move(fake));
  ResolverOptions options = t.Make();
  options.negative_ttl = std::chrono::seconds(100);
  auto resolver = Resolver::CreateWithRegistries(std::move(registries), ResolverConfig{}, options);
  ASSERT_TRUE(resolver->Lookup(present).ok());
  EXPECT_FALSE(resolver->Lookup(absent).ok());
  EXPECT_EQ(registry->fetches.load(), 2);
  t.clock.Advance(std::chrono::hours(24 * 365));
  ASSERT_TRUE(resolver->Lookup(present).ok());
  EXPECT_FALSE(resolver->Lookup(absent).ok());
  EXPECT_EQ(registry->fetches.load(), 3);  // only the negative entry expired
}

TEST(ResolverTest, EvictsLeastRecentlyUsedBeyondCacheSize) {
  TestOptions t;
  auto fake = std::make_unique<FakeRegistry>("fake");
  FakeRegistry* registry = fake.get();
  SchemaKey a = Key("iglu:com.acme/a/jsonschema/1-0-0");
  SchemaKey b = Key("iglu:com.acme/b/jsonschema/1-0-0");
  SchemaKey c = Key("iglu:com.acme/c/jsonschema/1-0-0");
  registry->Add(a);
  registry->Add(b);
  registry->Add(c);
  std::vector<std::unique_ptr<Registry>> registries;
  registries.push_back(std::move(fake));
  ResolverConfig config;
  config.cache_size = 2;
  auto resolver = Resolver::CreateWithRegistries(std::move(registries), config, t.Make());
  ASSERT_TRUE(resolver->Lookup(a).ok());
  ASSERT_TRUE(resolver->Lookup(b).ok());
  ASSERT_TRUE(resolver->Lookup(a).ok());  // a is now the most recent
  ASSERT_TRUE(resolver->Lookup(c).ok());  // evicts b
  EXPECT_EQ(resolver->stats().entries, 2u);
  EXPECT_EQ(registry->fetches.load(), 3);
  ASSERT_TRUE(resolver->Lookup(a).ok());
  EXPECT_EQ(registry->fetches.load(), 3);
  ASSERT_TRUE(resolver->Lookup(b).ok());
  EXPECT_EQ(registry->fetches.load(), 4);
}

TEST(ResolverTest, CacheSizeZeroDisablesCaching) {
  TestOptions t;
  auto fake = std::make_unique<FakeRegistry>("fake");
  FakeRegistry* registry = fake.get();
  SchemaKey a = Key("iglu:com.acme/a/jsonschema/1-0-0");
  registry->Add(a);
  std::vector<std::unique_ptr<Registry>> registries;
  registries.push_back(std::move(fake));
  ResolverConfig config;
  config.cache_size = 0;
  auto resolver = Resolver::CreateWithRegistries(std::move(registries), config, t.Make());
  ASSERT_TRUE(resolver->Lookup(a).ok());
  ASSERT_TRUE(resolver->Lookup(a).ok());
  EXPECT_EQ(registry->fetches.load(), 2);
}

TEST(ResolverTest, DownRegistryIsRetriedBoundedlyThenSkippedUntilErrorTtl) {
  TestHttpServer server([](const Request&) { return std::pair<int, std::string>{503, "busy"}; });
  TestOptions t;
  ResolverConfig config;
  config.repositories.push_back(HttpRepo("flaky", server.uri()));
  ResolverOptions options = t.Make();
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = std::chrono::milliseconds(100);
  options.error_ttl = std::chrono::seconds(30);
  MetricsRegistry metrics;
  options.metrics = &metrics;
  auto resolver = CreateOrDie(config, options);

  Result<std::shared_ptr<const Schema>> first =
      resolver->Lookup("iglu:com.acme/a/jsonschema/1-0-0");
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(first.status().message(), HasSubstr("\"flaky\""));
  EXPECT_THAT(first.status().message(), HasSubstr(server.uri() + "/schemas/com.acme/a/jsonschema/1-0-0"));
  EXPECT_THAT(first.status().message(), HasSubstr("HTTP 503 after 3 attempts"));
  EXPECT_EQ(server.requests(), 3);
  EXPECT_THAT(t.sleeps, ElementsAre(std::chrono::milliseconds(100), std::chrono::milliseconds(200)));

  // Another key while the registry is marked down: no new requests.
  Result<std::shared_ptr<const Schema>> second =
      resolver->Lookup("iglu:com.acme/b/jsonschema/1-0-0");
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), HasSubstr("skipped"));
  EXPECT_EQ(server.requests(), 3);
  // The same key is answered from the cache.
  EXPECT_EQ(resolver->Lookup("iglu:com.acme/a/jsonschema/1-0-0").status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(server.requests(), 3);

  t.clock.Advance(std::chrono::seconds(31));
  EXPECT_EQ(resolver->Lookup("iglu:com.acme/a/jsonschema/1-0-0").status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(server.requests(), 6);
  EXPECT_EQ(metrics.GetCounter("furrow_iglu_fetch_errors_total", "", {{"repository", "flaky"}}).Value(), 2u);
}

int CountOccurrences(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

TEST(ResolverTest, LogsAnOutageOnceAndTheRecoveryOnce) {
  std::atomic<bool> up{false};
  TestHttpServer server([&](const Request& r) {
    if (!up) return std::pair<int, std::string>{503, "down"};
    return ServeIgluCentral(Sv(r.target()), "/schemas/");
  });
  TestOptions t;
  ResolverConfig config;
  config.repositories.push_back(HttpRepo("central", server.uri()));
  ResolverOptions options = t.Make();
  options.retry.max_attempts = 1;
  options.error_ttl = std::chrono::seconds(10);
  auto resolver = CreateOrDie(config, options);

  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(resolver->Lookup("iglu:com.acme/e" + std::to_string(i) + "/jsonschema/1-0-0").ok());
    t.clock.Advance(std::chrono::seconds(11));  // each lookup retries the registry
  }
  EXPECT_EQ(server.requests(), 5);
  up = true;
  EXPECT_TRUE(
      resolver->Lookup("iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1").ok());
  EXPECT_TRUE(
      resolver->Lookup("iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0").ok());
  std::string logs = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(CountOccurrences(logs, "iglu registry unreachable"), 1) << logs;
  EXPECT_EQ(CountOccurrences(logs, "iglu registry reachable again"), 1) << logs;
}

TEST(ResolverTest, LookupHistorySaysWhatEachRepositoryAnswered) {
  TestHttpServer server([](const Request&) { return std::pair<int, std::string>{503, "busy"}; });
  TestOptions t;
  TempDir empty;
  TempDir broken;
  SchemaKey bad = Key("iglu:com.acme/bad/jsonschema/1-0-0");
  broken.Write("schemas/" + bad.ToPath(), "[1, 2");
  ResolverConfig config;
  config.repositories.push_back(EmbeddedRepo("local", empty.path().string(), 0));
  config.repositories.push_back(HttpRepo("remote", server.uri(), 1));
  config.repositories.push_back(EmbeddedRepo("broken", broken.path().string(), 2));
  ResolverOptions options = t.Make();
  options.retry.max_attempts = 1;
  auto resolver = CreateOrDie(config, options);

  LookupHistory history;
  EXPECT_EQ(resolver->Lookup(Key("iglu:com.acme/a/jsonschema/1-0-0"), &history).status().code(),
            StatusCode::kUnavailable);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].repository, "local");
  EXPECT_EQ(history[0].outcome, RepositoryAttempt::Outcome::kNotFound);
  EXPECT_EQ(history[1].repository, "remote");
  EXPECT_EQ(history[1].outcome, RepositoryAttempt::Outcome::kUnreachable);
  EXPECT_THAT(history[1].message, HasSubstr("HTTP 503"));
  EXPECT_EQ(history[2].outcome, RepositoryAttempt::Outcome::kNotFound);

  // From the cache: the same history.
  LookupHistory cached;
  EXPECT_FALSE(resolver->Lookup(Key("iglu:com.acme/a/jsonschema/1-0-0"), &cached).ok());
  ASSERT_EQ(cached.size(), 3u);
  EXPECT_EQ(cached[1].outcome, RepositoryAttempt::Outcome::kUnreachable);

  // While "remote" is marked down it is skipped; "broken" has the schema but it is invalid.
  LookupHistory skipped;
  EXPECT_EQ(resolver->Lookup(bad, &skipped).status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(skipped.size(), 3u);
  EXPECT_EQ(skipped[1].outcome, RepositoryAttempt::Outcome::kSkipped);
  EXPECT_EQ(skipped[2].outcome, RepositoryAttempt::Outcome::kInvalid);
  EXPECT_EQ(server.requests(), 1);

  // A success clears the history.
  TempDir good;
  SchemaKey ok = Key("iglu:com.acme/ok/jsonschema/1-0-0");
  good.Write("schemas/" + ok.ToPath(), MinimalSchema(ok, "fine"));
  ResolverConfig good_config;
  good_config.repositories.push_back(EmbeddedRepo("good", good.path().string()));
  auto good_resolver = CreateOrDie(good_config, t.Make());
  EXPECT_TRUE(good_resolver->Lookup(ok, &skipped).ok());
  EXPECT_TRUE(skipped.empty());
}

TEST(ResolverTest, UnreachableRegistryErrorNamesRegistryAndCause) {
  int port;
  {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }  // closed: connections are refused
  TestOptions t;
  ResolverConfig config;
  config.repositories.push_back(HttpRepo("Iglu Central", "http://127.0.0.1:" + std::to_string(port)));
  ResolverOptions options = t.Make(/*use_builtin=*/true);
  options.retry.max_attempts = 2;
  auto resolver = CreateOrDie(config, options);
  Result<std::shared_ptr<const Schema>> result =
      resolver->Lookup("iglu:com.acme/a/jsonschema/1-0-0");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("\"Iglu Central\""));
  EXPECT_THAT(result.status().message(), HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(result.status().message(), HasSubstr("after 2 attempts"));
  EXPECT_EQ(t.sleeps.size(), 1u);
  // Built-in schemas still resolve while the registry is down.
  EXPECT_TRUE(resolver->Lookup("iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1").ok());
}

TEST(ResolverTest, ConcurrentLookupsFetchEachSchemaOnce) {
  TestOptions t;
  auto fake = std::make_unique<FakeRegistry>("fake");
  FakeRegistry* registry = fake.get();
  std::vector<SchemaKey> keys;
  for (int i = 0; i < 10; ++i) {
    keys.push_back(Key("iglu:com.acme/k" + std::to_string(i) + "/jsonschema/1-0-0"));
    registry->Add(keys.back());
  }
  std::vector<std::unique_ptr<Registry>> registries;
  registries.push_back(std::move(fake));
  ResolverConfig config;
  config.cache_size = 1000;  // sharded
  auto resolver = Resolver::CreateWithRegistries(std::move(registries), config, t.Make());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < 8; ++thread) {
    threads.emplace_back([&, thread] {
      for (int i = 0; i < 500; ++i) {
        if (!resolver->Lookup(keys[static_cast<size_t>((i + thread) % 10)]).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(registry->fetches.load(), 10);
}

TEST(ResolverTest, SchemaThatDoesNotCompileIsAnInvalidArgument) {
  TestOptions t;
  TempDir dir;
  SchemaKey key = Key("iglu:com.acme/broken/jsonschema/1-0-0");
  dir.Write("schemas/" + key.ToPath(), "{\"type\": ");
  ResolverConfig config;
  config.repositories.push_back(EmbeddedRepo("local", dir.path().string()));
  auto resolver = CreateOrDie(config, t.Make());
  Result<std::shared_ptr<const Schema>> result = resolver->Lookup(key);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(), HasSubstr("does not compile"));
}

TEST(ResolverTest, CyclicRemoteRefsFailInsteadOfHanging) {
  TestOptions t;
  TempDir dir;
  SchemaKey a = Key("iglu:com.acme/a/jsonschema/1-0-0");
  SchemaKey b = Key("iglu:com.acme/b/jsonschema/1-0-0");
  dir.Write("schemas/" + a.ToPath(),
            R"({"$ref":"http://iglucentral.com/schemas/com.acme/b/jsonschema/1-0-0#"})");
  dir.Write("schemas/" + b.ToPath(),
            R"({"$ref":"http://iglucentral.com/schemas/com.acme/a/jsonschema/1-0-0#"})");
  ResolverConfig config;
  config.repositories.push_back(EmbeddedRepo("local", dir.path().string()));
  auto resolver = CreateOrDie(config, t.Make());
  Result<std::shared_ptr<const Schema>> result = resolver->Lookup(a);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("cyclic"));
}

TEST(ResolverTest, ValidatesSelfDescribingJson) {
  TestOptions t;
  auto resolver = CreateOrDie(ResolverConfig{}, t.Make(/*use_builtin=*/true));
  rapidjson::Document good;
  good.Parse(R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
                 "data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}}]})");
  SchemaKey key;
  Result<std::vector<ValidationError>> errors = resolver->ValidateSelfDescribing(good, &key);
  ASSERT_TRUE(errors.ok()) << errors.status().ToString();
  EXPECT_TRUE(errors->empty());
  EXPECT_EQ(key.name, "contexts");

  rapidjson::Document bad;
  bad.Parse(R"({"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
                "data":[{"schema":"not-a-key","data":{}}]})");
  errors = resolver->ValidateSelfDescribing(bad);
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].path, "$[0].schema");
  EXPECT_EQ((*errors)[0].keyword, "pattern");

  rapidjson::Document not_sd;
  not_sd.Parse(R"({"data":1})");
  EXPECT_EQ(resolver->ValidateSelfDescribing(not_sd).status().code(), StatusCode::kInvalidArgument);
}

TEST(ResolverConfigTest, ParsesSnowplowResolverConfig) {
  Result<ResolverConfig> config = ResolverConfig::Parse(R"({
    "schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
    "data": {
      "cacheSize": 42,
      "cacheTtl": 120,
      "repositories": [
        {"name": "Iglu Central", "priority": 0, "vendorPrefixes": ["com.snowplowanalytics"],
         "connection": {"http": {"uri": "http://iglucentral.com/"}}},
        {"name": "Private", "priority": 1, "vendorPrefixes": [],
         "connection": {"http": {"uri": "https://iglu.example.com/api/", "apikey": "k"}}},
        {"name": "Local", "priority": 2, "vendorPrefixes": ["com.acme"],
         "connection": {"embedded": {"path": "iglu"}}},
        {"name": "Absolute", "priority": 3, "vendorPrefixes": [],
         "connection": {"embedded": {"path": "/srv/iglu"}}}
      ]
    }
  })", "/etc/furrow");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->cache_size, 42u);
  ASSERT_TRUE(config->cache_ttl.has_value());
  EXPECT_EQ(config->cache_ttl->count(), 120);
  ASSERT_EQ(config->repositories.size(), 4u);
  EXPECT_EQ(config->repositories[0].uri, "http://iglucentral.com");
  EXPECT_THAT(config->repositories[0].vendor_prefixes, ElementsAre("com.snowplowanalytics"));
  EXPECT_EQ(config->repositories[1].api_key, "k");
  EXPECT_EQ(config->repositories[1].uri, "https://iglu.example.com/api");
  EXPECT_EQ(config->repositories[2].kind, RepositoryConfig::Kind::kEmbedded);
  EXPECT_EQ(config->repositories[2].path, "/etc/furrow/iglu");
  EXPECT_EQ(config->repositories[3].path, "/srv/iglu");
}

TEST(ResolverConfigTest, AcceptsOlderVersionsWithoutCacheTtl) {
  Result<ResolverConfig> config = ResolverConfig::Parse(R"({
    "schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-0",
    "data": {"cacheSize": 500, "repositories": []}})", "/");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->cache_ttl.has_value());
}

TEST(ResolverConfigTest, RejectsBadConfigs) {
  const char* bad[] = {
      "not json",
      R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/2-0-0","data":{"cacheSize":1,"repositories":[]}})",
      R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1"})",
      R"({"repositories":[]})",
      R"({"cacheSize":-1,"repositories":[]})",
      R"({"cacheSize":1,"cacheTtl":0,"repositories":[]})",
      R"({"cacheSize":1,"repositories":{}})",
      R"({"cacheSize":1,"repositories":[{"name":"x","priority":0,"vendorPrefixes":[],"connection":{}}]})",
      R"({"cacheSize":1,"repositories":[{"name":"x","priority":0,"vendorPrefixes":[],"connection":{"http":{"uri":"ftp://x"}}}]})",
      R"({"cacheSize":1,"repositories":[{"name":"x","vendorPrefixes":[],"connection":{"embedded":{"path":"p"}}}]})",
      R"({"cacheSize":1,"repositories":[{"priority":0,"vendorPrefixes":[],"connection":{"embedded":{"path":"p"}}}]})",
  };
  for (const char* text : bad) {
    Result<ResolverConfig> config = ResolverConfig::Parse(text, "/");
    EXPECT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(ResolverConfigTest, LoadResolvesEmbeddedPathsAgainstTheFile) {
  TempDir dir;
  SchemaKey key = Key("iglu:com.acme/thing/jsonschema/1-0-0");
  dir.Write("conf/iglu/schemas/" + key.ToPath(), MinimalSchema(key, "local"));
  dir.Write("conf/resolver.json", R"({"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
    "data":{"cacheSize":10,"repositories":[{"name":"local","priority":0,"vendorPrefixes":[],
    "connection":{"embedded":{"path":"iglu"}}}]}})");
  Result<ResolverConfig> config = ResolverConfig::Load(dir.path() / "conf/resolver.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  TestOptions t;
  auto resolver = CreateOrDie(*config, t.Make());
  EXPECT_TRUE(resolver->Lookup(key).ok());
  EXPECT_EQ(ResolverConfig::Load(dir.path() / "missing.json").status().code(), StatusCode::kNotFound);

  ResolverConfig missing_dir;
  missing_dir.repositories.push_back(EmbeddedRepo("gone", (dir.path() / "nope").string()));
  EXPECT_EQ(Resolver::Create(missing_dir, t.Make()).status().code(), StatusCode::kInvalidArgument);
}

TEST(ResolverConfigTest, DefaultIsIgluCentralAndBuiltinsNeedNoNetwork) {
  ResolverConfig config = ResolverConfig::Default();
  ASSERT_EQ(config.repositories.size(), 1u);
  EXPECT_EQ(config.repositories[0].uri, "http://iglucentral.com");
  EXPECT_EQ(config.repositories[0].kind, RepositoryConfig::Kind::kHttp);
  EXPECT_EQ(config.cache_ttl, std::chrono::seconds(600));
  TestOptions t;
  auto resolver = CreateOrDie(config, t.Make(/*use_builtin=*/true));
  // Every built-in schema resolves from the binary, before Iglu Central is asked.
  for (const BuiltinSchema& builtin : BuiltinSchemas()) {
    Result<std::shared_ptr<const Schema>> schema = resolver->Lookup(*SchemaKey::ParsePath(builtin.path));
    EXPECT_TRUE(schema.ok()) << builtin.path << ": " << schema.status().ToString();
  }
  EXPECT_TRUE(t.sleeps.empty());
}

}  // namespace
}  // namespace furrow::iglu
