// EnrichStage: the `furrow enrich` loop. Reads raw-good, runs the Enricher on
// worker threads, writes enriched-good (one TSV line per event) and enriched-bad
// (bad rows), and commits its raw-good position only after every output of the
// batch is durable.
//
//   EnrichStage stage(&provider, &enricher, &metrics, EnrichStageOptions{});
//   Status s = stage.Run(stop);   // until `stop` is set; then finish, flush, commit
//
// Per batch: Poll up to max_batch_records/bytes; the workers split the batch (each
// worker takes every W-th record into its own slot, so memory is bounded by the
// batch); outputs are appended in input order; both producers are Flush()ed and
// every append callback checked; then Commit. If any append fails the consumer is
// rewound and the batch redone after retry_backoff (at-least-once: outputs of a
// failed batch may repeat). An output larger than the stream's max record size
// becomes a size_violation bad row in enriched-bad (the output truncated to a
// tenth of the limit), so no input is lost to an oversized output.
//
// Metrics (labels never carry event data):
//   furrow_enrich_records_total              raw-good records read
//   furrow_enrich_events_total{result}       outputs: good, bad
//   furrow_enrich_bad_rows_total{type}       bad rows by badrows type
//   furrow_enrich_step_nanoseconds_total{step} time in adapter, mapping and each enrichment
//   furrow_enrich_batches_retried_total      batches redone after an append failure
//
// Thread safety: Run() is called once, from one thread; `stop` may be set from
// any thread. The provider, enricher and metrics must outlive the stage.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "enrich/enricher.h"
#include "stream/stream.h"

namespace furrow::enrich {

struct EnrichStageOptions {
  std::string input_stream = stream::kRawGood;     // default raw-good
  std::string good_stream = stream::kEnrichedGood;  // default enriched-good
  std::string bad_stream = stream::kEnrichedBad;    // default enriched-bad
  std::string reader = "enrich";                    // consumer name on the input
  size_t workers = 2;                               // default 2 worker threads
  size_t max_batch_records = 1000;                  // per poll; default 1000
  size_t max_batch_bytes = 16 << 20;                // per poll; default 16 MiB
  std::chrono::milliseconds poll_wait{200};         // default 200 ms
  std::chrono::milliseconds retry_backoff{500};     // default 500 ms
  // Stop after the input is drained (Poll returns nothing) — for tests and
  // one-shot runs. Default false: run until `stop`.
  bool exit_when_idle = false;
  // Stamps size_violation bad rows. Default: the system clock.
  const Clock* clock = nullptr;
};

class EnrichStage {
 public:
  EnrichStage(stream::StreamProvider* streams, const Enricher* enricher, MetricsRegistry* metrics,
              EnrichStageOptions options);

  // Runs until `stop` becomes true (or the input is idle with exit_when_idle).
  // Errors: opening streams, or a Poll/Commit failure of the input stream.
  Status Run(const std::atomic<bool>& stop);

 private:
  EnrichOutput ProcessBatch(const stream::Batch& batch, std::vector<EnrichOutput>* per_record);
  Status WriteOutputs(const std::vector<EnrichOutput>& per_record, stream::Producer* good,
                      stream::Producer* bad);
  std::string FitRecord(std::string record, size_t limit) const;

  stream::StreamProvider* streams_;
  const Enricher* enricher_;
  MetricsRegistry* metrics_;
  EnrichStageOptions options_;
};

}  // namespace furrow::enrich
