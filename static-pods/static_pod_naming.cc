#include "static-pods/static_pod_naming.h"

#include <cctype>
#include <cstdint>

#include "model/defaults.h"
#include "model/document.h"
#include "model/pod_codec.h"
#include "model/validation.h"

namespace podagent::static_pods {
namespace {

using u128 = unsigned __int128;

// FNV-1a 128 parameters (http://www.isthe.com/chongo/tech/comp/fnv/):
// prime 2^88 + 2^8 + 0x3b, offset basis 0x6c62272e07bb014262b821756295c58d.
constexpr u128 kFnvPrime = (u128{1} << 88) + (u128{1} << 8) + 0x3b;
constexpr u128 kFnvOffset = (u128{0x6c62272e07bb0142ULL} << 64) | u128{0x62b821756295c58dULL};

class Fnv128 {
 public:
  void bytes(std::string_view data) {
    for (unsigned char c : data) {
      h_ ^= c;
      h_ *= kFnvPrime;
    }
  }
  // A field: its length as 8 little-endian bytes, then its bytes.
  void field(std::string_view data) {
    char len[8];
    uint64_t n = data.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>(n >> (8 * i));
    bytes(std::string_view(len, 8));
    bytes(data);
  }
  std::string hex() const {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(32, '0');
    u128 v = h_;
    for (int i = 31; i >= 0; --i) {
      out[static_cast<size_t>(i)] = kDigits[static_cast<unsigned>(v & 0xf)];
      v >>= 4;
    }
    return out;
  }

 private:
  u128 h_ = kFnvOffset;
};

}  // namespace

std::string static_pod_name(std::string_view name, std::string_view node_name) {
  std::string out(name);
  out += '-';
  for (char c : node_name) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string fnv1a_128_hex(std::string_view data) {
  Fnv128 h;
  h.bytes(data);
  return h.hex();
}

base::PodUid static_pod_uid(std::string_view pod_encoding, std::string_view node_name,
                            std::string_view path) {
  Fnv128 h;
  h.field("pod");
  h.field(pod_encoding);
  h.field("host");
  h.field(node_name);
  h.field("file");
  h.field(path);
  return base::PodUid(h.hex());
}

model::FieldErrors make_static_pod(model::Pod& pod, const StaticPodContext& context) {
  if (pod.metadata.name.empty()) return {model::FieldError::required("metadata.name")};
  pod.status = {};
  std::string encoding = model::to_json(model::encode_pod(pod));
  base::PodUid uid = static_pod_uid(encoding, context.node_name, context.path);

  pod.metadata.uid = uid.str();
  pod.metadata.name = static_pod_name(pod.metadata.name, context.node_name);
  if (pod.metadata.namespace_.empty()) pod.metadata.namespace_ = "default";
  pod.spec.node_name = context.node_name;
  pod.metadata.annotations[std::string(kConfigSourceAnnotation)] = std::string(kConfigSourceFile);
  pod.metadata.annotations[std::string(kConfigHashAnnotation)] = uid.str();
  model::apply_defaults(pod);
  return model::validate_pod(pod);
}

}  // namespace podagent::static_pods
