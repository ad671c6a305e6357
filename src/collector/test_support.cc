#include "collector/test_support.h"

namespace furrow::collector::testing {

void FakeProducer::Append(std::string payload, stream::AppendCallback done) {
  Status result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (payload.size() > max_record_bytes_) {
      result = InvalidArgumentError("record larger than max_record_bytes");
    } else if (!fail_with_.ok()) {
      result = fail_with_;
    } else if (hold_) {
      held_.emplace_back(std::move(payload), std::move(done));
      return;
    } else {
      records_.push_back(std::move(payload));
    }
  }
  done(result);
}

Status FakeProducer::AppendSync(std::string payload) {
  Status out;
  Append(std::move(payload), [&out](const Status& s) { out = s; });
  return out;
}

Status FakeProducer::Flush() {
  Release();
  return Status::Ok();
}

Result<uint64_t> FakeProducer::EndOffset() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<uint64_t>(records_.size());
}

void FakeProducer::FailWith(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_with_ = std::move(status);
}

void FakeProducer::HoldCallbacks(bool hold) {
  std::lock_guard<std::mutex> lock(mu_);
  hold_ = hold;
}

void FakeProducer::Release() {
  std::vector<std::pair<std::string, stream::AppendCallback>> held;
  {
    std::lock_guard<std::mutex> lock(mu_);
    held.swap(held_);
    for (auto& [payload, done] : held) records_.push_back(payload);
  }
  for (auto& [payload, done] : held) done(Status::Ok());
}

std::vector<std::string> FakeProducer::records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_;
}

void CapturingResponder::Send(net::HttpResponse response) {
  std::lock_guard<std::mutex> lock(mu_);
  ++sends_;
  response_ = std::move(response);
}

bool CapturingResponder::sent() const { return sends() > 0; }

int CapturingResponder::sends() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sends_;
}

net::HttpResponse CapturingResponder::response() const {
  std::lock_guard<std::mutex> lock(mu_);
  return response_;
}

std::vector<std::string> CapturingResponder::HeaderValues(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> values;
  for (const auto& [n, v] : response_.headers) {
    if (n == name) values.push_back(v);
  }
  return values;
}

std::optional<std::string> CapturingResponder::Header(const std::string& name) const {
  std::vector<std::string> values = HeaderValues(name);
  if (values.empty()) return std::nullopt;
  return values.front();
}

void CountingRandomSource::Fill(uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(next_.fetch_add(1));
}

}  // namespace furrow::collector::testing
