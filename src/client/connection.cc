#include "client/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <memory>

#include "absl/strings/str_cat.h"
#include "fjord_protocol/messages.h"
#include "protocol/frame.h"

namespace fjord::client {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A response larger than this is refused rather than allocated (Fetch answers are
// bounded by the request's max bytes, far below it).
constexpr uint32_t kMaxResponseBytes = 1u << 30;

// Cancels the socket's operations when the deadline passes; `expired` says why they
// ended.
class DeadlineGuard {
 public:
  DeadlineGuard(const asio::any_io_executor& ex, Connection::Deadline deadline, tcp::socket& socket)
      : timer_(ex), expired_(std::make_shared<bool>(false)) {
    timer_.expires_at(deadline);
    timer_.async_wait([&socket, expired = expired_](const boost::system::error_code& ec) {
      if (ec) return;
      *expired = true;
      boost::system::error_code ignored;
      socket.cancel(ignored);
    });
  }
  ~DeadlineGuard() { timer_.cancel(); }
  bool expired() const { return *expired_; }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<bool> expired_;
};

}  // namespace

Connection::Connection(asio::any_io_executor executor, std::string host, int32_t port)
    : executor_(std::move(executor)), host_(std::move(host)), port_(port), socket_(executor_) {}

asio::awaitable<absl::Status> Connection::Open(const std::string& client_id, Deadline deadline) {
  {
    DeadlineGuard guard(executor_, deadline, socket_);
    tcp::resolver resolver(executor_);
    auto [rec, endpoints] = co_await resolver.async_resolve(host_, std::to_string(port_), kTuple);
    if (rec) co_return absl::UnavailableError(absl::StrCat("cannot resolve ", host_, ": ", rec.message()));
    auto [cec, endpoint] = co_await asio::async_connect(socket_, endpoints, kTuple);
    if (cec) {
      co_return absl::UnavailableError(
          absl::StrCat("cannot connect to ", address(), ": ", guard.expired() ? "timed out" : cec.message()));
    }
  }
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  open_ = true;
  // v3 first; a broker without it answers UNSUPPORTED_VERSION (35) in v0's layout.
  for (int16_t version : {int16_t{3}, int16_t{0}}) {
    protocol::ApiVersionsRequest request;
    request.client_software_name = "fjord";
    request.client_software_version = "0.1";
    std::vector<uint8_t> frame;
    if (absl::Status s =
            protocol::AppendRequestFrame(request, version, next_correlation_++, client_id, &frame);
        !s.ok()) {
      co_return s;
    }
    absl::StatusOr<std::vector<uint8_t>> answer = co_await ExchangeNow(frame, deadline);
    if (!answer.ok()) co_return answer.status();
    protocol::ApiVersionsResponse response;
    // ApiVersions answers always carry response header v0: the correlation id alone.
    const protocol::ByteView body(answer->data() + 4, answer->size() - 4);
    absl::Status decoded = protocol::Decode(body, version, &response);
    if (!decoded.ok() && version == 3) decoded = protocol::Decode(body, int16_t{0}, &response);
    // Only the leading error code of an UNSUPPORTED_VERSION answer is dependable: brokers
    // lay out the rest in different ways (librdkafka's mock cluster in neither v0's nor
    // v3's), and v0 is asked next anyway.
    if (version == 3 && answer->size() >= 6 && (*answer)[4] == 0 && (*answer)[5] == 35) continue;
    if (!decoded.ok()) co_return absl::DataLossError(absl::StrCat(address(), ": bad ApiVersions answer"));
    if (response.error_code != 0) {
      co_return absl::FailedPreconditionError(
          absl::StrCat(address(), ": ApiVersions failed with error ", response.error_code));
    }
    for (const auto& k : response.api_keys) max_versions_[k.api_key] = k.max_version;
    co_return absl::OkStatus();
  }
  co_return absl::FailedPreconditionError(absl::StrCat(address(), ": no ApiVersions version in common"));
}

int16_t Connection::MaxVersion(int16_t api_key) const {
  auto it = max_versions_.find(api_key);
  return it == max_versions_.end() ? int16_t{-1} : it->second;
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Connection::Exchange(std::vector<uint8_t> frame,
                                                                           Deadline deadline) {
  if (busy_) {  // queue behind the request on the wire; the finisher hands over
    asio::steady_timer turn(executor_, asio::steady_timer::time_point::max());
    waiting_.push_back(&turn);
    co_await turn.async_wait(kTuple);
  } else {
    busy_ = true;
  }
  absl::StatusOr<std::vector<uint8_t>> answer = co_await ExchangeNow(frame, deadline);
  if (waiting_.empty()) {
    busy_ = false;
  } else {
    waiting_.front()->cancel();
    waiting_.pop_front();
  }
  co_return answer;
}

asio::awaitable<absl::StatusOr<std::vector<uint8_t>>> Connection::ExchangeNow(
    const std::vector<uint8_t>& frame, Deadline deadline) {
  if (broken_ || !open_) co_return absl::UnavailableError(absl::StrCat(address(), ": connection is closed"));
  DeadlineGuard guard(executor_, deadline, socket_);
  auto fail = [&](const char* what, const boost::system::error_code& ec) {
    broken_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    return absl::UnavailableError(
        absl::StrCat(address(), ": ", what, ": ", guard.expired() ? "timed out" : ec.message()));
  };
  auto [wec, written] = co_await asio::async_write(socket_, asio::buffer(frame), kTuple);
  if (wec) co_return fail("send", wec);
  uint8_t size_bytes[4];
  auto [sec, got] = co_await asio::async_read(socket_, asio::buffer(size_bytes), kTuple);
  if (sec) co_return fail("receive", sec);
  const uint32_t size = (uint32_t{size_bytes[0]} << 24) | (uint32_t{size_bytes[1]} << 16) |
                        (uint32_t{size_bytes[2]} << 8) | uint32_t{size_bytes[3]};
  if (size < 4 || size > kMaxResponseBytes) {
    co_return fail("receive", boost::system::errc::make_error_code(boost::system::errc::bad_message));
  }
  std::vector<uint8_t> answer(size);
  auto [bec, body] = co_await asio::async_read(socket_, asio::buffer(answer), kTuple);
  if (bec) co_return fail("receive", bec);
  // The request frame's correlation id sits after its size, api key and version.
  if (!std::equal(answer.begin(), answer.begin() + 4, frame.begin() + 8)) {
    co_return fail("receive", boost::system::errc::make_error_code(boost::system::errc::protocol_error));
  }
  co_return answer;
}

}  // namespace fjord::client
