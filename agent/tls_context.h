#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

// OpenSSL and Asio's SSL layer stay inside tls_context.cc and
// http_server.cc; users of this header see only these opaque names.
namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace podagent::agent {

// ---- Certificates ----

struct CertificatePaths {
  std::filesystem::path cert;  // PEM certificate (chain)
  std::filesystem::path key;   // PEM private key
  bool operator==(const CertificatePaths&) const = default;
};

// What a new certificate says and who signs it. The key is ECDSA P-256,
// the signature SHA-256.
struct CertificateRequest {
  std::string common_name;
  std::vector<std::string> organizations;  // subject O=, one each (client roles)
  // subjectAltName entries: an IPv4/IPv6 literal becomes an IP entry,
  // anything else a DNS entry.
  std::vector<std::string> alt_names;
  bool is_ca = false;        // basicConstraints CA:TRUE and keyCertSign
  bool server_auth = false;  // extendedKeyUsage serverAuth
  bool client_auth = false;  // extendedKeyUsage clientAuth
  std::chrono::hours validity{24 * 365};
  // The issuer's certificate and key; unset: self-signed.
  std::optional<CertificatePaths> signer;
};

// Generates a key pair and a certificate and writes them as PEM to `out`
// (the key with mode 0600, the certificate 0644), each through a temporary
// file renamed into place. The validity starts five minutes before the
// system's wall time (certificates are checked by other machines against
// theirs, so the injected Clock has no say here) to tolerate clock skew.
base::Status generate_certificate(const CertificateRequest& request, const CertificatePaths& out);

// The serving certificate of the TCP listener. When both `cert_path` and
// `key_path` are given (the config's api.tcp.tlsCertFile/tlsKeyFile), they
// are checked to be readable and to match, and returned. When neither is
// given, <state_dir>/pki/podagent.crt and podagent.key are used: generated
// on first start as a self-signed ECDSA P-256 pair valid for one year, with
// the SANs localhost, 127.0.0.1, ::1 and `node_name`, and reused on later
// starts as long as they load, match, have not expired and still name
// `node_name` (else they are generated again). One of the two given alone is
// an error. Blocking file I/O; call it before serving.
base::Result<CertificatePaths> ensure_serving_cert(const std::filesystem::path& state_dir,
                                                   std::string_view node_name,
                                                   const std::string& cert_path,
                                                   const std::string& key_path);

// ---- The server's TLS context ----

struct TlsServerOptions {
  CertificatePaths serving;
  // PEM bundle of the CAs whose client certificates are accepted; empty:
  // clients are not asked for a certificate. With a CA, a client may still
  // come without a certificate (and authenticate by token), but one that
  // presents a certificate the CA did not sign fails the handshake.
  std::string client_ca_file;
};

// The subject of a client certificate that passed verification.
struct ClientCertificate {
  std::string common_name;                 // CN: the user
  std::vector<std::string> organizations;  // O: the groups
  bool operator==(const ClientCertificate&) const = default;
};

// An OpenSSL server context: TLS 1.2 and newer only, the serving pair
// loaded, client certificates verified against the configured CA. Shared by
// every connection of a listener; immutable once made.
class TlsContext {
 public:
  static base::Result<std::shared_ptr<TlsContext>> make_server(const TlsServerOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  boost::asio::ssl::context& native() { return *context_; }
  bool verifies_clients() const { return verifies_clients_; }

 private:
  TlsContext();
  std::unique_ptr<boost::asio::ssl::context> context_;
  bool verifies_clients_ = false;
};

// The verified client certificate of an established TLS connection, or
// nullopt when the client presented none (or it did not verify).
std::optional<ClientCertificate> verified_client_certificate(ssl_st* ssl);

// SHA-256 of `data` (tokens are compared as digests, in constant time).
std::array<uint8_t, 32> sha256(std::string_view data);

}  // namespace podagent::agent
