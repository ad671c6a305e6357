// Status and Result<T>: errors as values.
//
// Every call on the per-event data path returns a Status or a Result<T> instead of
// throwing. A Status is either OK or carries a code and a human-readable message;
// a Result<T> holds either a T or a non-OK Status. Both are [[nodiscard]].
//
// Use the most specific code:
//   kInvalidArgument    the input is malformed (a bad request, a bad line)
//   kNotFound           a named thing does not exist
//   kResourceExhausted  a configured bound is reached (stream budget full, queue full)
//   kUnavailable        a dependency cannot be reached now; retrying may help
//   kDeadlineExceeded   a timeout expired
//   kDataLoss           stored data is corrupt (CRC mismatch, torn record)
//   kIoError            the operating system refused an I/O operation
//   kFailedPrecondition the system is not in a state that allows the call
//   kPermissionDenied   credentials or file modes forbid the call
//   kAlreadyExists      creating something that is already there
//   kOutOfRange         reading past the end
//   kInternal           an invariant was broken (a bug)
//
// Example:
//   Result<Record> ReadRecord(...);
//   FURROW_ASSIGN_OR_RETURN(Record r, ReadRecord(...));
//   FURROW_RETURN_IF_ERROR(writer.Append(r));
//
// Status and Result are values: copy and move freely; not synchronised.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace furrow {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kDataLoss,
  kIoError,
  kFailedPrecondition,
  kPermissionDenied,
  kOutOfRange,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed by `context: `.
  Status WithContext(std::string_view context) const;

  // Explicitly discards a status whose failure is acceptable at the call site.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status DataLossError(std::string message);
Status IoError(std::string message);
// An IoError whose message ends with strerror(errno_value).
Status ErrnoError(std::string_view what, int errno_value);
Status FailedPreconditionError(std::string message);
Status PermissionDeniedError(std::string message);
Status OutOfRangeError(std::string message);
Status InternalError(std::string message);

// Holds a T or a non-OK Status. Constructing a Result from an OK Status is a bug
// (it becomes kInternal).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                       // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? InternalError("Result constructed from OK status") : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace furrow

#define FURROW_STATUS_CONCAT_INNER(a, b) a##b
#define FURROW_STATUS_CONCAT(a, b) FURROW_STATUS_CONCAT_INNER(a, b)

#define FURROW_RETURN_IF_ERROR(expr)                  \
  do {                                                \
    ::furrow::Status furrow_status_ = (expr);         \
    if (!furrow_status_.ok()) return furrow_status_;  \
  } while (0)

#define FURROW_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define FURROW_ASSIGN_OR_RETURN(lhs, expr) \
  FURROW_ASSIGN_OR_RETURN_IMPL(FURROW_STATUS_CONCAT(furrow_result_, __LINE__), lhs, expr)
