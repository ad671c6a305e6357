#include "iglu/resolver.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <list>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "core/logging.h"

namespace furrow::iglu {
namespace {

using rapidjson::Value;
using SchemaResult = Result<std::shared_ptr<const Schema>>;

// A lookup's result with, for failures, what each repository answered.
struct Outcome {
  SchemaResult value;
  std::shared_ptr<const LookupHistory> history;  // null for successes
};

constexpr std::string_view kResolverConfigPrefix =
    "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-";
constexpr size_t kShardThreshold = 256;  // below this cache size, one shard keeps LRU exact
constexpr size_t kShardCount = 16;
constexpr size_t kMaxConfigBytes = 1024 * 1024;

std::string_view StringOf(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

const Value* Member(const Value& object, std::string_view name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(Value(rapidjson::StringRef(name.data(), name.size())));
  return it == object.MemberEnd() ? nullptr : &it->value;
}

Result<RepositoryConfig> ParseRepository(const Value& repo, size_t index,
                                         const std::filesystem::path& base_dir) {
  const std::string where = "repositories[" + std::to_string(index) + "]";
  if (!repo.IsObject()) return InvalidArgumentError(where + " is not an object");
  RepositoryConfig config;
  const Value* name = Member(repo, "name");
  if (name == nullptr || !name->IsString()) {
    return InvalidArgumentError(where + ".name must be a string");
  }
  config.name = std::string(StringOf(*name));
  const Value* priority = Member(repo, "priority");
  if (priority == nullptr || !priority->IsInt()) {
    return InvalidArgumentError(where + ".priority must be an integer");
  }
  config.priority = priority->GetInt();
  if (const Value* prefixes = Member(repo, "vendorPrefixes")) {
    if (!prefixes->IsArray()) return InvalidArgumentError(where + ".vendorPrefixes must be an array");
    for (const Value& p : prefixes->GetArray()) {
      if (!p.IsString()) {
        return InvalidArgumentError(where + ".vendorPrefixes must hold strings");
      }
      config.vendor_prefixes.emplace_back(StringOf(p));
    }
  } else {
    return InvalidArgumentError(where + ".vendorPrefixes is required");
  }
  const Value* connection = Member(repo, "connection");
  if (connection == nullptr || !connection->IsObject()) {
    return InvalidArgumentError(where + ".connection must be an object");
  }
  if (const Value* http = Member(*connection, "http")) {
    const Value* uri = Member(*http, "uri");
    if (uri == nullptr || !uri->IsString() || uri->GetStringLength() == 0) {
      return InvalidArgumentError(where + ".connection.http.uri must be a non-empty string");
    }
    config.kind = RepositoryConfig::Kind::kHttp;
    config.uri = std::string(StringOf(*uri));
    // Snowplow configs sometimes give scheme-relative URIs ("//iglucentral.com").
    if (config.uri.rfind("//", 0) == 0) config.uri = "http:" + config.uri;
    if (config.uri.rfind("http://", 0) != 0 && config.uri.rfind("https://", 0) != 0) {
      return InvalidArgumentError(where + ".connection.http.uri must be http:// or https://");
    }
    while (!config.uri.empty() && config.uri.back() == '/') config.uri.pop_back();
    if (const Value* apikey = Member(*http, "apikey"); apikey && !apikey->IsNull()) {
      if (!apikey->IsString()) {
        return InvalidArgumentError(where + ".connection.http.apikey must be a string");
      }
      config.api_key = std::string(StringOf(*apikey));
    }
  } else if (const Value* embedded = Member(*connection, "embedded")) {
    const Value* path = Member(*embedded, "path");
    if (path == nullptr || !path->IsString() || path->GetStringLength() == 0) {
      return InvalidArgumentError(where + ".connection.embedded.path must be a non-empty string");
    }
    config.kind = RepositoryConfig::Kind::kEmbedded;
    std::filesystem::path p(std::string(StringOf(*path)));
    config.path = (p.is_absolute() ? p : base_dir / p).lexically_normal().string();
  } else {
    return InvalidArgumentError(where + ".connection must have \"http\" or \"embedded\"");
  }
  return config;
}

int KindRank(RepositoryConfig::Kind kind) {
  switch (kind) {
    case RepositoryConfig::Kind::kBuiltin:
      return 0;
    case RepositoryConfig::Kind::kEmbedded:
      return 1;
    case RepositoryConfig::Kind::kHttp:
      return 2;
  }
  return 3;
}

std::string Describe(const RepositoryConfig& config) {
  switch (config.kind) {
    case RepositoryConfig::Kind::kBuiltin:
      return "\"" + config.name + "\" (built-in)";
    case RepositoryConfig::Kind::kEmbedded:
      return "\"" + config.name + "\" (" + config.path + ")";
    case RepositoryConfig::Kind::kHttp:
      return "\"" + config.name + "\" (" + config.uri + ")";
  }
  return config.name;
}

// Keys this thread is compiling right now: a `$ref` back to one of them is a cycle,
// and a nested lookup never waits for another thread's fetch (which could wait for
// this one).
thread_local std::vector<SchemaKey> tls_resolving;

}  // namespace

Result<ResolverConfig> ResolverConfig::Parse(std::string_view json_text,
                                             const std::filesystem::path& base_dir) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(json_text.data(), json_text.size());
  if (doc.HasParseError()) {
    return InvalidArgumentError(std::string("resolver config is not valid JSON: ") +
                                rapidjson::GetParseError_En(doc.GetParseError()) + " at offset " +
                                std::to_string(doc.GetErrorOffset()));
  }
  const Value* data = &doc;
  if (const Value* schema = Member(doc, "schema")) {
    if (!schema->IsString()) return InvalidArgumentError("resolver config: schema must be a string");
    std::string_view uri = StringOf(*schema);
    if (uri.substr(0, kResolverConfigPrefix.size()) != kResolverConfigPrefix ||
        (uri.substr(kResolverConfigPrefix.size()) != "0" &&
         uri.substr(kResolverConfigPrefix.size()) != "1" &&
         uri.substr(kResolverConfigPrefix.size()) != "2" &&
         uri.substr(kResolverConfigPrefix.size()) != "3")) {
      return InvalidArgumentError("resolver config: unsupported schema \"" + std::string(uri) +
                                  "\" (expected resolver-config 1-0-0 to 1-0-3)");
    }
    data = Member(doc, "data");
    if (data == nullptr) return InvalidArgumentError("resolver config: missing data");
  }
  if (!data->IsObject()) return InvalidArgumentError("resolver config: data must be an object");

  ResolverConfig config;
  const Value* cache_size = Member(*data, "cacheSize");
  if (cache_size == nullptr || !cache_size->IsInt() || cache_size->GetInt() < 0) {
    return InvalidArgumentError("resolver config: cacheSize must be a non-negative integer");
  }
  config.cache_size = static_cast<size_t>(cache_size->GetInt());
  if (const Value* ttl = Member(*data, "cacheTtl"); ttl != nullptr && !ttl->IsNull()) {
    if (!ttl->IsInt() || ttl->GetInt() < 1) {
      return InvalidArgumentError("resolver config: cacheTtl must be a positive integer (seconds)");
    }
    config.cache_ttl = std::chrono::seconds(ttl->GetInt());
  }
  const Value* repositories = Member(*data, "repositories");
  if (repositories == nullptr || !repositories->IsArray()) {
    return InvalidArgumentError("resolver config: repositories must be an array");
  }
  for (rapidjson::SizeType i = 0; i < repositories->Size(); ++i) {
    Result<RepositoryConfig> repo = ParseRepository((*repositories)[i], i, base_dir);
    if (!repo.ok()) return repo.status().WithContext("resolver config");
    config.repositories.push_back(std::move(*repo));
  }
  return config;
}

Result<ResolverConfig> ResolverConfig::Load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFoundError("resolver config " + path.string() + " does not exist");
  }
  std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return IoError("cannot stat resolver config " + path.string() + ": " + ec.message());
  if (size > kMaxConfigBytes) {
    return InvalidArgumentError("resolver config " + path.string() + " is larger than 1 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("cannot open resolver config " + path.string(), errno);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("cannot read resolver config " + path.string());
  std::filesystem::path base = std::filesystem::absolute(path, ec).parent_path();
  Result<ResolverConfig> config = Parse(text.str(), base);
  if (!config.ok()) return config.status().WithContext(path.string());
  return config;
}

ResolverConfig ResolverConfig::Default() {
  ResolverConfig config;
  config.cache_size = 500;
  config.cache_ttl = std::chrono::seconds(600);
  RepositoryConfig central;
  central.name = "Iglu Central";
  central.priority = 0;
  central.kind = RepositoryConfig::Kind::kHttp;
  central.uri = "http://iglucentral.com";
  config.repositories.push_back(std::move(central));
  return config;
}

Result<SelfDescribing> ParseSelfDescribing(const rapidjson::Value& json) {
  if (!json.IsObject()) return InvalidArgumentError("self-describing JSON must be an object");
  const Value* schema = Member(json, "schema");
  if (schema == nullptr || !schema->IsString()) {
    return InvalidArgumentError("self-describing JSON must have a string \"schema\"");
  }
  const Value* data = Member(json, "data");
  if (data == nullptr) return InvalidArgumentError("self-describing JSON must have \"data\"");
  FURROW_ASSIGN_OR_RETURN(SchemaKey key, SchemaKey::ParseUri(StringOf(*schema)));
  return SelfDescribing{std::move(key), data};
}

class Resolver::Impl {
 public:
  struct RegistryState {
    std::unique_ptr<Registry> registry;
    std::atomic<int64_t> down_until_ns{0};  // monotonic; 0 = up
    std::atomic<bool> down{false};          // logged as down
    Counter* fetch_errors = nullptr;
  };

  Impl(std::vector<std::unique_ptr<Registry>> registries, bool sort, ResolverConfig config,
       ResolverOptions options)
      : config_(std::move(config)),
        options_(std::move(options)),
        clock_(options_.clock != nullptr ? options_.clock : &SystemClock::Instance()),
        sort_(sort),
        shard_count_(config_.cache_size >= kShardThreshold ? kShardCount : 1),
        shard_capacity_((config_.cache_size + shard_count_ - 1) / shard_count_),
        shards_(shard_count_) {
    for (auto& registry : registries) {
      auto state = std::make_unique<RegistryState>();
      state->registry = std::move(registry);
      if (options_.metrics != nullptr) {
        state->fetch_errors = &options_.metrics->GetCounter(
            "furrow_iglu_fetch_errors_total", "Failed fetches from an Iglu repository",
            {{"repository", state->registry->config().name}});
      }
      registries_.push_back(std::move(state));
    }
    if (options_.metrics != nullptr) {
      auto lookups = [this](const char* result) {
        return &options_.metrics->GetCounter("furrow_iglu_lookups_total",
                                             "Iglu schema lookups by outcome",
                                             {{"result", result}});
      };
      hit_counter_ = lookups("hit");
      miss_counter_ = lookups("miss");
      negative_hit_counter_ = lookups("negative_hit");
    }
  }

  Outcome Lookup(const SchemaKey& key);
  std::vector<RegistryState*> Order(const SchemaKey& key) const;
  Stats GetStats() const;

 private:
  struct Entry {
    Outcome value;
    MonoTime expires;
    std::list<SchemaKey>::iterator lru;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<SchemaKey, Entry> entries;     // guarded by mu
    std::list<SchemaKey> lru;                         // guarded by mu; front = newest
    std::unordered_map<SchemaKey, std::shared_future<Outcome>> in_flight;  // mu
  };

  Outcome Fetch(const SchemaKey& key);
  void Store(Shard& shard, const SchemaKey& key, const Outcome& value);
  MonoTime ExpiryFor(const SchemaResult& value) const;
  int64_t NowNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               clock_->Monotonic().time_since_epoch())
        .count();
  }

  ResolverConfig config_;
  ResolverOptions options_;
  const Clock* clock_;
  bool sort_;
  size_t shard_count_;
  size_t shard_capacity_;
  std::vector<Shard> shards_;
  std::vector<std::unique_ptr<RegistryState>> registries_;
  std::atomic<uint64_t> hits_{0}, negative_hits_{0}, misses_{0};
  Counter* hit_counter_ = nullptr;
  Counter* miss_counter_ = nullptr;
  Counter* negative_hit_counter_ = nullptr;

 public:
  std::unique_ptr<net::HttpClient> owned_client;
};

std::vector<Resolver::Impl::RegistryState*> Resolver::Impl::Order(const SchemaKey& key) const {
  std::vector<RegistryState*> order;
  for (const auto& r : registries_) order.push_back(r.get());
  if (sort_) {
    const bool builtin_first = options_.builtin_first;
    auto rank = [&key, builtin_first](RegistryState* r) {
      const RepositoryConfig& c = r->registry->config();
      const bool builtin = c.kind == RepositoryConfig::Kind::kBuiltin;
      const int group = builtin ? (builtin_first ? 0 : 3) : (c.MatchesVendor(key.vendor) ? 1 : 2);
      return std::make_tuple(group, c.priority, KindRank(c.kind));
    };
    std::stable_sort(order.begin(), order.end(),
                     [&rank](RegistryState* a, RegistryState* b) {
                       return rank(a) < rank(b);
                     });
  }
  return order;
}

MonoTime Resolver::Impl::ExpiryFor(const SchemaResult& value) const {
  const MonoTime now = clock_->Monotonic();
  if (value.ok()) {
    return config_.cache_ttl ? now + *config_.cache_ttl : MonoTime::max();
  }
  if (value.status().code() == StatusCode::kNotFound ||
      value.status().code() == StatusCode::kInvalidArgument) {
    return now + (config_.cache_ttl ? *config_.cache_ttl : options_.negative_ttl);
  }
  return now + options_.error_ttl;
}

void Resolver::Impl::Store(Shard& shard, const SchemaKey& key, const Outcome& value) {
  if (shard_capacity_ == 0) return;
  auto it = shard.entries.find(key);
  if (it != shard.entries.end()) {
    shard.lru.erase(it->second.lru);
    shard.entries.erase(it);
  }
  while (shard.entries.size() >= shard_capacity_ && !shard.lru.empty()) {
    shard.entries.erase(shard.lru.back());
    shard.lru.pop_back();
  }
  shard.lru.push_front(key);
  shard.entries.emplace(key, Entry{value, ExpiryFor(value.value), shard.lru.begin()});
}

Outcome Resolver::Impl::Lookup(const SchemaKey& key) {
  const bool nested = !tls_resolving.empty();
  if (std::find(tls_resolving.begin(), tls_resolving.end(), key) != tls_resolving.end()) {
    return Outcome{InvalidArgumentError("cyclic $ref through " + key.ToUri()), nullptr};
  }
  Shard& shard = shards_[std::hash<SchemaKey>()(key) % shard_count_];
  std::promise<Outcome> promise;
  {
    std::unique_lock lock(shard.mu);
    auto it = shard.entries.find(key);
    if (it != shard.entries.end()) {
      if (it->second.expires == MonoTime::max() || clock_->Monotonic() < it->second.expires) {
        shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
        Outcome value = it->second.value;
        lock.unlock();
        if (value.value.ok()) {
          hits_.fetch_add(1, std::memory_order_relaxed);
          if (hit_counter_) hit_counter_->Inc();
        } else {
          negative_hits_.fetch_add(1, std::memory_order_relaxed);
          if (negative_hit_counter_) negative_hit_counter_->Inc();
        }
        return value;
      }
      shard.lru.erase(it->second.lru);
      shard.entries.erase(it);
    }
    if (!nested) {
      auto flight = shard.in_flight.find(key);
      if (flight != shard.in_flight.end()) {
        std::shared_future<Outcome> future = flight->second;
        lock.unlock();
        return future.get();
      }
      shard.in_flight.emplace(key, promise.get_future().share());
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  if (miss_counter_) miss_counter_->Inc();
  tls_resolving.push_back(key);
  Outcome value = Fetch(key);
  tls_resolving.pop_back();
  {
    std::lock_guard lock(shard.mu);
    Store(shard, key, value);
    if (!nested) shard.in_flight.erase(key);
  }
  if (!nested) promise.set_value(value);
  return value;
}

Outcome Resolver::Impl::Fetch(const SchemaKey& key) {
  std::vector<RegistryState*> order = Order(key);
  std::string tried;
  bool unavailable = false;
  auto history = std::make_shared<LookupHistory>();
  for (RegistryState* state : order) {
    const RepositoryConfig& config = state->registry->config();
    if (!tried.empty()) tried.append("; ");
    const int64_t down_until = state->down_until_ns.load(std::memory_order_relaxed);
    if (down_until != 0 && NowNs() < down_until) {
      tried.append(Describe(config) + ": skipped, unreachable at its last attempt");
      history->push_back({config.name, RepositoryAttempt::Outcome::kSkipped,
                          "skipped: unreachable at its last attempt"});
      unavailable = true;
      continue;
    }
    Result<std::string> text = state->registry->Fetch(key);
    if (text.ok() || text.status().code() == StatusCode::kNotFound) {
      if (state->down.exchange(false)) {
        state->down_until_ns.store(0, std::memory_order_relaxed);
        log::Info("iglu registry reachable again", {{"repository", config.name},
                                                     {"uri", config.uri}});
      }
    }
    if (text.ok()) {
      auto lookup = [this](const SchemaKey& ref) { return Lookup(ref).value; };
      SchemaResult schema = Schema::Compile(key, *text, lookup, options_.limits);
      if (!schema.ok()) {
        history->push_back({config.name, RepositoryAttempt::Outcome::kInvalid,
                            schema.status().message()});
        return Outcome{InvalidArgumentError(key.ToUri() + " from " + Describe(config) +
                                            " does not compile: " + schema.status().message()),
                       std::move(history)};
      }
      return Outcome{std::move(schema), nullptr};
    }
    if (text.status().code() == StatusCode::kNotFound) {
      tried.append(Describe(config) + ": not found (" + text.status().message() + ")");
      history->push_back(
          {config.name, RepositoryAttempt::Outcome::kNotFound, text.status().message()});
      continue;
    }
    if (state->fetch_errors) state->fetch_errors->Inc();
    tried.append(Describe(config) + ": " + text.status().ToString());
    history->push_back(
        {config.name, RepositoryAttempt::Outcome::kUnreachable, text.status().ToString()});
    if (text.status().code() == StatusCode::kUnavailable) {
      unavailable = true;
      state->down_until_ns.store(
          NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(options_.error_ttl)
                        .count(),
          std::memory_order_relaxed);
      if (!state->down.exchange(true)) {
        log::Warn("iglu registry unreachable; schemas only it has cannot be resolved until it "
                  "answers again",
                  {{"repository", config.name},
                   {"uri", config.uri},
                   {"error", text.status().message()},
                   {"retry_after_seconds", static_cast<int64_t>(options_.error_ttl.count())}});
      }
    }
  }
  if (order.empty()) tried = "no repositories configured";
  const std::string message = key.ToUri() + " not found: " + tried;
  if (unavailable) return Outcome{UnavailableError(message), std::move(history)};
  return Outcome{NotFoundError(message), std::move(history)};
}

Resolver::Stats Resolver::Impl::GetStats() const {
  Stats stats;
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.negative_hits = negative_hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    stats.entries += shard.entries.size();
  }
  return stats;
}

Result<std::unique_ptr<Resolver>> Resolver::Create(ResolverConfig config,
                                                   ResolverOptions options) {
  std::unique_ptr<net::HttpClient> owned_client;
  net::HttpClient* client = options.http_client;
  std::vector<std::unique_ptr<Registry>> registries;
  if (options.use_builtin) {
    RepositoryConfig builtin;
    builtin.name = "furrow built-in";
    builtin.kind = RepositoryConfig::Kind::kBuiltin;
    registries.push_back(MakeBuiltinRegistry(std::move(builtin)));
  }
  for (const RepositoryConfig& repo : config.repositories) {
    switch (repo.kind) {
      case RepositoryConfig::Kind::kBuiltin:
        registries.push_back(MakeBuiltinRegistry(repo));
        break;
      case RepositoryConfig::Kind::kEmbedded: {
        std::error_code ec;
        if (!std::filesystem::is_directory(repo.path, ec)) {
          return InvalidArgumentError("repository \"" + repo.name + "\": embedded path " +
                                      repo.path + " is not a directory");
        }
        registries.push_back(MakeEmbeddedRegistry(repo));
        break;
      }
      case RepositoryConfig::Kind::kHttp:
        if (client == nullptr) {
          owned_client = std::make_unique<net::HttpClient>(net::HttpClientOptions{});
          client = owned_client.get();
        }
        registries.push_back(
            MakeHttpRegistry(repo, *client, options.retry, options.sleep, options.http_timeout));
        break;
    }
  }
  auto impl = std::make_unique<Impl>(std::move(registries), true, std::move(config),
                                     std::move(options));
  impl->owned_client = std::move(owned_client);
  return std::unique_ptr<Resolver>(new Resolver(std::move(impl)));
}

std::unique_ptr<Resolver> Resolver::CreateWithRegistries(
    std::vector<std::unique_ptr<Registry>> registries, ResolverConfig config,
    ResolverOptions options) {
  return std::unique_ptr<Resolver>(new Resolver(
      std::make_unique<Impl>(std::move(registries), false, std::move(config), std::move(options))));
}

Resolver::Resolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Resolver::~Resolver() = default;

Result<std::shared_ptr<const Schema>> Resolver::Lookup(const SchemaKey& key,
                                                       LookupHistory* history) {
  Outcome outcome = impl_->Lookup(key);
  if (history != nullptr) {
    if (outcome.history) {
      *history = *outcome.history;
    } else {
      history->clear();
    }
  }
  return std::move(outcome.value);
}

Result<std::shared_ptr<const Schema>> Resolver::Lookup(std::string_view iglu_uri) {
  FURROW_ASSIGN_OR_RETURN(SchemaKey key, SchemaKey::ParseUri(iglu_uri));
  return impl_->Lookup(key).value;
}

Result<std::vector<ValidationError>> Resolver::ValidateSelfDescribing(const rapidjson::Value& json,
                                                                      SchemaKey* key_out) {
  FURROW_ASSIGN_OR_RETURN(SelfDescribing sd, ParseSelfDescribing(json));
  if (key_out != nullptr) *key_out = sd.key;
  FURROW_ASSIGN_OR_RETURN(std::shared_ptr<const Schema> schema, impl_->Lookup(sd.key).value);
  return schema->Validate(*sd.data);
}

std::vector<std::string> Resolver::RepositoryOrder(const SchemaKey& key) const {
  std::vector<std::string> names;
  for (const auto* state : impl_->Order(key)) names.push_back(state->registry->config().name);
  return names;
}

Resolver::Stats Resolver::stats() const { return impl_->GetStats(); }

}  // namespace furrow::iglu
