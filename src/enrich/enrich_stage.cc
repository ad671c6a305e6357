#include "enrich/enrich_stage.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/logging.h"

namespace furrow::enrich {

EnrichStage::EnrichStage(stream::StreamProvider* streams, const Enricher* enricher,
                         MetricsRegistry* metrics, EnrichStageOptions options)
    : streams_(streams), enricher_(enricher), metrics_(metrics), options_(std::move(options)) {
  if (options_.workers == 0) options_.workers = 1;
  if (options_.clock == nullptr) options_.clock = &SystemClock::Instance();
}

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

Status EnrichStage::WriteOutputs(const std::vector<EnrichOutput>& per_record,
                                 stream::Producer* good, stream::Producer* bad) {
  struct Tracker {
    std::mutex mu;
    Status first_error;
  };
  auto tracker = std::make_shared<Tracker>();
  auto done = [tracker](const Status& s) {
    if (s.ok()) return;
    std::lock_guard<std::mutex> lock(tracker->mu);
    if (tracker->first_error.ok()) tracker->first_error = s;
  };
  for (const EnrichOutput& out : per_record) {
    for (const std::string& line : out.good) {
      if (line.size() <= good->max_record_bytes()) {
        good->Append(line, done);
      } else {
        // Too large for enriched-good: the event goes to enriched-bad instead.
        bad->Append(FitRecord(line, good->max_record_bytes()), done);
      }
    }
    for (const BadRow& row : out.bad) {
      bad->Append(FitRecord(row.json, bad->max_record_bytes()), done);
    }
  }
  Status g = good->Flush();
  Status b = bad->Flush();
  std::lock_guard<std::mutex> lock(tracker->mu);
  if (!tracker->first_error.ok()) return tracker->first_error;
  if (!g.ok()) return g;
  return b;
}

Status EnrichStage::Run(const std::atomic<bool>& stop) {
  FURROW_ASSIGN_OR_RETURN(auto consumer, streams_->OpenConsumer(options_.input_stream, options_.reader));
  FURROW_ASSIGN_OR_RETURN(stream::Producer* good, streams_->GetProducer(options_.good_stream));
  FURROW_ASSIGN_OR_RETURN(stream::Producer* bad, streams_->GetProducer(options_.bad_stream));

  Counter& records = metrics_->GetCounter("furrow_enrich_records_total", "raw-good records read");
  Counter& good_events = metrics_->GetCounter("furrow_enrich_events_total",
                                              "enrich outputs by result", {{"result", "good"}});
  Counter& bad_events = metrics_->GetCounter("furrow_enrich_events_total",
                                             "enrich outputs by result", {{"result", "bad"}});
  Counter& retried = metrics_->GetCounter("furrow_enrich_batches_retried_total",
                                          "batches redone after an output append failed");
  std::vector<Counter*> bad_by_kind;
  for (BadRowKind kind : {BadRowKind::kNone, BadRowKind::kCollectorPayloadFormatViolation,
                          BadRowKind::kAdapterFailures, BadRowKind::kTrackerProtocolViolations,
                          BadRowKind::kSchemaViolations, BadRowKind::kEnrichmentFailures}) {
    bad_by_kind.push_back(&metrics_->GetCounter("furrow_enrich_bad_rows_total", "bad rows by type",
                                                {{"type", std::string(BadRowKindName(kind))}}));
  }
  std::vector<Counter*> step_ns;
  for (const std::string& step : enricher_->StepNames()) {
    step_ns.push_back(&metrics_->GetCounter("furrow_enrich_step_nanoseconds_total",
                                            "time spent per enrich step", {{"step", step}}));
  }

  std::vector<EnrichOutput> per_record;
  while (!stop.load()) {
    FURROW_ASSIGN_OR_RETURN(stream::Batch batch,
                            consumer->Poll(options_.max_batch_records, options_.max_batch_bytes,
                                           options_.poll_wait));
    if (batch.records.empty()) {
      if (options_.exit_when_idle) break;
      continue;
    }
    EnrichOutput timing = ProcessBatch(batch, &per_record);
    Status written = WriteOutputs(per_record, good, bad);
    if (!written.ok()) {
      retried.Inc();
      log::Warn("enrich output append failed; retrying batch", {{"error", written.ToString()}});
      FURROW_RETURN_IF_ERROR(consumer->Rewind());
      // Back off in small steps so that a stop request is honoured promptly.
      auto deadline = std::chrono::steady_clock::now() + options_.retry_backoff;
      while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    FURROW_RETURN_IF_ERROR(consumer->Commit(batch.end));
    records.Inc(batch.records.size());
    for (const EnrichOutput& out : per_record) {
      good_events.Inc(out.good.size());
      bad_events.Inc(out.bad.size());
      for (const BadRow& row : out.bad) bad_by_kind[static_cast<size_t>(row.kind)]->Inc();
    }
    for (size_t i = 0; i < timing.step_ns.size() && i < step_ns.size(); ++i) {
      step_ns[i]->Inc(timing.step_ns[i]);
    }
  }
  FURROW_RETURN_IF_ERROR(good->Flush());
  return bad->Flush();
}

}  // namespace furrow::enrich
