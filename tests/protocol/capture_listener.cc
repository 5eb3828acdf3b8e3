#include "protocol/capture_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "fjord_protocol/messages.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::protocol::testing {
namespace {

bool ReadFull(int fd, uint8_t* p, size_t n, const std::atomic<bool>& stop) {
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    int pr = ::poll(&pfd, 1, 100);
    if (stop) return false;
    if (pr <= 0) continue;
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool WriteFull(int fd, const uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// What the listener advertises: the APIs a producer needs plus what a simple consumer
// starts with, at Kafka 3.9's ranges. librdkafka infers broker features from this list
// (it takes FindCoordinator as the sign that lz4 is understood).
const struct {
  int16_t key, min, max;
} kAdvertised[] = {{0, 0, 11}, {1, 0, 17}, {2, 0, 9}, {3, 0, 12}, {10, 0, 6}, {18, 0, 4}, {22, 0, 5}};

}  // namespace

CaptureListener::CaptureListener() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::listen(listen_fd_, 16);
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

CaptureListener::~CaptureListener() {
  stop_ = true;
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
  ::close(listen_fd_);
}

std::vector<CapturedFrame> CaptureListener::frames() {
  std::lock_guard lock(mu_);
  return frames_;
}

int CaptureListener::CountOf(int16_t api_key) {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& f : frames_) n += f.api_key == api_key;
  return n;
}

void CaptureListener::AcceptLoop() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mu_);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void CaptureListener::Serve(int fd) {
  while (!stop_) {
    uint8_t size_bytes[4];
    if (!ReadFull(fd, size_bytes, 4, stop_)) break;
    const int32_t size =
        static_cast<int32_t>(size_bytes[0] << 24 | size_bytes[1] << 16 | size_bytes[2] << 8 | size_bytes[3]);
    if (size < 8 || size > (64 << 20)) break;
    CapturedFrame f;
    f.frame.resize(static_cast<size_t>(size));
    if (!ReadFull(fd, f.frame.data(), f.frame.size(), stop_)) break;
    f.api_key = static_cast<int16_t>(f.frame[0] << 8 | f.frame[1]);
    f.api_version = static_cast<int16_t>(f.frame[2] << 8 | f.frame[3]);
    bool close = false;
    std::vector<uint8_t> reply;
    {
      std::lock_guard lock(mu_);
      frames_.push_back(f);
      reply = Answer(f, &close);
    }
    if (f.api_key == 1) {  // an empty fetch waits a little, as a broker's long poll does
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (close || !WriteFull(fd, reply.data(), reply.size())) break;
  }
  ::close(fd);
}

std::vector<uint8_t> CaptureListener::Answer(const CapturedFrame& f, bool* close) {
  std::vector<uint8_t> out;
  auto parsed = ParseRequest(ByteView(f.frame));
  if (!parsed.ok() || parsed->api == nullptr) {
    *close = true;
    return out;
  }
  const int16_t v = f.api_version;
  const int32_t cid = parsed->header.correlation_id;
  switch (f.api_key) {
    case 18: {  // ApiVersions
      ApiVersionsResponse resp;
      int16_t answer_version = v;
      if (v > 4) {
        resp.error_code = 35;  // UNSUPPORTED_VERSION, answered at v0
        answer_version = 0;
      }
      for (const auto& a : kAdvertised) {
        auto& k = resp.api_keys.emplace_back();
        k.api_key = a.key;
        k.min_version = a.min;
        k.max_version = a.max;
      }
      (void)AppendResponseFrame(resp, answer_version, cid, &out);
      return out;
    }
    case 3: {  // Metadata
      MetadataRequest req;
      if (!Decode(parsed->body, v, &req).ok()) break;
      MetadataResponse resp;
      auto& b = resp.brokers.emplace_back();
      b.node_id = 0;
      b.host = "127.0.0.1";
      b.port = port_;
      resp.cluster_id = "capture-cluster";
      resp.controller_id = 0;
      std::vector<std::string> names;
      if (req.topics) {
        for (const auto& t : *req.topics) names.push_back(t.name.value_or("golden"));
      }
      for (const auto& n : names) {
        auto& t = resp.topics.emplace_back();
        t.name = n;
        t.topic_id.bytes[15] = 1;
        auto& p = t.partitions.emplace_back();
        p.partition_index = 0;
        p.leader_id = 0;
        p.leader_epoch = 0;
        p.replica_nodes = {0};
        p.isr_nodes = {0};
      }
      (void)AppendResponseFrame(resp, v, cid, &out);
      return out;
    }
    case 0: {  // Produce
      ProduceRequest req;
      if (!Decode(parsed->body, v, &req).ok()) break;
      if (req.acks == 0) return out;  // no answer for acks=0
      ProduceResponse resp;
      for (const auto& t : req.topic_data) {
        auto& rt = resp.responses.emplace_back();
        rt.name = t.name;
        for (const auto& p : t.partition_data) {
          auto& rp = rt.partition_responses.emplace_back();
          rp.index = p.index;
          rp.base_offset = next_offset_;
          next_offset_ += 1000;
        }
      }
      (void)AppendResponseFrame(resp, v, cid, &out);
      return out;
    }
    case 10: {  // FindCoordinator: this listener coordinates everything
      FindCoordinatorRequest req;
      if (!Decode(parsed->body, v, &req).ok()) break;
      FindCoordinatorResponse resp;
      resp.node_id = 0;
      resp.host = "127.0.0.1";
      resp.port = port_;
      for (const auto& key : req.coordinator_keys) {
        auto& c = resp.coordinators.emplace_back();
        c.key = key;
        c.node_id = 0;
        c.host = "127.0.0.1";
        c.port = port_;
      }
      (void)AppendResponseFrame(resp, v, cid, &out);
      return out;
    }
    case 22: {  // InitProducerId
      InitProducerIdResponse resp;
      resp.producer_id = 4000;
      resp.producer_epoch = 0;
      (void)AppendResponseFrame(resp, v, cid, &out);
      return out;
    }
    case 2: {  // ListOffsets: everything starts and ends at 0
      ListOffsetsRequest req;
      if (!Decode(parsed->body, v, &req).ok()) break;
      ListOffsetsResponse resp;
      for (const auto& t : req.topics) {
        auto& rt = resp.topics.emplace_back();
        rt.name = t.name;
        for (const auto& p : t.partitions) {
          auto& rp = rt.partitions.emplace_back();
          rp.partition_index = p.partition_index;
          rp.offset = 0;
          rp.timestamp = -1;
          if (v == 0) rp.old_style_offsets = {0};
        }
      }
      (void)AppendResponseFrame(resp, v, cid, &out);
      return out;
    }
    case 1: {  // Fetch: nothing new yet
      FetchRequest req;
      if (!Decode(parsed->body, v, &req).ok()) break;
      FetchResponse resp;
      for (const auto& t : req.topics) {
        auto& rt = resp.responses.emplace_back();
        rt.topic = t.topic;
        rt.topic_id = t.topic_id;
        for (const auto& p : t.partitions) {
          auto& rp = rt.partitions.emplace_back();
          rp.partition_index = p.partition;
          rp.high_watermark = 0;
          rp.last_stable_offset = 0;
          rp.log_start_offset = 0;
          rp.records = ByteView();
        }
      }
      (void)AppendResponseFrame(resp, v, cid, &out);
      return out;
    }
    default:
      break;
  }
  *close = true;
  return out;
}

}  // namespace fjord::protocol::testing
