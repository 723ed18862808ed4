#include "service/errors.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

namespace vesta::service {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kFailedPrecondition: return 400;  // as Databricks: see errors.h
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kAborted: return 409;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
    case StatusCode::kDataLoss: return 500;
  }
  return 500;
}

HttpError ErrorFromStatus(const Status& status) {
  if (status.code() == StatusCode::kResourceExhausted && status.message().rfind(kRequestTimeLimitPrefix, 0) == 0) {
    return {503, "DEADLINE_EXCEEDED", status.message()};
  }
  return {HttpStatusFor(status.code()), std::string(StatusCodeName(status.code())), status.message()};
}

HttpError ErrorForHttpStatus(int http_status, std::string_view method, std::string_view path,
                             size_t max_body_bytes) {
  const std::string where = std::string(method) + " " + std::string(path);
  switch (http_status) {
    case 404: return {404, "NOT_FOUND", "no route " + where};
    case 413:
      return {413, "RESOURCE_EXHAUSTED",
              "request body exceeds the limit of " + std::to_string(max_body_bytes) + " bytes"};
    case 400:
      return {400, "INVALID_ARGUMENT",
              "malformed request " + where + " (a header line over 8192 bytes, or not valid HTTP/1.1)"};
    case 414: return {414, "INVALID_ARGUMENT", "request URI too long"};
    case 415: return {415, "UNSUPPORTED_MEDIA_TYPE", "request body must be application/json"};
    case 431: return {431, "RESOURCE_EXHAUSTED", "request header fields too many or too large"};
    case 503: return {503, "UNAVAILABLE", "service unavailable"};
    default: break;
  }
  if (http_status >= 500) return {http_status, "INTERNAL", "internal error"};
  return {http_status, "INVALID_ARGUMENT", "bad request: " + where};
}

std::string ErrorBody(const HttpError& error) {
  nlohmann::json j = {{"error_code", error.error_code}, {"message", error.message}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<HttpError> CheckJsonBody(std::string_view content_type, size_t body_size) {
  if (body_size == 0) return std::nullopt;
  std::string type(content_type.substr(0, content_type.find(';')));
  type.erase(std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }), type.end());
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return std::tolower(c); });
  if (type == "application/json") return std::nullopt;
  return HttpError{415, "UNSUPPORTED_MEDIA_TYPE",
                   "request body must be application/json, got " +
                       (content_type.empty() ? std::string("no Content-Type") : "'" + std::string(content_type) + "'")};
}

}  // namespace vesta::service
