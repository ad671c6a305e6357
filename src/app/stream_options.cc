#include "app/stream_options.h"

#include "stream/file_log.h"

namespace furrow::app {

void AddStreamOptions(CLI::App* cmd, StreamCommandOptions* o) {
  cmd->add_option("--stream-budget-bytes", o->budget_bytes,
                  "Disk budget of each stream; a full stream refuses appends (collector: 503)")
      ->capture_default_str();
  cmd->add_option("--stream-segment-bytes", o->segment_bytes, "Stream segment file size")
      ->capture_default_str();
  cmd->add_option("--stream-max-record-bytes", o->max_record_bytes, "Largest stream record")
      ->capture_default_str();
  cmd->add_option("--stream-group-commit-us", o->group_commit_us,
                  "Group commit window in microseconds (appends sharing one fdatasync)")
      ->capture_default_str();
  cmd->add_option("--stream-max-pending-bytes", o->max_pending_bytes,
                  "Bytes accepted but not yet durable beyond which appends are refused")
      ->capture_default_str();
  cmd->add_option("--stream-retention-bytes", o->retention_max_bytes,
                  "Retention: delete read segments while a stream holds more than this")
      ->capture_default_str();
  cmd->add_option("--stream-retention-age-s", o->retention_max_age_s,
                  "Retention: delete read segments whose newest record is older than this")
      ->capture_default_str();
}

Result<std::unique_ptr<stream::StreamProvider>> OpenStreams(const std::string& data_dir,
                                                            const StreamCommandOptions& o,
                                                            const Clock& clock,
                                                            MetricsRegistry* metrics) {
  stream::FileStreamOptions f;
  f.budget_bytes = o.budget_bytes;
  f.segment_bytes = o.segment_bytes;
  f.max_record_bytes = o.max_record_bytes;
  f.group_commit_window = std::chrono::microseconds(o.group_commit_us);
  f.max_pending_bytes = o.max_pending_bytes;
  f.retention_max_bytes = o.retention_max_bytes;
  f.retention_max_age = std::chrono::seconds(o.retention_max_age_s);
  FURROW_ASSIGN_OR_RETURN(auto provider,
                          stream::FileStreamProvider::Open(data_dir + "/streams", f, clock, metrics));
  return std::unique_ptr<stream::StreamProvider>(std::move(provider));
}

}  // namespace furrow::app
