// DescribeTopicPartitions (KIP-966) paged through by @platformatic/kafka, following each
// answer's cursor; printed as one JSON object for tests/broker/test_admin_apis.py.
// Usage: node --import node-shims.mjs platformatic_topic_pages.mjs BOOTSTRAP
import { Admin, Connection, describeTopicPartitionsV0 } from '@platformatic/kafka'

const [bootstrap] = process.argv.slice(2)
const [host, port] = bootstrap.split(':')
const admin = new Admin({ clientId: 'fjord-pages-test', bootstrapBrokers: [bootstrap], timeout: 20000 })
const conn = new Connection('fjord-pages-test')
const out = {}
// One answer as [[name, error, [partitions]]..., cursor]; an answer with a topic error
// is thrown by the client with the answer inside.
const page = async (topics, limit, cursor) => {
  let r
  try {
    r = await describeTopicPartitionsV0.api.async(conn, topics.map((name) => ({ name })), limit, cursor)
  } catch (e) {
    if (!e.response) throw e
    r = e.response
  }
  return {
    topics: r.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
    cursor: r.nextCursor ? [r.nextCursor.topicName, r.nextCursor.partitionIndex] : null
  }
}
// Every page from the start, each request carrying the cursor the last answer gave.
const walk = async (topics, limit) => {
  const pages = []
  let cursor = null
  do {
    const p = await page(topics, limit, cursor)
    pages.push(p)
    cursor = p.cursor ? { topicName: p.cursor[0], partitionIndex: p.cursor[1] } : null
  } while (cursor && pages.length < 20)
  return pages
}
try {
  for (const [name, partitions] of [['pg-a', 2], ['pg-b', 1], ['pg-c', 2]]) {
    await admin.createTopics({ topics: [name], partitions, replicas: 1 })
  }
  await conn.connect(host, Number(port))
  out.named = await walk(['pg-c', 'pg-zz', 'pg-a', 'pg-b'], 2)
  out.all = await walk([], 4)
  out.cursorNotNamed = await page(['pg-a', 'pg-c'], 2, { topicName: 'pg-b', partitionIndex: 0 })
  out.cursorPastTheEnd = await page(['pg-a', 'pg-b'], 2, { topicName: 'pg-a', partitionIndex: 7 })
  out.badName = await page(['no good', 'pg-b'], 10, null)
} finally {
  await conn.close()
  await admin.close()
}
console.log(JSON.stringify(out))
