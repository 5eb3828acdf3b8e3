// One client connection on one shard: a reader coroutine and a writer coroutine.
//
// The reader takes frames one at a time and runs each handler to completion before
// reading the next, so requests on a connection take effect in order (an idempotent
// producer's pipelined batches are appended in the order sent). A handler may defer
// the last part of its work (Produce waiting for fsync, see group_commit.h): the
// reader then goes on with the next request while the writer awaits the deferred
// work. The writer sends responses strictly in request order, as Kafka clients
// require. At most `fjord.max.inflight.requests.per.connection` responses wait to be
// written; beyond that the reader stops reading (backpressure).
//
// The 4-byte size is checked against socket.request.max.bytes before any buffer is
// sized by it; a larger size, an unknown api key, or a request that does not decode
// closes the connection (after the responses to earlier requests are written). A
// version outside what is advertised gets UNSUPPORTED_VERSION for ApiVersions
// (answered at v0, as Kafka does) and a closed connection for other APIs.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "broker/broker.h"
#include "broker/connection_limits.h"

namespace fjord::broker {

// `slot` is the connection's place under max.connections, given back when it ends.
boost::asio::awaitable<void> ServeConnection(Broker& broker, Shard& shard,
                                             boost::asio::ip::tcp::socket socket,
                                             ConnectionLimits::Slot slot);

}  // namespace fjord::broker
