#include "broker/accept_failures.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "spdlog/spdlog.h"

namespace fjord::broker {

boost::asio::awaitable<void> AcceptFailures::Failed(const boost::system::error_code& ec) {
  if (failures_++ == 0) {
    first_ = std::chrono::steady_clock::now();
    spdlog::warn("{}: accept: {}; trying again every {} ms", listener_, ec.message(), kAcceptRetry.count());
  }
  boost::asio::steady_timer retry(co_await boost::asio::this_coro::executor, kAcceptRetry);
  boost::system::error_code ignored;
  co_await retry.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
}

void AcceptFailures::Succeeded() {
  if (failures_ == 0) return;
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - first_).count();
  spdlog::info("{}: accepting again after {} failed tries in {:.1f} s", listener_, failures_, seconds);
  failures_ = 0;
}

}  // namespace fjord::broker
