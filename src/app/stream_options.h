// The embedded stream options every stage command shares (--stream-*), and opening
// the embedded streams under DATA_DIR/streams. Defaults are FileStreamOptions'.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "stream/stream.h"

namespace furrow::app {

struct StreamCommandOptions {
  uint64_t budget_bytes = 1ull << 30;
  uint64_t segment_bytes = 64ull << 20;
  size_t max_record_bytes = 1'000'000;
  int64_t group_commit_us = 1000;
  uint64_t max_pending_bytes = 64ull << 20;
  uint64_t retention_max_bytes = 256ull << 20;
  int64_t retention_max_age_s = 7 * 24 * 3600;
};

void AddStreamOptions(CLI::App* command, StreamCommandOptions* options);

// The embedded file streams of `data_dir` (DATA_DIR/streams).
[[nodiscard]] Result<std::unique_ptr<stream::StreamProvider>> OpenStreams(
    const std::string& data_dir, const StreamCommandOptions& options, const Clock& clock,
    MetricsRegistry* metrics);

}  // namespace furrow::app
