#include "service/openapi_spec.h"

#include <cstddef>

namespace vesta::service {

namespace internal {
// Defined in the generated openapi_spec_data.cc (service/CMakeLists.txt):
// the bytes of service/openapi.json, then a NUL not counted in the size.
extern const unsigned char kOpenApiJson[];
extern const std::size_t kOpenApiJsonSize;
}  // namespace internal

std::string_view OpenApiSpec() {
  return {reinterpret_cast<const char*>(internal::kOpenApiJson), internal::kOpenApiJsonSize};
}

}  // namespace vesta::service
