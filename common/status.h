// Status and Result<T>: how every Vesta module reports errors across its
// boundary (LevelDB/abseil style). Exceptions from dependencies are caught in
// the adapter that owns the dependency and turned into a Status.
//
// Thread-safety: Status and Result are value types; distinct objects may be
// used from distinct threads, a shared one only for reading.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vesta {

// The short code set of STYLE.md. service/ maps each to one HTTP status.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input: names the field and the expected value
  kNotFound,            // no such securable / row / version
  kAlreadyExists,       // create of something that exists; duplicate key
  kPermissionDenied,    // authenticated, but not allowed
  kUnauthenticated,     // no or invalid credentials
  kFailedPrecondition,  // the system is not in the state the call needs
  kAborted,             // version conflict with a concurrent commit: retry
  kResourceExhausted,   // a limit was hit (size, count, time)
  kUnavailable,         // transient; retry later
  kInternal,            // a bug or a broken invariant (corrupt store)
  kDataLoss,            // stored data was lost or tampered with (a broken audit chain)
};

// Returns the upper-snake name of `code`, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsAlreadyExists() const { return code_ == StatusCode::kAlreadyExists; }
  bool IsAborted() const { return code_ == StatusCode::kAborted; }
  bool IsFailedPrecondition() const { return code_ == StatusCode::kFailedPrecondition; }

  // "INVALID_ARGUMENT: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>"; OK stays OK.
  Status WithContext(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds either a T or a non-OK Status. Accessing value() of an error is a
// programmer error (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result constructed from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vesta

#define VESTA_CONCAT_INNER_(a, b) a##b
#define VESTA_CONCAT_(a, b) VESTA_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define VESTA_RETURN_IF_ERROR(expr)                 \
  do {                                              \
    ::vesta::Status _vesta_st = (expr);             \
    if (!_vesta_st.ok()) return _vesta_st;          \
  } while (0)

// `VESTA_ASSIGN_OR_RETURN(auto x, F());` declares x from a Result or returns
// its Status.
#define VESTA_ASSIGN_OR_RETURN(lhs, rexpr) \
  VESTA_ASSIGN_OR_RETURN_IMPL_(VESTA_CONCAT_(_vesta_r_, __LINE__), lhs, rexpr)
#define VESTA_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
