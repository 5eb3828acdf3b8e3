// Produce N records with @platformatic/kafka (pure JavaScript, newest protocol versions).
// Usage: node platformatic_produce.mjs BOOTSTRAP TOPIC CODEC N   (CODEC: none, gzip, snappy, lz4, zstd)
import { Producer, stringSerializers } from '@platformatic/kafka'

const [bootstrap, topic, codec, n] = process.argv.slice(2)
const producer = new Producer({
  clientId: 'fjord-golden-platformatic', bootstrapBrokers: [bootstrap], serializers: stringSerializers,
  timeout: 20000, retries: 2, autocreateTopics: false
})
const messages = []
for (let i = 0; i < Number(n); i++) {
  messages.push({ topic, key: `k${i}`, value: `platformatic-${codec}-${String(i).padStart(6, '0')}-` + 'x'.repeat(200),
                  headers: { h: 'v' } })
}
try {
  await producer.send({ messages, compression: codec, acks: -1 })
  await producer.close()
} catch (e) {
  console.error(e)
  process.exit(1)
}
