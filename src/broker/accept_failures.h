// What an accept loop does when accept fails. Out of file descriptors (EMFILE, ENFILE)
// the same connection waits in the backlog and the next accept fails at once: the Kafka
// listener spun a core and wrote a million log lines in seconds. A failure now waits
// kAcceptRetry before the next try, and a run of failures logs its first error and its
// end, not each try.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <chrono>
#include <string>

namespace fjord::broker {

inline constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

class AcceptFailures {
 public:
  explicit AcceptFailures(std::string listener) : listener_(std::move(listener)) {}

  // After a failed accept (not a closed acceptor): logs the first of a run, then waits.
  boost::asio::awaitable<void> Failed(const boost::system::error_code& ec);
  // After an accept that worked: logs the end of a run of failures, if one was going on.
  void Succeeded();

 private:
  std::string listener_;
  long failures_ = 0;
  std::chrono::steady_clock::time_point first_;
};

}  // namespace fjord::broker
