// EnrichStage: the `furrow enrich` loop. Reads raw-good, runs the Enricher on
// worker threads, writes enriched-good (one TSV line per event) and enriched-bad
// (bad rows), and commits its raw-good position only after every output of the
// batch is durable. Every input event's output is in enriched-good or enriched-bad
// exactly once, also after a kill -9 at any point (the journal below).
//
//   EnrichStageOptions options;
//   options.journal_dir = data_dir + "/enrich";   // required
//   EnrichStage stage(&provider, &enricher, &metrics, options);
//   Status s = stage.Run(stop);   // until `stop` is set; then finish, flush, commit
//
// Per batch: Poll up to max_batch_records/bytes; the workers split the batch (each
// worker takes every W-th record into its own slot, so memory is bounded by the
// batch); the outputs are listed per output stream in input order (an output larger
// than the stream's max record size becomes a size_violation bad row in
// enriched-bad, truncated to a tenth of the limit, so no input is lost to an
// oversized output). Then an *attempt*:
//   1. read both output streams' EndOffset() (stream.h);
//   2. write the journal (enrich_journal.h: DATA_DIR/enrich/<reader>.journal,
//      fsynced, replaced atomically): the batch's end position on raw-good, those
//      two offsets, the number of outputs per stream, and which outputs are durable
//      already from an earlier attempt;
//   3. append every output not yet durable, Flush() both producers, and note from
//      the callbacks which appends became durable.
// Once every output is durable the stage commits the batch's raw-good position and
// deletes the journal. If an append failed it waits retry_backoff and attempts
// again with only the outputs that are not durable yet: the batch is not enriched
// again, so a failed append never doubles an event. Before backing off it rewrites
// the journal with exactly the outputs that are durable (the callbacks say which),
// so a stop or a kill during the backoff leaves nothing to guess.
//
// Recovery (start of Run): with a journal present, the stage reads the journaled
// batch again from its committed position, exactly up to the journaled end.
//   * If raw-good's first uncommitted record is at or past that end (or nothing is
//     uncommitted), the batch was committed before the crash: the journal is stale
//     and deleted.
//   * Otherwise it enriches the batch again and, per output stream, treats as
//     durable the outputs the journal marks done plus the first
//     EndOffset() - START of the others. That is exact because appends to one
//     stream become durable in append order (the file log's group commit; a torn
//     tail is cut back to a record boundary), offsets are dense, and this stage is
//     the only writer of its output streams: what the killed attempt made durable
//     is a prefix of what it appended. It appends the rest, commits, and deletes
//     the journal. A kill during recovery finds the journal it rewrote and repeats.
//
// The caveat: re-enrichment must classify each event of the batch as good or bad
// as the killed run did, in the same order, because the journal counts outputs per
// stream rather than naming them. It does unless something the classification
// depends on changed across the restart: the enrichment configuration, the schemas
// the resolver can reach (Iglu Central up in one run and down in the next), an
// enrichment's data files. The regenerated outputs differ in etl_tstamp and
// generated ids, which is harmless: only outputs that were not durable are
// written. If the number of good or bad outputs differs from the journal's, the
// stage logs a warning, counts furrow_enrich_recovery_mismatches_total and appends
// every output of that batch again: at-least-once for that one batch (events may
// repeat, none is lost). If the counts match but events swapped classes it cannot
// tell, and such an event may then be in both streams or in neither.
//
// A narrower limit: the prefix argument needs the durable appends of the killed
// attempt to be a prefix even when the stream refused some. The file log can refuse
// an append (budget or queue full) and accept a later one of the same attempt when
// retention frees space in between; a kill -9 after that and before the attempt's
// outcome is journaled (milliseconds) can then make the count point at the wrong
// outputs. Without a kill in that window the journal is exact.
//
// Metrics (labels never carry event data):
//   furrow_enrich_records_total              raw-good records read
//   furrow_enrich_events_total{result}       outputs: good, bad
//   furrow_enrich_bad_rows_total{type}       bad rows by badrows type
//   furrow_enrich_step_nanoseconds_total{step} time in adapter, mapping and each enrichment
//   furrow_enrich_batches_retried_total      attempts redone after an append failed
//   furrow_enrich_recovery_mismatches_total  journaled batches re-enriched into other counts
//
// Errors (Run): an empty journal_dir (kInvalidArgument); opening the streams; an
// output stream without EndOffset() (e.g. kUnimplemented); an unreadable or corrupt
// journal (kDataLoss: the stage does not guess); raw-good ending before a journaled
// batch (kDataLoss); a Poll/Commit failure of the input stream. A failed append or
// journal write is not an error: the attempt is retried.
//
// Thread safety: Run() is called once, from one thread; `stop` may be set from
// any thread. The provider, enricher and metrics must outlive the stage.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "enrich/enrich_journal.h"
#include "enrich/enricher.h"
#include "stream/stream.h"

namespace furrow::enrich {

struct EnrichStageOptions {
  std::string input_stream = stream::kRawGood;     // default raw-good
  std::string good_stream = stream::kEnrichedGood;  // default enriched-good
  std::string bad_stream = stream::kEnrichedBad;    // default enriched-bad
  std::string reader = "enrich";                    // consumer name on the input
  // Directory of the journal <reader>.journal; created if missing. Required (no
  // default): DATA_DIR/enrich in the commands.
  std::string journal_dir;
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
  ~EnrichStage();

  // Recovers a journaled batch (see above), then runs until `stop` becomes true (or
  // the input is idle with exit_when_idle).
  [[nodiscard]] Status Run(const std::atomic<bool>& stop);

 private:
  // One output stream's records of a batch, in input order.
  struct Outputs {
    std::vector<std::string> records;
    std::vector<bool> done;  // durable already
  };
  struct Plan {
    stream::Position end;  // the batch's end on the input
    Outputs good;
    Outputs bad;
  };
  struct Counters;

  EnrichOutput ProcessBatch(const stream::Batch& batch, std::vector<EnrichOutput>* per_record);
  // Lists the outputs of `per_record` per stream (moving the records out).
  void PlanOutputs(std::vector<EnrichOutput>* per_record, Plan* plan) const;
  std::string FitRecord(std::string record, size_t limit) const;
  // Journals `plan` with the output streams' current end offsets.
  Status WriteJournal(const Plan& plan);
  // Journals, appends what is not done and marks what became durable.
  Status Attempt(Plan* plan);
  // Attempts until every output is durable, then commits and deletes the journal.
  // Returns OK with *committed false if `stop` was set while backing off.
  Status Deliver(Plan* plan, const std::atomic<bool>& stop, bool* committed);
  // Finishes the batch of a journal left by an earlier run, if any.
  Status Recover(const std::atomic<bool>& stop);
  // The records before `end` from the committed position; *stale when the batch
  // was committed already.
  Result<stream::Batch> ReadJournaledBatch(const stream::Position& end, bool* stale);
  // Marks in `plan` what the journal and the streams' ends say is durable.
  Status ApplyJournal(const EnrichJournal& journal, Plan* plan);
  void Count(const stream::Batch& batch, const std::vector<EnrichOutput>& per_record,
             const EnrichOutput& timing);

  stream::StreamProvider* streams_;
  const Enricher* enricher_;
  MetricsRegistry* metrics_;
  EnrichStageOptions options_;
  std::string journal_path_;
  std::unique_ptr<Counters> counters_;
  // Set by Run.
  std::unique_ptr<stream::Consumer> consumer_;
  stream::Producer* good_ = nullptr;
  stream::Producer* bad_ = nullptr;
};

}  // namespace furrow::enrich
