#include "broker/connection.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>

#include <chrono>
#include <deque>
#include <memory>

#include "broker/client_warnings.h"
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "protocol/frame.h"
#include "spdlog/spdlog.h"

namespace fjord::broker {

namespace asio = boost::asio;

namespace {

// A response waiting to be written: ready bytes, or deferred work that produces them.
struct Outgoing {
  std::vector<uint8_t> response;
  std::vector<ResponseSlice> slices;  // file bytes sent in the middle of `response`
  DeferredResponse deferred;
  bool send = true;
  int16_t api_key = 0;
  std::chrono::steady_clock::time_point started;
};

// What the reader and the writer share. Both run on the shard's thread: no locks.
struct Pipeline {
  explicit Pipeline(const asio::any_io_executor& ex) : wake_writer(ex), wake_reader(ex) {}
  std::deque<Outgoing> queue;
  asio::steady_timer wake_writer;  // cancelled to wake the writer
  asio::steady_timer wake_reader;  // cancelled to wake the reader
  bool reader_done = false;
  bool writer_done = false;
  size_t pending = 0;  // requests read and not yet answered (or dropped, acks=0)
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
};

// connections.max.idle.ms, as Kafka: a connection with nothing read or answered for that
// long, and no request pending, is closed. Lives in a shared_ptr so that the watchdog
// can see `closed` after the connection is gone; the socket and pipeline are touched
// only while it is not (all of this runs on the shard's one thread).
struct IdleWatch {
  explicit IdleWatch(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool closed = false;
};

asio::awaitable<void> CloseWhenIdle(std::shared_ptr<IdleWatch> w, std::chrono::milliseconds idle,
                                    asio::ip::tcp::socket& socket, Pipeline& p, ShardCounters& counters) {
  while (true) {
    w->timer.expires_at(p.last_activity + idle);
    co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (w->closed) co_return;
    const auto now = std::chrono::steady_clock::now();
    if (p.pending > 0) p.last_activity = now;  // a long request is not idleness
    if (now - p.last_activity < idle) continue;
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);  // the reader sees the end
    counters.connections_closed_idle.fetch_add(1, std::memory_order_relaxed);
    co_return;
  }
}

constexpr size_t kLowWatermarkFrom = 64 * 1024;
constexpr size_t kLowWatermarkMax = 256 * 1024;
constexpr size_t kFrameGrowthFloor = 1 << 20;
constexpr size_t kKeepFrameCapacity = 16 << 20;

void SetReceiveLowWatermark(asio::ip::tcp::socket& socket, size_t bytes) {
  const int value = static_cast<int>(bytes);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
}

// Reads a whole frame body. A large frame arrives in many small pieces: asking the
// kernel to wake us only when a good part of it is there saves most of the wake-ups.
// The watermark never exceeds what is still to come (re-set after every read, as a
// read may take only part of what it waits for), else the wake-up would wait for
// bytes the client never sends.
// The buffer grows with what has arrived (at most twice that, or kFrameGrowthFloor)
// rather than to the size prefix at once: a prefix alone, or a frame trickled in, then
// holds memory in proportion to the bytes sent, not to the size claimed (up to
// socket.request.max.bytes per connection, on as many connections as a client opens).
// A buffer already that large from an earlier frame is reused as it is.
asio::awaitable<void> ReadFrameBody(asio::ip::tcp::socket& socket, std::vector<uint8_t>& frame, size_t size) {
  size_t done = 0;
  size_t watermark = 1;
  frame.resize(std::min(size, std::max(frame.capacity(), kFrameGrowthFloor)));
  while (done < size) {
    if (done == frame.size()) frame.resize(std::min(size, 2 * done));
    const size_t left = size - done;
    const size_t want = left > kLowWatermarkFrom ? std::min(left, kLowWatermarkMax) : 1;
    if (want != watermark) SetReceiveLowWatermark(socket, watermark = want);
    done += co_await socket.async_read_some(asio::buffer(frame.data() + done, frame.size() - done),
                                            asio::use_awaitable);
  }
  if (watermark != 1) SetReceiveLowWatermark(socket, 1);
}

// Whether the page holding byte `at` of `fd` is in the page cache: a one-byte read that
// fails with EAGAIN rather than wait for the disk. Where the file system cannot tell
// (EOPNOTSUPP), the page counts as cached, and sendfile waits as it always did.
bool PageCached(int fd, off_t at) {
  char byte;
  iovec iov{&byte, 1};
  return ::preadv2(fd, &iov, 1, at, RWF_NOWAIT) >= 0 || errno != EAGAIN;
}

// Resumes once [at, at + n) of `fd` is in the page cache, or reading it failed (the
// sendfile that follows then reports that). The wait runs on the shard's I/O backend,
// so the shard serves its other connections meanwhile.
asio::awaitable<void> PageIn(log::IoBackend& io, int fd, off_t at, uint64_t n) {
  const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);  // the backend closes it
  if (own < 0) co_return;                           // sendfile waits for the disk instead
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&io, own, at, n](auto handler) {
        auto held = std::make_shared<decltype(handler)>(std::move(handler));
        io.PageInInBackground(own, static_cast<uint64_t>(at), n, [held](absl::Status) {
          const auto executor = asio::get_associated_executor(*held);
          asio::post(executor, [held] { std::move (*held)(); });
        });
      },
      asio::use_awaitable);
}

// Sends a file range with sendfile(2): the bytes go from the page cache to the socket.
// A file that shrank under us (truncated) cannot honour the frame's size: the
// connection closes.
//
// A range further back than log.page.cache.window.bytes is on the disk, and sendfile
// would wait for the disk with every connection of the shard stopped behind it. So the
// range goes in pieces of 1 MiB, and a piece whose last page is not cached (the
// kernel's read-ahead fills pages in order) is waited for on the I/O backend
// (PageIn) while the shard serves others; the first such piece also asks for the rest
// of the range at once (POSIX_FADV_WILLNEED, off the shard too), so that it comes at
// the disk's full depth. A cached piece costs a one-byte read.
asio::awaitable<void> SendFileSlice(asio::ip::tcp::socket& socket, const log::FileSlice& slice,
                                    log::IoBackend& io) {
  constexpr uint64_t kPiece = 1 << 20;
  if (!socket.native_non_blocking()) socket.native_non_blocking(true);
  const int fd = slice.fd.get();
  off_t offset = static_cast<off_t>(slice.position);
  uint64_t left = slice.length;
  bool asked = false;
  while (left > 0) {
    const uint64_t piece = std::min(left, kPiece);
    if (!PageCached(fd, offset + static_cast<off_t>(piece) - 1)) {
      if (!asked) {
        asked = true;
        if (const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0); own >= 0) {
          io.ReadAheadInBackground(own, static_cast<uint64_t>(offset), left);
        }
      }
      co_await PageIn(io, fd, offset, piece);
    }
    const ssize_t n = ::sendfile(socket.native_handle(), fd, &offset, piece);
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      co_await socket.async_wait(asio::ip::tcp::socket::wait_write, asio::use_awaitable);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      throw boost::system::system_error(n == 0 ? EIO : errno, boost::system::system_category(), "sendfile");
    }
  }
}

// Parks the calling coroutine until `timer` is cancelled.
asio::awaitable<void> Park(asio::steady_timer& timer) {
  timer.expires_at(asio::steady_timer::time_point::max());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> WriteResponses(Shard& shard, asio::ip::tcp::socket& socket, Pipeline& p,
                                     const std::string& peer) {
  try {
    while (true) {
      if (p.queue.empty()) {
        if (p.reader_done) break;
        co_await Park(p.wake_writer);
        continue;
      }
      Outgoing out = std::move(p.queue.front());
      p.queue.pop_front();
      p.wake_reader.cancel();
      if (out.deferred) {
        absl::Status s = co_await out.deferred(&out.response);
        if (!s.ok()) {
          BadInputWarnings().Warn("{}: api {}: {}; closing", peer, out.api_key, std::string(s.message()));
          break;
        }
      }
      if (out.send) {
        uint64_t sent = out.response.size();
        size_t done = 0;
        for (const ResponseSlice& s : out.slices) {
          if (s.at > done) {
            co_await asio::async_write(socket, asio::buffer(out.response.data() + done, s.at - done),
                                       asio::use_awaitable);
          }
          done = s.at;
          co_await SendFileSlice(socket, s.file, shard.io());
          sent += s.file.length;
        }
        if (done < out.response.size()) {
          co_await asio::async_write(socket,
                                     asio::buffer(out.response.data() + done, out.response.size() - done),
                                     asio::use_awaitable);
        }
        shard.counters().bytes_out.fetch_add(sent, std::memory_order_relaxed);
      }
      --p.pending;
      p.last_activity = std::chrono::steady_clock::now();
      shard.counters().RecordRequest(
          out.api_key, static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                 std::chrono::steady_clock::now() - out.started)
                                                 .count()));
    }
  } catch (const boost::system::system_error& e) {
    spdlog::debug("{}: write: {}", peer, e.what());
  }
  p.writer_done = true;
  boost::system::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_receive, ignored);  // stops a pending read
  p.wake_reader.cancel();
}

}  // namespace

asio::awaitable<void> ServeConnection(Broker& broker, Shard& shard, asio::ip::tcp::socket socket,
                                      ConnectionLimits::Slot slot) {
  std::string peer;
  std::string peer_host;
  try {
    peer_host = socket.remote_endpoint().address().to_string();
    peer = socket.remote_endpoint().address().to_string() + ":" +
           std::to_string(socket.remote_endpoint().port());
  } catch (...) {
    co_return;
  }
  if (shard.stopping()) co_return;  // accepted as the node began to stop: closed unread
  // Known to the shard while served, so that a stop can end it (Shard::StopServing).
  struct Registration {
    Shard& shard;
    Shard::Connections::iterator it;
    ~Registration() { shard.RemoveConnection(it); }
  } registration{shard, shard.AddConnection(&socket)};
  const size_t max_frame = static_cast<size_t>(broker.config().socket_request_max_bytes);
  const size_t max_inflight =
      static_cast<size_t>(std::max(1, broker.config().max_inflight_requests_per_connection));
  static std::atomic<uint64_t> connections_served{0};
  const uint64_t connection_id = connections_served.fetch_add(1, std::memory_order_relaxed) + 1;
  Pipeline p(co_await asio::this_coro::executor);
  shard.counters().connections_open.fetch_add(1, std::memory_order_relaxed);
  asio::co_spawn(co_await asio::this_coro::executor, WriteResponses(shard, socket, p, peer), asio::detached);
  auto idle_watch = std::make_shared<IdleWatch>(co_await asio::this_coro::executor);
  if (const int64_t idle_ms = broker.config().connections_max_idle_ms; idle_ms > 0) {
    asio::co_spawn(co_await asio::this_coro::executor,
                   CloseWhenIdle(idle_watch, std::chrono::milliseconds(idle_ms), socket, p, shard.counters()),
                   asio::detached);
  }
  std::vector<uint8_t> frame;
  bool bad_input = true;  // cleared when the peer simply goes away
  try {
    while (!p.writer_done) {
      if (shard.stopping()) {  // what was read is answered; nothing more is read
        bad_input = false;
        break;
      }
      uint8_t size_bytes[4];
      co_await asio::async_read(socket, asio::buffer(size_bytes), asio::use_awaitable);
      const int32_t size = static_cast<int32_t>(static_cast<uint32_t>(size_bytes[0]) << 24 |
                                                size_bytes[1] << 16 | size_bytes[2] << 8 | size_bytes[3]);
      if (size < 0 || static_cast<size_t>(size) > max_frame) {
        BadInputWarnings().Warn("{}: request size {} is outside [0, socket.request.max.bytes={}]; closing",
                                peer, size, max_frame);
        break;
      }
      // queued.max.request.bytes: wait for room before taking the body off the socket.
      for (auto backoff = std::chrono::milliseconds(1); !broker.request_memory().TryAcquire(size);
           backoff = std::min(2 * backoff, std::chrono::milliseconds(50))) {
        asio::steady_timer room(co_await asio::this_coro::executor, backoff);
        co_await room.async_wait(asio::use_awaitable);
      }
      RequestMemory::Hold held(broker.request_memory(), size);  // until the handler is done
      co_await ReadFrameBody(socket, frame, static_cast<size_t>(size));
      ++p.pending;
      p.last_activity = std::chrono::steady_clock::now();
      Outgoing out;
      out.started = std::chrono::steady_clock::now();
      shard.counters().bytes_in.fetch_add(4 + frame.size(), std::memory_order_relaxed);
      auto parsed = protocol::ParseRequest(protocol::ByteView(frame));
      if (!parsed.ok()) {
        BadInputWarnings().Warn("{}: malformed request header ({}); closing", peer,
                                std::string(parsed.status().message()));
        break;
      }
      const int16_t key = parsed->header.request_api_key;
      const int16_t version = parsed->header.request_api_version;
      out.api_key = key;
      const AdvertisedApi* api = FindAdvertised(key);
      if (api == nullptr) {
        BadInputWarnings().Warn("{}: api key {} is not implemented; closing", peer, key);
        break;
      }
      if (version < api->min_version || version > api->max_version) {
        if (key != 18) {
          BadInputWarnings().Warn("{}: {} v{} is not supported (v{}-{}); closing", peer,
                                  parsed->api ? parsed->api->name : "?", version, api->min_version,
                                  api->max_version);
          break;
        }
        AppendApiVersionsResponse(0, kUnsupportedVersion, parsed->header.correlation_id, &out.response);
      } else {
        RequestContext ctx{broker, shard, parsed->header, version, parsed->body, &out.response, true,
                           {},     {},    peer_host};
        ctx.slices = &out.slices;
        ctx.connection_id = connection_id;
        absl::Status s = co_await api->handler(ctx);
        held.Reset();
        // A buffer grown for an unusually large request is not kept for the connection's
        // whole life (the next one grows a new buffer as its bytes come).
        if (frame.capacity() > kKeepFrameCapacity) std::vector<uint8_t>().swap(frame);
        if (!s.ok()) {
          BadInputWarnings().Warn("{}: {} v{}: {}; closing", peer, parsed->api->name, version,
                                  std::string(s.message()));
          break;
        }
        out.send = ctx.send_response;
        out.deferred = std::move(ctx.deferred);
      }
      p.queue.push_back(std::move(out));
      p.wake_writer.cancel();
      while (p.queue.size() >= max_inflight && !p.writer_done) co_await Park(p.wake_reader);
    }
  } catch (const boost::system::system_error& e) {
    bad_input = false;
    if (e.code() != asio::error::eof && e.code() != asio::error::connection_reset &&
        e.code() != asio::error::operation_aborted) {
      spdlog::debug("{}: {}", peer, e.what());
    }
  }
  if (bad_input && !p.writer_done) {
    shard.counters().connections_closed_bad_input.fetch_add(1, std::memory_order_relaxed);
  }
  // Let the writer send what earlier requests earned, then close.
  p.reader_done = true;
  p.wake_writer.cancel();
  while (!p.writer_done) co_await Park(p.wake_reader);
  idle_watch->closed = true;
  idle_watch->timer.cancel();
  shard.counters().connections_open.fetch_sub(1, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace fjord::broker
