#include "group/records.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace fjord::group {
namespace {

// Big-endian appends on a std::string.
class Out {
 public:
  void I8(int8_t v) { s_.push_back(static_cast<char>(v)); }
  void I16(int16_t v) { Be(static_cast<uint16_t>(v), 2); }
  void I32(int32_t v) { Be(static_cast<uint32_t>(v), 4); }
  void I64(int64_t v) { Be(static_cast<uint64_t>(v), 8); }
  void Str(const std::string& v) {
    if (v.size() > protocol::kMaxStringBytes) too_long_ = std::max(too_long_, v.size());
    I16(static_cast<int16_t>(v.size()));
    s_ += v;
  }
  void NullableStr(const std::optional<std::string>& v) {
    if (!v) return I16(-1);
    Str(*v);
  }
  void Bytes(const std::string& v) {
    I32(static_cast<int32_t>(v.size()));
    s_ += v;
  }
  std::string Take() { return std::move(s_); }
  // The longest string that did not fit an int16 length, or 0.
  size_t too_long() const { return too_long_; }

 private:
  void Be(uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) s_.push_back(static_cast<char>(v >> (8 * i)));
  }
  std::string s_;
  size_t too_long_ = 0;
};

std::string Str(protocol::Reader& r) {
  return r.NullableString(false, false, "string").value_or("");
}

std::optional<std::string> NullableStr(protocol::Reader& r) {
  return r.NullableString(false, true, "string");
}

std::string Bytes(protocol::Reader& r) {
  auto v = r.NullableBytes(false, true, "bytes");
  return v ? std::string(v->as_string_view()) : std::string();
}

}  // namespace

absl::StatusOr<EncodedRecord> Encode(const CoordinatorRecord& record) {
  EncodedRecord out;
  Out key, value;
  if (const auto* o = std::get_if<OffsetRecord>(&record)) {
    key.I16(1);
    key.Str(o->key.group);
    key.Str(o->key.topic);
    key.I32(o->key.partition);
    if (o->value) {
      value.I16(3);
      value.I64(o->value->offset);
      value.I32(o->value->leader_epoch);
      value.Str(o->value->metadata);
      value.I64(o->value->commit_timestamp);
      out.value = value.Take();
    }
  } else {
    const auto& g = std::get<GroupRecord>(record);
    key.I16(2);
    key.Str(g.key.group);
    if (g.value) {
      const GroupValue& v = *g.value;
      value.I16(3);
      value.Str(v.protocol_type);
      value.I32(v.generation);
      value.NullableStr(v.protocol);
      value.NullableStr(v.leader);
      value.I64(v.state_timestamp);
      value.I32(static_cast<int32_t>(v.members.size()));
      for (const MemberRecord& m : v.members) {
        value.Str(m.member_id);
        value.NullableStr(m.instance_id);
        value.Str(m.client_id);
        value.Str(m.client_host);
        value.I32(m.rebalance_timeout_ms);
        value.I32(m.session_timeout_ms);
        value.Bytes(m.subscription);
        value.Bytes(m.assignment);
      }
      out.value = value.Take();
    }
  }
  if (const size_t n = std::max(key.too_long(), value.too_long()); n > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a string of ", n, " bytes cannot be written (32767 at most)"));
  }
  out.key = key.Take();
  return out;
}

absl::StatusOr<CoordinatorRecord> Decode(protocol::ByteView key,
                                         const std::optional<protocol::ByteView>& value) {
  protocol::Reader k(key);
  const int16_t key_version = k.Int16();
  if (key_version == 0 || key_version == 1) {
    OffsetRecord rec;
    rec.key.group = Str(k);
    rec.key.topic = Str(k);
    rec.key.partition = k.Int32();
    if (!k.ok()) return absl::DataLossError(absl::StrCat("offset key: ", k.error()));
    if (value) {
      protocol::Reader v(*value);
      const int16_t version = v.Int16();
      OffsetValue out;
      out.offset = v.Int64();
      if (version >= 3) out.leader_epoch = v.Int32();
      out.metadata = Str(v);
      out.commit_timestamp = v.Int64();
      if (version == 1) v.Int64();  // expire timestamp (unused since Kafka 2.1)
      if (!v.ok() || version < 0 || version > 4) return absl::DataLossError("offset value does not decode");
      rec.value = std::move(out);
    }
    return rec;
  }
  if (key_version == 2) {
    GroupRecord rec;
    rec.key.group = Str(k);
    if (!k.ok()) return absl::DataLossError(absl::StrCat("group key: ", k.error()));
    if (value) {
      protocol::Reader v(*value);
      const int16_t version = v.Int16();
      if (version != 3) return absl::DataLossError(absl::StrCat("group value version ", version));
      GroupValue out;
      out.protocol_type = Str(v);
      out.generation = v.Int32();
      out.protocol = NullableStr(v);
      out.leader = NullableStr(v);
      out.state_timestamp = v.Int64();
      const int32_t members = v.Int32();
      for (int32_t i = 0; i < members && v.ok(); ++i) {
        MemberRecord m;
        m.member_id = Str(v);
        m.instance_id = NullableStr(v);
        m.client_id = Str(v);
        m.client_host = Str(v);
        m.rebalance_timeout_ms = v.Int32();
        m.session_timeout_ms = v.Int32();
        m.subscription = Bytes(v);
        m.assignment = Bytes(v);
        out.members.push_back(std::move(m));
      }
      if (!v.ok()) return absl::DataLossError(absl::StrCat("group value: ", v.error()));
      rec.value = std::move(out);
    }
    return rec;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown key version ", key_version));
}

}  // namespace fjord::group
