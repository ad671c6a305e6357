#include "app/sink_stage.h"

#include <cstdlib>

#include "core/logging.h"

namespace furrow::app {
namespace {

struct Route {
  const char* stream;
  const char* prefix;
};
constexpr Route kRoutes[] = {
    {stream::kEnrichedGood, "output"},
    {stream::kEnrichedBad, "enriched-bad"},
    {stream::kRawBad, "raw-bad"},
};

std::optional<std::string> GetEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

}  // namespace

void AddSinkOptions(CLI::App* cmd, SinkCommandOptions* o) {
  AddLakeOptions(cmd, &o->lake, &o->lake_options);
  cmd->add_option("--compression", o->compression, "Lake file compression: gzip, zstd or none")
      ->capture_default_str()
      ->check(CLI::IsMember({"gzip", "zstd", "none"}));
  cmd->add_option("--compression-level", o->compression_level,
                  "Compression level; 0 = the library default (gzip 6, zstd 3)")
      ->capture_default_str();
  cmd->add_option("--max-file-bytes", o->max_file_bytes,
                  "Rotate a lake file after this many uncompressed bytes")
      ->capture_default_str();
  cmd->add_option("--max-file-age-s", o->max_file_age_s,
                  "Rotate a lake file this many seconds after its first line")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  cmd->add_option("--key-file", o->key_file,
                  "Pseudonymization key file (or $FURROW_PSEUDONYMIZE_KEY_FILE)");
  cmd->add_option("--key-ring", o->key_ring,
                  "Pseudonymization key ring YAML (or $FURROW_PSEUDONYMIZE_KEY_RING)");
  cmd->add_option("--allowlist", o->allowlist, "Allowlist YAML; default: the built-in allowlist")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--key-id-prefix", o->key_id_prefix, "Prefix pseudonyms with \"<key id>:\"");
}

Result<std::unique_ptr<SinkStage>> SinkStage::Create(const std::string& data_dir,
                                                     const SinkCommandOptions& o,
                                                     bool create_pipeline_key,
                                                     stream::StreamProvider* streams,
                                                     const Clock* clock, MetricsRegistry* metrics) {
  std::unique_ptr<SinkStage> stage(new SinkStage());
  FURROW_ASSIGN_OR_RETURN(stage->lake_, OpenLake(o.lake, data_dir, o.lake_options));

  bool key_configured = !o.key_file.empty() || !o.key_ring.empty() ||
                        GetEnv(pseudonymize::kKeyFileEnv) || GetEnv(pseudonymize::kKeyRingEnv);
  if (create_pipeline_key && !key_configured) {
    FURROW_ASSIGN_OR_RETURN(pseudonymize::KeyRing ring,
                            pseudonymize::LoadOrCreatePipelineKey(data_dir));
    stage->ring_ = std::make_unique<pseudonymize::KeyRing>(std::move(ring));
  } else {
    FURROW_ASSIGN_OR_RETURN(
        pseudonymize::KeyRing ring,
        pseudonymize::LoadKeyRing({o.key_file, o.key_ring, data_dir}, GetEnv));
    stage->ring_ = std::make_unique<pseudonymize::KeyRing>(std::move(ring));
  }
  stage->key_id_ = stage->ring_->active_id();

  if (o.allowlist.empty()) {
    FURROW_ASSIGN_OR_RETURN(pseudonymize::Allowlist a, pseudonymize::Allowlist::Default());
    stage->allowlist_ = std::make_unique<pseudonymize::Allowlist>(std::move(a));
  } else {
    FURROW_ASSIGN_OR_RETURN(pseudonymize::Allowlist a, pseudonymize::Allowlist::LoadFile(o.allowlist));
    stage->allowlist_ = std::make_unique<pseudonymize::Allowlist>(std::move(a));
  }

  FURROW_ASSIGN_OR_RETURN(sink::Compression compression, sink::ParseCompression(o.compression));
  sink::SinkOptions sink_options;
  sink_options.compression = compression;
  sink_options.compression_level = o.compression_level;
  sink_options.max_file_bytes = o.max_file_bytes;
  sink_options.max_file_age = std::chrono::seconds(o.max_file_age_s);

  pseudonymize::PseudonymizerOptions p_options;
  p_options.key_id_prefix = o.key_id_prefix;
  p_options.key_id = stage->key_id_;
  for (const Route& route : kRoutes) {
    FURROW_ASSIGN_OR_RETURN(auto consumer, streams->OpenConsumer(route.stream, o.reader));
    auto pseudonymizer = std::make_unique<pseudonymize::Pseudonymizer>(
        stage->ring_->active(), *stage->allowlist_, metrics, clock, p_options);
    stage->sinks_.push_back(std::make_unique<sink::StreamSink>(
        route.stream, route.prefix, consumer.get(), stage->lake_.get(), pseudonymizer.get(),
        stage->key_id_, std::filesystem::path(data_dir) / "sink", clock, metrics, sink_options));
    stage->consumers_.push_back(std::move(consumer));
    stage->pseudonymizers_.push_back(std::move(pseudonymizer));
  }
  return stage;
}

SinkStage::~SinkStage() { Stop(std::chrono::milliseconds(0)); }

void SinkStage::Start() {
  for (auto& s : sinks_) {
    running_.fetch_add(1);
    threads_.emplace_back([this, sink = s.get()] {
      sink->Run(stop_, give_up_);
      running_.fetch_sub(1);
    });
  }
}

bool SinkStage::Stop(std::chrono::milliseconds deadline) {
  if (threads_.empty()) return true;
  stop_.store(true);
  auto until = std::chrono::steady_clock::now() + deadline;
  while (running_.load() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  bool all_stored = running_.load() == 0;
  give_up_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
  return all_stored;
}

}  // namespace furrow::app
