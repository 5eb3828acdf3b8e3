// The open-file limit. Every segment holds three descriptors (.log, .index,
// .timeindex), so a broker with thousands of partitions needs far more than the usual
// soft limit of 1,024; Kafka's operators raise it by hand, Fjord raises it itself.
#pragma once

#include <cstdint>

namespace fjord::broker {

// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit now in
// force (unchanged if raising fails).
uint64_t RaiseOpenFileLimit();

}  // namespace fjord::broker
