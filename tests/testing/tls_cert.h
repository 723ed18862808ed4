// A self-signed TLS certificate for tests (the OpenSSL C API, so CI needs
// no openssl binary).
#pragma once

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <string>

namespace vesta::testing {

// A self-signed certificate for 127.0.0.1 and its key (EC P-256), written
// as PEM to `cert_path` and `key_path`.
inline void WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  ASSERT_NE(key, nullptr);
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600 * 24);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  ASSERT_GT(X509_sign(x, key, EVP_sha256()), 0);
  FILE* cf = std::fopen(cert_path.c_str(), "wb");
  ASSERT_NE(cf, nullptr);
  PEM_write_X509(cf, x);
  std::fclose(cf);
  FILE* kf = std::fopen(key_path.c_str(), "wb");
  ASSERT_NE(kf, nullptr);
  PEM_write_PrivateKey(kf, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(kf);
  X509_free(x);
  EVP_PKEY_free(key);
}

}  // namespace vesta::testing
