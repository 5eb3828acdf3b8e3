#!/usr/bin/env bash
# Seeds for metadata_fuzzer: realistic batches (text protobuf, encoded with protoc),
# framed as the fuzzer reads them (a 0 byte, then u16-LE length + batch, ...), plus one
# snapshot (a 1 byte, then the batch). Usage: fuzz/metadata-seeds.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1
mkdir -p "$out"
enc() { protoc --proto_path=src/raft --encode=fjord.metadata.MetadataBatch proto/metadata.proto; }
frame() {  # stdin: a batch; stdout: u16-LE length + batch
  /usr/bin/python3 -c 'import sys; b = sys.stdin.buffer.read(); sys.stdout.buffer.write(len(b).to_bytes(2, "little") + b)'
}
id_a='\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017\020'
topic=$(printf 'records { topic { name: "orders" topic_id: "%s" } }
records { partition { topic_id: "%s" partition: 0 replicas: [1, 2] isr: [1, 2] leader: 1 } }
records { partition { topic_id: "%s" partition: 1 replicas: [2, 3] isr: [2, 3] leader: 2 } }
records { config { resource_type: 2 resource_name: "orders" name: "retention.ms" value: "1000" } }' "$id_a" "$id_a" "$id_a")
unfence='records { unfence_broker { broker_id: 1 broker_epoch: 1 } } '
unfence2='records { unfence_broker { broker_id: 2 broker_epoch: 2 } } '
fence='records { fence_broker { broker_id: 2 broker_epoch: 2 } } '
change=$(printf 'records { partition_change { topic_id: "%s" partition: 0 leader: 1 isr: [1] expected_partition_epoch: 0 } }' "$id_a")
ids='records { producer_ids { broker_id: 1 count: 1000 } } '
remove=$(printf 'records { remove_topic { topic_id: "%s" } }' "$id_a")
{
  printf '\000'
  for b in "$unfence" "$unfence2" "$topic" "$change" "$fence" "$ids" "$remove"; do echo "$b" | enc | frame; done
} > "$out/sequence"
{ printf '\001'; echo "records { cluster { cluster_id: \"x\" } } records { register_broker { broker_id: 1 broker_epoch: 5 } } $topic" | enc; } > "$out/snapshot"
