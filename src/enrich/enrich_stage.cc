#include "enrich/enrich_stage.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/durable_file.h"
#include "core/logging.h"

namespace furrow::enrich {
namespace {

// Empty polls tolerated while reading a journaled batch again before giving up.
constexpr int kRecoverMaxEmptyPolls = 50;

// The offset in `position` for `partition`; nullopt if it has none.
std::optional<uint64_t> OffsetOf(const stream::Position& position, int32_t partition) {
  for (const auto& [p, offset] : position.next_offsets) {
    if (p == partition) return offset;
  }
  return std::nullopt;
}

bool AllDone(const std::vector<bool>& done) {
  return std::all_of(done.begin(), done.end(), [](bool d) { return d; });
}

}  // namespace

struct EnrichStage::Counters {
  Counter* records;
  Counter* good_events;
  Counter* bad_events;
  Counter* retried;
  Counter* mismatches;
  std::vector<Counter*> bad_by_kind;
  std::vector<Counter*> step_ns;
};

EnrichStage::EnrichStage(stream::StreamProvider* streams, const Enricher* enricher,
                         MetricsRegistry* metrics, EnrichStageOptions options)
    : streams_(streams),
      enricher_(enricher),
      metrics_(metrics),
      options_(std::move(options)),
      counters_(std::make_unique<Counters>()) {
  if (options_.workers == 0) options_.workers = 1;
  if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
  if (!options_.journal_dir.empty()) {
    journal_path_ = options_.journal_dir + "/" + options_.reader + ".journal";
  }
  Counters& c = *counters_;
  c.records = &metrics_->GetCounter("furrow_enrich_records_total", "raw-good records read");
  c.good_events = &metrics_->GetCounter("furrow_enrich_events_total", "enrich outputs by result",
                                        {{"result", "good"}});
  c.bad_events = &metrics_->GetCounter("furrow_enrich_events_total", "enrich outputs by result",
                                       {{"result", "bad"}});
  c.retried = &metrics_->GetCounter("furrow_enrich_batches_retried_total",
                                    "attempts redone after an output append failed");
  c.mismatches = &metrics_->GetCounter(
      "furrow_enrich_recovery_mismatches_total",
      "journaled batches whose re-enrichment gave other output counts (redone at-least-once)");
  for (BadRowKind kind : {BadRowKind::kNone, BadRowKind::kCollectorPayloadFormatViolation,
                          BadRowKind::kAdapterFailures, BadRowKind::kTrackerProtocolViolations,
                          BadRowKind::kSchemaViolations, BadRowKind::kEnrichmentFailures}) {
    c.bad_by_kind.push_back(&metrics_->GetCounter("furrow_enrich_bad_rows_total", "bad rows by type",
                                                  {{"type", std::string(BadRowKindName(kind))}}));
  }
  for (const std::string& step : enricher_->StepNames()) {
    c.step_ns.push_back(&metrics_->GetCounter("furrow_enrich_step_nanoseconds_total",
                                              "time spent per enrich step", {{"step", step}}));
  }
}

EnrichStage::~EnrichStage() = default;

EnrichOutput EnrichStage::ProcessBatch(const stream::Batch& batch,
                                       std::vector<EnrichOutput>* per_record) {
  per_record->clear();
  per_record->resize(batch.records.size());
  size_t workers = std::min(options_.workers, std::max<size_t>(1, batch.records.size()));
  std::vector<EnrichOutput> timing(workers);
  auto work = [&](size_t w) {
    for (size_t i = w; i < batch.records.size(); i += workers) {
      EnrichOutput& out = (*per_record)[i];
      out.step_ns.swap(timing[w].step_ns);
      enricher_->ProcessRecord(batch.records[i].payload, &out);
      out.step_ns.swap(timing[w].step_ns);
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  EnrichOutput total;
  for (auto& t : timing) {
    if (total.step_ns.size() < t.step_ns.size()) total.step_ns.resize(t.step_ns.size());
    for (size_t i = 0; i < t.step_ns.size(); ++i) total.step_ns[i] += t.step_ns[i];
  }
  return total;
}

std::string EnrichStage::FitRecord(std::string record, size_t limit) const {
  if (record.size() <= limit) return record;
  std::string_view truncated = badrows::TruncateUtf8(record, limit / 10);
  return badrows::SizeViolation(badrows::Processor::Furrow(), options_.clock->NowMillis(), limit,
                                record.size(),
                                "enriched output must fit the stream's maximum record size",
                                truncated);
}


void EnrichStage::PlanOutputs(std::vector<EnrichOutput>* per_record, Plan* plan) const {
  plan->good.records.clear();
  plan->bad.records.clear();
  for (EnrichOutput& out : *per_record) {
    for (std::string& line : out.good) {
      if (line.size() <= good_->max_record_bytes()) {
        plan->good.records.push_back(std::move(line));
      } else {
        // Too large for enriched-good: the event goes to enriched-bad instead.
        plan->bad.records.push_back(FitRecord(std::move(line), good_->max_record_bytes()));
      }
    }
    for (BadRow& row : out.bad) {
      plan->bad.records.push_back(FitRecord(std::move(row.json), bad_->max_record_bytes()));
    }
  }
  plan->good.done.assign(plan->good.records.size(), false);
  plan->bad.done.assign(plan->bad.records.size(), false);
}

Status EnrichStage::WriteJournal(const Plan& plan) {
  EnrichJournal journal;
  journal.input_end = plan.end;
  FURROW_ASSIGN_OR_RETURN(journal.good.start, good_->EndOffset());
  FURROW_ASSIGN_OR_RETURN(journal.bad.start, bad_->EndOffset());
  journal.good.done = plan.good.done;
  journal.bad.done = plan.bad.done;
  return WriteEnrichJournal(journal_path_, journal);
}

Status EnrichStage::Attempt(Plan* plan) {
  FURROW_RETURN_IF_ERROR(WriteJournal(*plan));

  // Which appends became durable, filled in by the callbacks (on the streams' threads).
  struct Tracker {
    std::mutex mu;
    Status first_error;
    std::vector<bool> durable[2];
  };
  auto tracker = std::make_shared<Tracker>();
  Outputs* outputs[2] = {&plan->good, &plan->bad};
  stream::Producer* producers[2] = {good_, bad_};
  for (int s = 0; s < 2; ++s) {
    tracker->durable[s].assign(outputs[s]->records.size(), false);
    for (size_t i = 0; i < outputs[s]->records.size(); ++i) {
      if (outputs[s]->done[i]) continue;
      producers[s]->Append(outputs[s]->records[i], [tracker, s, i](const Status& status) {
        std::lock_guard<std::mutex> lock(tracker->mu);
        if (status.ok()) {
          tracker->durable[s][i] = true;
        } else if (tracker->first_error.ok()) {
          tracker->first_error = status;
        }
      });
    }
  }
  Status flushed[2] = {good_->Flush(), bad_->Flush()};
  std::lock_guard<std::mutex> lock(tracker->mu);
  for (int s = 0; s < 2; ++s) {
    for (size_t i = 0; i < outputs[s]->done.size(); ++i) {
      if (tracker->durable[s][i]) outputs[s]->done[i] = true;
    }
  }
  if (!tracker->first_error.ok()) return tracker->first_error;
  if (!flushed[0].ok()) return flushed[0];
  return flushed[1];
}

Status EnrichStage::Deliver(Plan* plan, const std::atomic<bool>& stop, bool* committed) {
  *committed = false;
  while (!AllDone(plan->good.done) || !AllDone(plan->bad.done)) {
    Status attempt = Attempt(plan);
    if (attempt.ok()) continue;
    counters_->retried->Inc();
    log::Warn("enrich output append failed; retrying the outputs that are not durable",
              {{"error", attempt.ToString()}});
    // The callbacks said exactly which appends are durable, which need not be a
    // prefix (a refusal can precede an acceptance): journal that now, so that a stop
    // or a kill while backing off does not leave the next run to count.
    Status journaled = WriteJournal(*plan);
    if (!journaled.ok()) {
      log::Warn("cannot journal the durable outputs", {{"error", journaled.ToString()}});
    }
    // Back off in small steps so that a stop request is honoured promptly. Stopping
    // here leaves the journal: the next run finishes the batch.
    auto deadline = std::chrono::steady_clock::now() + options_.retry_backoff;
    while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (stop.load()) return Status::Ok();
  }
  FURROW_RETURN_IF_ERROR(consumer_->Commit(plan->end));
  *committed = true;
  // A journal that outlives the commit (a crash right here) is recognised as stale.
  std::error_code ec;
  std::filesystem::remove(journal_path_, ec);
  if (ec) log::Warn("cannot remove the enrich journal", {{"error", ec.message()}});
  return Status::Ok();
}

Result<stream::Batch> EnrichStage::ReadJournaledBatch(const stream::Position& end, bool* stale) {
  *stale = false;
  stream::Batch batch;
  batch.end = end;
  auto reached = [&end](const stream::Position& polled) {
    for (const auto& [partition, offset] : end.next_offsets) {
      if (OffsetOf(polled, partition).value_or(0) < offset) return false;
    }
    return true;
  };
  int empty_polls = 0;
  while (true) {
    FURROW_ASSIGN_OR_RETURN(stream::Batch polled,
                            consumer_->Poll(options_.max_batch_records, options_.max_batch_bytes,
                                            options_.poll_wait));
    if (polled.records.empty()) {
      FURROW_ASSIGN_OR_RETURN(uint64_t lag, consumer_->Lag());
      if (lag == 0 && batch.records.empty()) {
        *stale = true;  // nothing uncommitted: the journaled batch was committed
        return batch;
      }
      if (++empty_polls > kRecoverMaxEmptyPolls) {
        return DataLossError(options_.input_stream + " ends before the journaled batch");
      }
      continue;
    }
    empty_polls = 0;
    for (stream::Record& record : polled.records) {
      if (record.offset < OffsetOf(end, record.partition).value_or(0)) {
        batch.records.push_back(std::move(record));
      } else if (batch.records.empty()) {
        *stale = true;  // the first uncommitted record is past the journaled batch
        return batch;
      }
    }
    if (reached(polled.end)) return batch;
  }
}

Status EnrichStage::ApplyJournal(const EnrichJournal& journal, Plan* plan) {
  const OutputJournal* journaled[2] = {&journal.good, &journal.bad};
  Outputs* outputs[2] = {&plan->good, &plan->bad};
  stream::Producer* producers[2] = {good_, bad_};
  const std::string names[2] = {options_.good_stream, options_.bad_stream};
  if (outputs[0]->records.size() != journaled[0]->done.size() ||
      outputs[1]->records.size() != journaled[1]->done.size()) {
    counters_->mismatches->Inc();
    log::Warn("a journaled batch enriched again gave other output counts (the configuration "
              "or the reachable schemas changed?); appending all of its outputs again",
              {{"journaled_good", journaled[0]->done.size()},
               {"journaled_bad", journaled[1]->done.size()},
               {"good", outputs[0]->records.size()},
               {"bad", outputs[1]->records.size()}});
    return Status::Ok();
  }
  uint64_t skipped[2] = {0, 0};
  for (int s = 0; s < 2; ++s) {
    FURROW_ASSIGN_OR_RETURN(uint64_t end, producers[s]->EndOffset());
    if (end < journaled[s]->start) {
      return DataLossError(names[s] + " ends at " + std::to_string(end) +
                           ", before the journaled offset " + std::to_string(journaled[s]->start));
    }
    // The killed attempt's durable appends: a prefix of the outputs it appended.
    uint64_t durable = end - journaled[s]->start;
    std::vector<bool>& done = outputs[s]->done;
    done = journaled[s]->done;
    for (size_t i = 0; i < done.size(); ++i) {
      if (done[i]) {
        ++skipped[s];
      } else if (durable > 0) {
        done[i] = true;
        --durable;
        ++skipped[s];
      }
    }
    if (durable > 0) {
      return DataLossError(names[s] + " holds " + std::to_string(durable) +
                           " more records than the journaled batch appended (another writer?)");
    }
  }
  log::Info("finishing a journaled enrich batch",
            {{"good_durable", skipped[0]},
             {"good", outputs[0]->records.size()},
             {"bad_durable", skipped[1]},
             {"bad", outputs[1]->records.size()}});
  return Status::Ok();
}

Status EnrichStage::Recover(const std::atomic<bool>& stop) {
  FURROW_ASSIGN_OR_RETURN(std::optional<EnrichJournal> journal, ReadEnrichJournal(journal_path_));
  if (!journal) return Status::Ok();
  bool stale = false;
  FURROW_ASSIGN_OR_RETURN(stream::Batch batch, ReadJournaledBatch(journal->input_end, &stale));
  if (stale) {
    std::error_code ec;
    std::filesystem::remove(journal_path_, ec);
  } else {
    std::vector<EnrichOutput> per_record;
    EnrichOutput timing = ProcessBatch(batch, &per_record);
    Plan plan;
    plan.end = journal->input_end;
    PlanOutputs(&per_record, &plan);
    FURROW_RETURN_IF_ERROR(ApplyJournal(*journal, &plan));
    bool committed = false;
    FURROW_RETURN_IF_ERROR(Deliver(&plan, stop, &committed));
    if (committed) Count(batch, per_record, timing);
  }
  // Back to the committed position: records past the batch were polled above.
  return consumer_->Rewind();
}

void EnrichStage::Count(const stream::Batch& batch, const std::vector<EnrichOutput>& per_record,
                        const EnrichOutput& timing) {
  Counters& c = *counters_;
  c.records->Inc(batch.records.size());
  for (const EnrichOutput& out : per_record) {
    c.good_events->Inc(out.good.size());
    c.bad_events->Inc(out.bad.size());
    for (const BadRow& row : out.bad) c.bad_by_kind[static_cast<size_t>(row.kind)]->Inc();
  }
  for (size_t i = 0; i < timing.step_ns.size() && i < c.step_ns.size(); ++i) {
    c.step_ns[i]->Inc(timing.step_ns[i]);
  }
}

Status EnrichStage::Run(const std::atomic<bool>& stop) {
  if (journal_path_.empty()) return InvalidArgumentError("enrich stage: journal_dir is required");
  FURROW_ASSIGN_OR_RETURN(consumer_, streams_->OpenConsumer(options_.input_stream, options_.reader));
  FURROW_ASSIGN_OR_RETURN(good_, streams_->GetProducer(options_.good_stream));
  FURROW_ASSIGN_OR_RETURN(bad_, streams_->GetProducer(options_.bad_stream));
  for (stream::Producer* producer : {good_, bad_}) {
    Result<uint64_t> end = producer->EndOffset();
    if (!end.ok()) return end.status().WithContext("enrich needs the output streams' end offsets");
  }
  FURROW_RETURN_IF_ERROR(CreateDirectories(options_.journal_dir));
  FURROW_RETURN_IF_ERROR(Recover(stop));

  std::vector<EnrichOutput> per_record;
  Plan plan;
  while (!stop.load()) {
    FURROW_ASSIGN_OR_RETURN(stream::Batch batch,
                            consumer_->Poll(options_.max_batch_records, options_.max_batch_bytes,
                                            options_.poll_wait));
    if (batch.records.empty()) {
      if (options_.exit_when_idle) break;
      continue;
    }
    EnrichOutput timing = ProcessBatch(batch, &per_record);
    plan.end = batch.end;
    PlanOutputs(&per_record, &plan);
    bool committed = false;
    FURROW_RETURN_IF_ERROR(Deliver(&plan, stop, &committed));
    if (committed) Count(batch, per_record, timing);
  }
  FURROW_RETURN_IF_ERROR(good_->Flush());
  return bad_->Flush();
}

}  // namespace furrow::enrich
