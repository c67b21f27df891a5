// OpenSSL, through Asio's SSL layer: certificates and the server context.

#include "agent/tls_context.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace podagent::agent {

namespace {

namespace fs = std::filesystem;
namespace ssl = boost::asio::ssl;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// The newest OpenSSL error, for messages; clears the queue.
std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

base::Error ssl_error(std::string_view what) {
  return base::Error(fmt::format("{}: {}", what, openssl_error()));
}

base::Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return base::Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Writes `data` to a temporary file beside `path` with `mode`, fsyncs it and
// renames it over `path`.
base::Status write_file_atomic(const fs::path& path, std::string_view data, mode_t mode) {
  const std::string tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return base::Error(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  bool ok = ::fchmod(fd, mode) == 0;  // the umask does not get a say
  for (size_t done = 0; ok && done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = ok ? errno : saved;
    ::unlink(tmp.c_str());
    return base::Error(fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
  }
  return {};
}

base::Result<X509Ptr> load_cert(const fs::path& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return ssl_error(fmt::format("{} holds no PEM certificate", path.string()));
  return cert;
}

base::Result<KeyPtr> load_key(const fs::path& path) {
  auto text = read_file(path);
  if (!text) return text.error();
  BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return ssl_error(fmt::format("{} holds no PEM private key", path.string()));
  return key;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

bool add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

// Built as values rather than a config string, so that no name can smuggle
// in another entry.
bool add_alt_names(X509* cert, const std::vector<std::string>& names) {
  GENERAL_NAMES* list = sk_GENERAL_NAME_new_null();
  bool ok = list != nullptr;
  for (const auto& n : names) {
    if (!ok) break;
    GENERAL_NAME* g = GENERAL_NAME_new();
    if (ASN1_OCTET_STRING* ip = a2i_IPADDRESS(n.c_str())) {
      GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
    } else {
      ERR_clear_error();
      ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
      ASN1_STRING_set(dns, n.data(), static_cast<int>(n.size()));
      GENERAL_NAME_set0_value(g, GEN_DNS, dns);
    }
    ok = sk_GENERAL_NAME_push(list, g) > 0;
  }
  ok = ok && X509_add1_ext_i2d(cert, NID_subject_alt_name, list, 0, X509V3_ADD_DEFAULT) == 1;
  GENERAL_NAMES_free(list);
  return ok;
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool set_extensions(X509* cert, X509* issuer, const CertificateRequest& r) {
  std::string usage = "critical,digitalSignature";
  if (r.is_ca) usage += ",keyCertSign,cRLSign";
  std::string ext_usage;
  if (r.server_auth) ext_usage = "serverAuth";
  if (r.client_auth) ext_usage += ext_usage.empty() ? "clientAuth" : ",clientAuth";
  bool ok = add_extension(cert, issuer, NID_basic_constraints,
                          r.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            add_extension(cert, issuer, NID_key_usage, usage) &&
            add_extension(cert, issuer, NID_subject_key_identifier, "hash") &&
            add_extension(cert, issuer, NID_authority_key_identifier, "keyid:always");
  if (ok && !ext_usage.empty()) ok = add_extension(cert, issuer, NID_ext_key_usage, ext_usage);
  if (ok && !r.alt_names.empty()) ok = add_alt_names(cert, r.alt_names);
  return ok;
}

bool set_random_serial(X509* cert) {
  BnPtr bn(BN_new());
  return bn && BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
         BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) != nullptr;
}

// The certificate for `key`, signed by `issuer_key` as `issuer` (itself
// when null: self-signed).
base::Result<X509Ptr> build_cert(const CertificateRequest& r, EVP_PKEY* key, X509* issuer,
                                 EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert) return ssl_error("cannot allocate a certificate");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  bool ok = X509_set_version(cert.get(), 2) == 1 && set_random_serial(cert.get());
  for (const auto& o : r.organizations) ok = ok && add_name_entry(subject, "O", o);
  ok = ok && add_name_entry(subject, "CN", r.common_name);
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(cert.get()), -5 * 60) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                       std::chrono::duration_cast<std::chrono::seconds>(r.validity).count()) !=
           nullptr &&
       X509_set_pubkey(cert.get(), key) == 1;
  ok = ok && X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
  ok = ok && set_extensions(cert.get(), issuer ? issuer : cert.get(), r);
  ok = ok && X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0;
  if (!ok) return ssl_error("cannot build the certificate");
  return cert;
}

// Whether the pair at `paths` can be served as is for `node_name`.
bool reusable(const CertificatePaths& paths, std::string_view node_name) {
  auto cert = load_cert(paths.cert);
  auto key = load_key(paths.key);
  if (!cert || !key || X509_check_private_key(cert->get(), key->get()) != 1) return false;
  if (X509_cmp_current_time(X509_get0_notAfter(cert->get())) <= 0) return false;
  const std::string name(node_name);
  const bool named = X509_check_host(cert->get(), name.data(), name.size(), 0, nullptr) == 1 ||
                     X509_check_ip_asc(cert->get(), name.c_str(), 0) == 1;
  ERR_clear_error();
  return named;
}

base::Status check_pair(const CertificatePaths& paths) {
  auto cert = load_cert(paths.cert);
  if (!cert) return cert.error();
  auto key = load_key(paths.key);
  if (!key) return key.error();
  if (X509_check_private_key(cert->get(), key->get()) != 1)
    return ssl_error(fmt::format("the key {} does not belong to the certificate {}",
                                 paths.key.string(), paths.cert.string()));
  return {};
}

}  // namespace

base::Status generate_certificate(const CertificateRequest& request, const CertificatePaths& out) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return ssl_error("cannot generate an ECDSA P-256 key");
  X509Ptr issuer;
  KeyPtr issuer_key;
  if (request.signer) {
    auto c = load_cert(request.signer->cert);
    if (!c) return c.error();
    auto k = load_key(request.signer->key);
    if (!k) return k.error();
    issuer = std::move(*c);
    issuer_key = std::move(*k);
  }
  auto cert = build_cert(request, key.get(), issuer.get(), issuer_key.get());
  if (!cert) return cert.error();

  BioPtr key_pem(BIO_new(BIO_s_mem()));
  BioPtr cert_pem(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1 ||
      PEM_write_bio_X509(cert_pem.get(), cert->get()) != 1)
    return ssl_error("cannot encode the certificate");
  // The key first: a certificate on disk always has its key beside it.
  if (auto s = write_file_atomic(out.key, bio_text(key_pem.get()), 0600); !s) return s;
  return write_file_atomic(out.cert, bio_text(cert_pem.get()), 0644);
}

base::Result<CertificatePaths> ensure_serving_cert(const fs::path& state_dir,
                                                   std::string_view node_name,
                                                   const std::string& cert_path,
                                                   const std::string& key_path) {
  if (cert_path.empty() != key_path.empty())
    return base::Error("set both or neither of the TLS certificate and key",
                       cert_path.empty() ? "api.tcp.tlsCertFile" : "api.tcp.tlsKeyFile");
  if (!cert_path.empty()) {
    const CertificatePaths given{cert_path, key_path};
    if (auto s = check_pair(given); !s)
      return base::Error(s.error().message, "api.tcp.tlsCertFile");
    return given;
  }
  const fs::path dir = state_dir / "pki";
  const CertificatePaths generated{dir / "podagent.crt", dir / "podagent.key"};
  if (reusable(generated, node_name)) return generated;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return base::Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  CertificateRequest request;
  request.common_name = node_name.empty() ? "podagent" : std::string(node_name);
  request.alt_names = {"localhost", "127.0.0.1", "::1"};
  if (!node_name.empty() && node_name != "localhost") request.alt_names.emplace_back(node_name);
  // CA:TRUE so that clients can trust this one certificate as their CA
  // (a kubeconfig's certificate-authority-data).
  request.is_ca = true;
  request.server_auth = true;
  if (auto s = generate_certificate(request, generated); !s) return s.error();
  return generated;
}

TlsContext::TlsContext() : context_(std::make_unique<ssl::context>(ssl::context::tls_server)) {}
TlsContext::~TlsContext() = default;

base::Result<std::shared_ptr<TlsContext>> TlsContext::make_server(const TlsServerOptions& options) {
  std::shared_ptr<TlsContext> tls(new TlsContext());
  SSL_CTX* ctx = tls->context_->native_handle();
  boost::system::error_code ec;
  tls->context_->set_options(ssl::context::default_workarounds | ssl::context::no_compression |
                                 ssl::context::single_dh_use,
                             ec);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) return ssl_error("TLS 1.2 minimum");
  const std::string cert = options.serving.cert.string();
  const std::string key = options.serving.key.string();
  tls->context_->use_certificate_chain_file(cert, ec);
  if (ec) return base::Error(fmt::format("cannot load the certificate {}: {}", cert, ec.message()));
  tls->context_->use_private_key_file(key, ssl::context::pem, ec);
  if (ec) return base::Error(fmt::format("cannot load the key {}: {}", key, ec.message()));
  if (SSL_CTX_check_private_key(ctx) != 1)
    return ssl_error(fmt::format("the key {} does not belong to {}", key, cert));
  if (!options.client_ca_file.empty()) {
    const std::string& ca = options.client_ca_file;
    tls->context_->load_verify_file(ca, ec);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca.c_str());
    if (ec || names == nullptr)
      return base::Error(
          fmt::format("cannot load the client CA {}: {}", ca, ec ? ec.message() : openssl_error()));
    SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
    // Ask for a certificate, but let clients with a token come without one.
    tls->context_->set_verify_mode(ssl::verify_peer, ec);
    // Needed for session resumption once peers are verified.
    static constexpr unsigned char kSessionContext[] = "podagent";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
    tls->verifies_clients_ = true;
  }
  return tls;
}

std::optional<ClientCertificate> verified_client_certificate(ssl_st* ssl) {
  if (ssl == nullptr) return std::nullopt;
  X509Ptr peer(SSL_get1_peer_certificate(ssl));
  if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  ClientCertificate out;
  const X509_NAME* subject = X509_get_subject_name(peer.get());
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    if (nid != NID_commonName && nid != NID_organizationName) continue;
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (n < 0) continue;
    std::string value(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
    if (nid == NID_commonName)
      out.common_name = std::move(value);
    else
      out.organizations.push_back(std::move(value));
  }
  return out;
}

std::array<uint8_t, 32> sha256(std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

}  // namespace podagent::agent
