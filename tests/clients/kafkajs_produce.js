// Produce N records with kafkajs and wait for the ack.
// Usage: node kafkajs_produce.js BOOTSTRAP TOPIC CODEC N   (CODEC: none or gzip)
const { Kafka, CompressionTypes, logLevel } = require('kafkajs');

const [bootstrap, topic, codec, n] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'fjord-golden-kafkajs', brokers: [bootstrap], logLevel: logLevel.ERROR,
  retry: { retries: 2 }, requestTimeout: 20000,
});

(async () => {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const messages = [];
  for (let i = 0; i < Number(n); i++) {
    messages.push({ key: `k${i}`, value: `kafkajs-${codec}-${String(i).padStart(6, '0')}-` + 'x'.repeat(200),
                    headers: { h: 'v' } });
  }
  await producer.send({ topic, messages,
                        compression: codec === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None });
  await producer.disconnect();
})().catch((e) => { console.error(e); process.exit(1); });
