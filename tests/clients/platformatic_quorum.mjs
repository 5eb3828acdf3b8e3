// DescribeQuorum through @platformatic/kafka (v0 and v2, and v2 naming a partition that
// is not the metadata log's), printed as one JSON object for the tests to check.
// Usage: node --import node-shims.mjs platformatic_quorum.mjs BOOTSTRAP
import { Connection, describeQuorumV0, describeQuorumV2 } from '@platformatic/kafka'

const [host, port] = process.argv[2].split(':')
const metadataLog = [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }]
const conn = new Connection('fjord-quorum-test')
try {
  await conn.connect(host, Number(port))
  const out = {
    v0: await describeQuorumV0.api.async(conn, metadataLog),
    v2: await describeQuorumV2.api.async(conn, metadataLog)
  }
  try {
    out.wrongPartition = await describeQuorumV2.api.async(conn, [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 1 }] }])
  } catch (e) {
    out.wrongPartition = e.response ?? String(e)
  }
  await conn.close()
  console.log(JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? Number(v) : v)))
} catch (e) {
  console.error(e)
  process.exit(1)
}
