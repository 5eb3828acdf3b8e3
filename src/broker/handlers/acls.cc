// DescribeAcls, CreateAcls and DeleteAcls as Kafka answers them without an authorizer
// (`authorizer.class.name` unset, the only setting fjord accepts): SECURITY_DISABLED,
// "No Authorizer is configured.", for the request or for each creation and filter.
// Tools that list ACLs (kafka-acls, UIs) then say ACLs are off instead of failing on an
// API the broker does not know.
#include "broker/handlers/handlers.h"
#include "broker/kafka_errors.h"
#include "fjord_protocol/messages/create_acls_request.h"
#include "fjord_protocol/messages/create_acls_response.h"
#include "fjord_protocol/messages/delete_acls_request.h"
#include "fjord_protocol/messages/delete_acls_response.h"
#include "fjord_protocol/messages/describe_acls_request.h"
#include "fjord_protocol/messages/describe_acls_response.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace fjord::broker {

namespace {

constexpr char kNoAuthorizer[] = "No Authorizer is configured.";

// One SECURITY_DISABLED result per entry of the request (each creation or filter).
template <typename Request, typename In, typename Response, typename Out>
boost::asio::awaitable<absl::Status> RefuseEach(RequestContext& c, std::vector<In> Request::*entries,
                                                std::vector<Out> Response::*results) {
  Request req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  Response resp;
  for (size_t i = 0; i < (req.*entries).size(); ++i) {
    Out& out = (resp.*results).emplace_back();
    out.error_code = kSecurityDisabled;
    out.error_message = kNoAuthorizer;
  }
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

}  // namespace

boost::asio::awaitable<absl::Status> HandleDescribeAcls(RequestContext& c) {
  protocol::DescribeAclsRequest req;
  if (absl::Status s = protocol::Decode(c.body, c.version, &req); !s.ok()) co_return s;
  protocol::DescribeAclsResponse resp;
  resp.error_code = kSecurityDisabled;
  resp.error_message = kNoAuthorizer;
  co_return protocol::AppendResponseFrame(resp, c.version, c.header.correlation_id, c.response);
}

boost::asio::awaitable<absl::Status> HandleCreateAcls(RequestContext& c) {
  return RefuseEach(c, &protocol::CreateAclsRequest::creations, &protocol::CreateAclsResponse::results);
}

boost::asio::awaitable<absl::Status> HandleDeleteAcls(RequestContext& c) {
  return RefuseEach(c, &protocol::DeleteAclsRequest::filters, &protocol::DeleteAclsResponse::filter_results);
}

}  // namespace fjord::broker
