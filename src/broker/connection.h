// One client connection, served by one coroutine on one shard.
//
// Frames are read one at a time and answered in order (Kafka clients rely on the
// order). The 4-byte size is checked against socket.request.max.bytes before any
// buffer is sized by it; a larger size, an unknown api key, or a request that does
// not decode closes the connection. A version outside what is advertised gets
// UNSUPPORTED_VERSION for ApiVersions (answered at v0, as Kafka does) and a closed
// connection for other APIs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "broker/broker.h"

namespace fjord::broker {

boost::asio::awaitable<void> ServeConnection(Broker& broker, Shard& shard,
                                             boost::asio::ip::tcp::socket socket);

}  // namespace fjord::broker
