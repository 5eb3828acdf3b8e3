// kafkajs's admin, producer and consumer on one topic; prints what each saw as JSON.
// Usage: node kafkajs_admin.js BOOTSTRAP TOPIC
const { Kafka, ConfigResourceTypes, logLevel } = require('kafkajs');

const [bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({
  clientId: 'fjord-test-kafkajs', brokers: [bootstrap], logLevel: logLevel.NOTHING,
  retry: { retries: 2 }, requestTimeout: 20000,
});

const retentionMs = async (admin) => {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
  });
  return resources[0].configEntries.find((e) => e.configName === 'retention.ms').configValue;
};

(async () => {
  const out = {};
  const admin = kafka.admin();
  await admin.connect();
  out.created = await admin.createTopics({
    topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'retention.ms', value: '3600000' }] }],
  });
  out.again = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });  // false: it exists
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  out.partitions = topics[0].partitions.map((p) => p.partitionId).sort();
  out.retention = [await retentionMs(admin)];
  await admin.alterConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '7200000' }] }],
  });
  out.retention.push(await retentionMs(admin));

  const base = Date.now() - 600000;
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({
    topic, messages: Array.from({ length: 10 }, (_, i) => ({
      partition: 1, value: `at-${i}`, timestamp: String(base + 1000 * i),
    })),
  });
  await producer.disconnect();
  out.byTime = await admin.fetchTopicOffsetsByTimestamp(topic, base + 2500);
  out.latest = await admin.fetchTopicOffsets(topic);

  // A consumer that starts where the timestamp lookup pointed (seek) and reads to the end.
  const start = out.byTime.find((p) => p.partition === 1).offset;
  const consumer = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10000 });
  await consumer.connect();
  await consumer.subscribe({ topic });
  out.consumed = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${out.consumed.length}`)), 60000);
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        out.consumed.push([partition, Number(message.offset), message.value.toString()]);
        if (out.consumed.length === 10 - Number(start)) { clearTimeout(timer); resolve(); }
      },
    }).then(() => consumer.seek({ topic, partition: 1, offset: start })).catch(reject);
  });
  await consumer.disconnect();

  await admin.deleteTopics({ topics: [topic] });
  out.listed = (await admin.listTopics()).includes(topic);
  await admin.disconnect();
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
