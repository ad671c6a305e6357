// The sink stage as the `sink` and `pipeline` commands run it: three StreamSinks
// (enriched-good -> output/, enriched-bad -> enriched-bad/, raw-bad -> raw-bad/), one
// thread and one Pseudonymizer each, sharing the key ring, allowlist and lake.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/lake.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "pseudonymize/allowlist.h"
#include "pseudonymize/key_ring.h"
#include "pseudonymize/pseudonymizer.h"
#include "sink/stream_sink.h"
#include "storage/object_store.h"
#include "stream/stream.h"

namespace furrow::app {

struct SinkCommandOptions {
  std::string lake;              // --lake; empty = DATA_DIR/lake
  LakeOptions lake_options;
  std::string compression = "gzip";
  int compression_level = 0;
  uint64_t max_file_bytes = 64ull << 20;
  int64_t max_file_age_s = 60;
  std::string key_file;          // --key-file
  std::string key_ring;          // --key-ring
  std::string allowlist;         // --allowlist; empty = the built-in default
  bool key_id_prefix = false;
  std::string reader = "sink";
};

void AddSinkOptions(CLI::App* command, SinkCommandOptions* options);

class SinkStage {
 public:
  // Opens the lake, loads the allowlist and the key ring. With `create_pipeline_key`
  // and no key configured, DATA_DIR/keys/pseudonymize.key is created on first use.
  static Result<std::unique_ptr<SinkStage>> Create(const std::string& data_dir,
                                                   const SinkCommandOptions& options,
                                                   bool create_pipeline_key,
                                                   stream::StreamProvider* streams,
                                                   const Clock* clock, MetricsRegistry* metrics);
  ~SinkStage();

  // Starts one thread per stream.
  void Start();
  // Stops polling, stores the open files (retrying until stored or `deadline`
  // passes), commits, joins. Returns false if some file could not be stored.
  bool Stop(std::chrono::milliseconds deadline);

  const std::string& key_id() const { return key_id_; }
  std::string lake() const { return lake_->Describe(); }

 private:
  SinkStage() = default;

  std::unique_ptr<storage::ObjectStore> lake_;
  std::unique_ptr<pseudonymize::KeyRing> ring_;
  std::unique_ptr<pseudonymize::Allowlist> allowlist_;
  std::string key_id_;
  std::vector<std::unique_ptr<stream::Consumer>> consumers_;
  std::vector<std::unique_ptr<pseudonymize::Pseudonymizer>> pseudonymizers_;
  std::vector<std::unique_ptr<sink::StreamSink>> sinks_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> give_up_{false};
  std::atomic<int> running_{0};
};

}  // namespace furrow::app
