// node-rdkafka (librdkafka 2.12, built from source: the newest protocol versions
// librdkafka sends) as admin, idempotent producer and consumers against one broker.
// Prints one JSON object for tests/broker/test_rdkafka.py to check.
// Usage: node rdkafka_clients.js BOOTSTRAP TOPIC
const Kafka = require('node-rdkafka')

const [bootstrap, topic] = process.argv.slice(2)
const common = { 'metadata.broker.list': bootstrap, 'client.id': 'fjord-rdkafka-test' }
const RECORDS = 2000
const STAMP = 1700000000000 // record i is stamped STAMP + i
const out = { librdkafka: Kafka.librdkafkaVersion }

const call = (fn) => new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))))
const codeOf = async (p) => {
  try {
    await p
    return 0
  } catch (e) {
    return e.code
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function connected (client) {
  await new Promise((resolve, reject) => {
    client.once('ready', resolve)
    client.once('connection.failure', reject)
    client.connect()
  })
  return client
}

// Reads until `want` messages came or 30 s passed; messages as [partition, offset, key,
// value, header value, timestamp].
async function drain (consumer, want) {
  const got = []
  const deadline = Date.now() + 30000
  while (got.length < want && Date.now() < deadline) {
    const batch = await call((cb) => consumer.consume(500, cb))
    for (const m of batch) {
      const header = m.headers && m.headers.length ? String(Object.values(m.headers[0])[0]) : null
      got.push([m.partition, m.offset, String(m.key), String(m.value), header, m.timestamp])
    }
  }
  return got
}

async function groupConsumer (group) {
  return connected(new Kafka.KafkaConsumer(
    { ...common, 'group.id': group, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' }))
}

async function main () {
  const admin = Kafka.AdminClient.create(common)
  await call((cb) => admin.createTopic({ topic, num_partitions: 3, replication_factor: 1 }, cb))
  out.createAgain = await codeOf(call((cb) => admin.createTopic({ topic, num_partitions: 3, replication_factor: 1 }, cb)))
  await call((cb) => admin.createPartitions(topic, 4, cb))
  out.shrink = await codeOf(call((cb) => admin.createPartitions(topic, 2, cb)))

  const producer = await connected(new Kafka.Producer(
    { ...common, 'enable.idempotence': true, 'compression.codec': 'zstd', dr_cb: true, 'linger.ms': 5 }))
  producer.setPollInterval(10)
  const acked = []
  let failed = 0
  producer.on('delivery-report', (err, r) => (err ? failed++ : acked.push([r.partition, r.offset])))
  const send = (from, to) => {
    for (let i = from; i < to; i++) {
      producer.produce(topic, i % 4, Buffer.from(`value-${i}`), `key-${i}`, STAMP + i, null, [{ n: String(i) }])
    }
  }
  send(0, RECORDS)
  await call((cb) => producer.flush(20000, cb))
  for (let i = 0; i < 200 && acked.length + failed < RECORDS; i++) await sleep(50)
  out.acked = acked.length
  out.failed = failed
  // A Metadata request for every topic: librdkafka sends 3 bytes after the message.
  const all = await call((cb) => producer.getMetadata({ allTopics: true, timeout: 10000 }, cb))
  out.metadataAll = all.topics.filter((t) => t.name === topic).map((t) => t.partitions.length)
  const one = await call((cb) => producer.getMetadata({ topic, allTopics: false, timeout: 10000 }, cb))
  out.metadataOne = one.topics.map((t) => [t.name, t.partitions.length])
  out.watermarks = []
  for (let p = 0; p < 4; p++) {
    const w = await call((cb) => producer.queryWatermarkOffsets(topic, p, 10000, cb))
    out.watermarks.push([w.lowOffset, w.highOffset])
  }

  // A group reads everything, commits, and a second member of the group resumes there.
  const first = await groupConsumer(`${topic}-group`)
  first.subscribe([topic])
  out.consumed = await drain(first, RECORDS)
  first.commitSync(null)
  await sleep(300)
  out.committed = (await call((cb) => first.committed(null, 10000, cb)))
    .map((t) => [t.partition, t.offset]).sort((a, b) => a[0] - b[0])
  await call((cb) => first.disconnect(cb))
  send(RECORDS, RECORDS + 8)
  await call((cb) => producer.flush(20000, cb))
  const second = await groupConsumer(`${topic}-group`)
  second.subscribe([topic])
  out.resumed = (await drain(second, 8)).map((m) => m[3]).sort()
  await call((cb) => second.disconnect(cb))

  // Assigned, not subscribed: seek by timestamp (ListOffsets) and read from there.
  const wanted = [0, 1, 2, 3].map((partition) => ({ topic, partition, offset: STAMP + 1000 }))
  const assigned = await connected(new Kafka.KafkaConsumer({ ...common, 'group.id': `${topic}-assigned` }, {}))
  const found = await call((cb) => assigned.offsetsForTimes(wanted, 10000, cb))
  out.offsetsForTimes = found.map((t) => [t.partition, t.offset]).sort((a, b) => a[0] - b[0])
  assigned.assign(found.filter((t) => t.partition === 2))
  out.fromTimestamp = (await drain(assigned, 1))[0]
  await call((cb) => assigned.disconnect(cb))
  await call((cb) => producer.disconnect(cb))

  await call((cb) => admin.deleteTopic(topic, cb))
  out.deleteAgain = await codeOf(call((cb) => admin.deleteTopic(topic, cb)))
  admin.disconnect()
  console.log(JSON.stringify(out))
}

main().catch((e) => {
  console.error('failed:', e)
  process.exit(1)
})
