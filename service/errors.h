// The one place that turns errors into HTTP answers (issue #5, STYLE.md
// "Errors"): every error response of the service, whatever produced it (a
// governed call's Status, httplib itself for an unknown route or a body over
// the limit, an escaped exception), has the status chosen here and the body
//   {"error_code": "<CODE>", "message": "<facts>"}
// where CODE is StatusCodeName() of the Status ("PERMISSION_DENIED", ...)
// or, for errors that have no Status, one of the codes named below.
//
// Status -> HTTP:
//   INVALID_ARGUMENT 400, FAILED_PRECONDITION 400 (Databricks answers its
//   precondition failures with 400 too, so clients ported from Mosaic treat
//   them alike), UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404,
//   ALREADY_EXISTS 409, ABORTED 409 (version conflict: retry),
//   RESOURCE_EXHAUSTED 429, UNAVAILABLE 503, INTERNAL / DATA_LOSS 500.
//   (A body over the size limit is 413 RESOURCE_EXHAUSTED: ErrorForHttpStatus.)
//   One exception: the request's own time limit (Call::CheckDeadline, a
//   RESOURCE_EXHAUSTED status whose message starts with
//   kRequestTimeLimitPrefix) is 503 with error_code "DEADLINE_EXCEEDED":
//   it is the server's limit, not the client's rate (429 would tell the
//   client to slow down), and 503 is what clients retry; the code says
//   why. (Until common/status.h has a DEADLINE_EXCEEDED code of its own.)
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace vesta::service {

struct HttpError {
  int http_status = 500;
  std::string error_code;  // e.g. "NOT_FOUND"
  std::string message;
};

// The start of the message of Call::CheckDeadline's status.
inline constexpr std::string_view kRequestTimeLimitPrefix = "request time limit of ";

// The HTTP status for a non-OK code (OK: 200).
int HttpStatusFor(StatusCode code);

// The HTTP error for a non-OK `status`: HttpStatusFor(code), error_code
// StatusCodeName(code), the status's message. INTERNAL and DATA_LOSS keep
// their message (it names the broken invariant, not user data).
HttpError ErrorFromStatus(const Status& status);

// The error for a response httplib produced without a handler (or a handler
// that set only a status): 404 NOT_FOUND ("no route <METHOD> <path>"),
// 413 RESOURCE_EXHAUSTED ("request body exceeds <limit> bytes"),
// 400 INVALID_ARGUMENT ("malformed request ...": httplib answers 400 for a
// request head it cannot parse, e.g. a header line over 8192 bytes), 414
// INVALID_ARGUMENT (URI too long), 415 UNSUPPORTED_MEDIA_TYPE, 431
// RESOURCE_EXHAUSTED (header fields too many or too large), 503
// UNAVAILABLE, anything else >= 500 INTERNAL, other 4xx INVALID_ARGUMENT. `method` and `path` are the request's.
HttpError ErrorForHttpStatus(int http_status, std::string_view method, std::string_view path,
                             size_t max_body_bytes);

// The JSON body {"error_code": ..., "message": ...} (valid UTF-8 guaranteed:
// invalid bytes in the message are replaced).
std::string ErrorBody(const HttpError& error);

// For routes that take a body: a request with a non-empty body must say
// Content-Type application/json (parameters such as "; charset=utf-8" are
// allowed; case-insensitive). Returns nullopt when acceptable, else 415
// UNSUPPORTED_MEDIA_TYPE naming the type received. An empty body is
// acceptable whatever the type (GET routes ignore it).
std::optional<HttpError> CheckJsonBody(std::string_view content_type, size_t body_size);

}  // namespace vesta::service
