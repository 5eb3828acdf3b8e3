// Admin APIs through @platformatic/kafka (pure JavaScript, newest versions), printed
// as one JSON object for tests/broker/test_admin_apis.py to check.
// Usage: node --import node-shims.mjs platformatic_admin.mjs BOOTSTRAP TOPIC
import {
  Admin, Connection, Producer, stringSerializers, createTopicsV7, deleteTopicsV6, describeClusterV1, describeGroupsV5,
  describeProducersV0, describeTopicPartitionsV0, fetchV17, initProducerIdV5, listOffsetsV9, metadataV8,
  metadataV12, offsetForLeaderEpochV4
} from '@platformatic/kafka'

const [bootstrap, topic] = process.argv.slice(2)
const [host, port] = bootstrap.split(':')
const TOPIC = 2, BROKER = 4
const SET = 0, DELETE = 1, APPEND = 2, SUBTRACT = 3
const out = {}
const admin = new Admin({ clientId: 'fjord-admin-test', bootstrapBrokers: [bootstrap], timeout: 20000 })
// The Kafka error code inside the client's nested error objects.
const codeOf = (e) => {
  if (!e || typeof e !== 'object') return undefined
  if (typeof e.apiCode === 'number') return e.apiCode
  for (const inner of [...(Array.isArray(e.errors) ? e.errors : []), e.cause]) {
    const code = codeOf(inner)
    if (code !== undefined) return code
  }
  return undefined
}
try {
  const [created] = await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 })
  out.createdConfiguration = created.configuration
  const producer = new Producer({
    clientId: 'fjord-admin-test', bootstrapBrokers: [bootstrap], serializers: stringSerializers,
    idempotent: true, autocreateTopics: false
  })
  await producer.send({ messages: [0, 1, 2, 3].map((i) => ({ topic, partition: 0, key: 'k', value: `v${i}` })), acks: -1 })
  // Partition 1 gets two batches whose newest record is neither batch's last.
  for (const stamps of [[1000n, 5000n, 3000n], [4000n, 5000n]]) {
    await producer.send({ messages: stamps.map((timestamp) => ({ topic, partition: 1, value: 't', timestamp })), acks: -1 })
  }
  await producer.close()

  // ListOffsets: latest (-1), earliest (-2), max timestamp (-3, KIP-734), earliest local
  // (-4, KIP-405) and latest tiered (-5, KIP-1005: nothing is tiered yet), by timestamp;
  // one call each, as a partition asked for twice in one request is refused.
  const listOffsets = (...timestamps) => admin.listOffsets({
    topics: [{ name: topic, partitions: timestamps.map((timestamp) => ({ partitionIndex: 1, timestamp })) }]
  })
  out.listOffsets = []
  for (const timestamp of [-1n, -2n, -3n, -4n, -5n, 2000n, 9000n]) {
    const [p] = (await listOffsets(timestamp))[0].partitions
    out.listOffsets.push([Number(p.offset), Number(p.timestamp), p.leaderEpoch])
  }
  try {
    await listOffsets(-1n, -3n)
    out.listOffsetsTwice = 'accepted'
  } catch (e) {
    out.listOffsetsTwice = codeOf(e) ?? String(e)
  }

  await admin.incrementalAlterConfigs({
    resources: [{
      resourceType: TOPIC, resourceName: topic, configs: [
        { name: 'retention.ms', configOperation: SET, value: '60000' },
        { name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }]
    }]
  })
  const described = async () => {
    const [d] = await admin.describeConfigs({
      resources: [{ resourceType: TOPIC, resourceName: topic, configurationKeys: ['retention.ms', 'cleanup.policy'] }]
    })
    return Object.fromEntries(d.configs.map((c) => [c.name, [c.value, c.configSource]]))
  }
  out.afterSet = await described()
  await admin.incrementalAlterConfigs({
    resources: [{
      resourceType: TOPIC, resourceName: topic, configs: [
        { name: 'retention.ms', configOperation: DELETE },
        { name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }]
    }]
  })
  out.afterDelete = await described()
  try {
    await admin.incrementalAlterConfigs({
      resources: [{ resourceType: TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] }]
    })
    out.appendToScalar = 'accepted'
  } catch (e) {
    out.appendToScalar = codeOf(e) ?? String(e)
  }

  const dirs = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0, 1, 2] }] })
  const dir = dirs[0].results[0]
  out.logDir = {
    path: dir.logDir, total: Number(dir.totalBytes), usable: Number(dir.usableBytes),
    partitions: dir.topics[0].partitions.map((p) => [p.partitionIndex, Number(p.partitionSize)])
  }

  const conn = new Connection('fjord-admin-test')
  await conn.connect(host, Number(port))
  // CreateTopics v7 (validate only, and for real) with one config set: every config of
  // the new topic comes back with its value and source, as from Kafka's controller.
  out.createTopicsV7 = {}
  for (const validateOnly of [true, false]) {
    const r = await createTopicsV7.api.async(conn, [{
      name: `${topic}-v7`, numPartitions: 2, replicationFactor: 1, assignments: [],
      configs: [{ name: 'retention.ms', value: '60000' }]
    }], 10000, validateOnly)
    const t = r.topics[0]
    out.createTopicsV7[validateOnly ? 'validateOnly' : 'created'] = {
      errorCode: t.errorCode, errorMessage: t.errorMessage, partitions: t.numPartitions,
      configs: Object.fromEntries(t.configs.map((c) => [c.name, [c.value, c.configSource, c.readOnly, c.isSensitive]]))
    }
  }
  await deleteTopicsV6.api.async(conn, [{ name: `${topic}-v7`, topicId: null }], 10000)
  // DescribeConfigs v4 with each config's documentation asked for, and not, for the
  // topic and this node.
  const nodeId = String((await describeClusterV1.api.async(conn, false, 1)).brokers[0].brokerId)
  out.documentation = {}
  for (const asked of [true, false]) {
    const results = await admin.describeConfigs({
      resources: [{ resourceType: TOPIC, resourceName: topic }, { resourceType: BROKER, resourceName: nodeId }],
      includeDocumentation: asked
    })
    out.documentation[asked ? 'asked' : 'notAsked'] =
      results.map((r) => Object.fromEntries(r.configs.map((c) => [c.name, c.documentation])))
  }
  // BROKER_LOGGER (8): the levels, and changes through IncrementalAlterConfigs.
  const BROKER_LOGGER = 8
  const loggers = async () => {
    const [d] = await admin.describeConfigs({ resources: [{ resourceType: BROKER_LOGGER, resourceName: nodeId }] })
    return d.configs.map((c) => [c.name, c.value, c.configSource, c.readOnly])
  }
  const setLoggers = async (configs) => {
    try {
      await admin.incrementalAlterConfigs({ resources: [{ resourceType: BROKER_LOGGER, resourceName: nodeId, configs }] })
      return 0
    } catch (e) {
      return codeOf(e) ?? String(e)
    }
  }
  out.loggers = { before: await loggers() }
  out.loggers.setWarn = await setLoggers([{ name: 'root', configOperation: SET, value: 'WARN' }])
  out.loggers.afterWarn = await loggers()
  out.loggers.badLevel = await setLoggers([{ name: 'root', configOperation: SET, value: 'LOUD' }])
  out.loggers.unknownLogger = await setLoggers([{ name: 'kafka.server', configOperation: SET, value: 'DEBUG' }])
  out.loggers.append = await setLoggers([{ name: 'root', configOperation: APPEND, value: 'DEBUG' }])
  out.loggers.deleteRoot = await setLoggers([{ name: 'root', configOperation: DELETE }])
  out.loggers.setInfo = await setLoggers([{ name: 'root', configOperation: SET, value: 'INFO' }])
  out.loggers.afterInfo = await loggers()
  const producers = await describeProducersV0.api.async(conn, [{ name: topic, partitionIndexes: [0] }])
  out.producers = producers.topics[0].partitions[0].activeProducers.map((p) => ({
    id: Number(p.producerId), epoch: p.producerEpoch, lastSequence: p.lastSequence
  }))
  const dtp = await describeTopicPartitionsV0.api.async(conn, [{ name: topic }], 2, null)
  try {
    await describeTopicPartitionsV0.api.async(conn, [{ name: 'no-such-topic' }], 10, null)
    out.unknownTopic = 'accepted'
  } catch (e) {
    out.unknownTopic = codeOf(e)
  }
  out.describeTopicPartitions = {
    topics: dtp.topics.map((t) => [t.name, t.errorCode, t.partitions.map((p) => p.partitionIndex)]),
    cursor: dtp.nextCursor ? [dtp.nextCursor.topicName, dtp.nextCursor.partitionIndex] : null
  }
  // DeleteTopics v6 entries Kafka's controller cannot read (a name and an id, neither,
  // an id twice): each refused, nothing deleted.
  const id = dtp.topics[0].topicId
  const unknownId = '0123abcd-0123-4567-89ab-0123456789ab'
  try {
    await deleteTopicsV6.api.async(conn, [
      { name: topic, topicId: id }, { name: null, topicId: null },
      { name: null, topicId: unknownId }, { name: null, topicId: unknownId }], 10000)
    out.deleteTopicsV6 = 'accepted'
  } catch (e) {
    out.deleteTopicsV6 = (e.response?.responses ?? []).map((r) => [r.name, r.errorCode, r.errorMessage])
  }
  // Metadata v12 by topic id (KIP-516): a known id gets its topic, an unknown one
  // UNKNOWN_TOPIC_ID and no name, as Kafka answers.
  const byId = await metadataV12.api.async(conn, [{ topicId: id }], false, false)
  out.metadataById = byId.topics.map((t) => [t.name, t.topicId === id, t.errorCode, t.partitions.length])
  try {
    await metadataV12.api.async(conn, [{ topicId: unknownId }], false, false)
    out.metadataByUnknownId = 'accepted'
  } catch (e) {
    out.metadataByUnknownId = (e.response?.topics ?? []).map((t) => [t.name, t.topicId, t.errorCode])
  }
  // The same topic by its name in one entry and by its id in another.
  try {
    await deleteTopicsV6.api.async(conn, [{ name: topic, topicId: null }, { name: null, topicId: id }], 10000)
    out.deleteByNameAndId = 'accepted'
  } catch (e) {
    out.deleteByNameAndId = (e.response?.responses ?? []).map((r) => [r.name, r.topicId === id, r.errorCode, r.errorMessage])
  }
  out.stillThere = (await describeTopicPartitionsV0.api.async(conn, [{ name: topic }], 10, null)).topics[0].errorCode
  // Authorized operations (no authorizer: all a resource type supports), each asked for
  // and not.
  out.authorizedOperations = { describeTopicPartitions: dtp.topics[0].topicAuthorizedOperations }
  for (const asked of [true, false]) {
    const m8 = await metadataV8.api.async(conn, [topic], false, asked, asked)
    const m12 = await metadataV12.api.async(conn, [topic], false, asked)
    const cluster = await describeClusterV1.api.async(conn, asked, 1)
    const groups = await describeGroupsV5.api.async(conn, ['no-such-group'], asked)
    out.authorizedOperations[asked ? 'asked' : 'notAsked'] = [
      m8.topics[0].topicAuthorizedOperations, m8.clusterAuthorizedOperations,
      m12.topics[0].topicAuthorizedOperations, cluster.clusterAuthorizedOperations,
      groups.groups[0].authorizedOperations]
  }
  // DescribeCluster v1 for controllers (KIP-919) or an unknown endpoint type, on a broker's listener.
  out.describeClusterEndpoints = {}
  for (const endpointType of [2, 3]) {
    try {
      await describeClusterV1.api.async(conn, false, endpointType)
      out.describeClusterEndpoints[endpointType] = 'accepted'
    } catch (e) {
      const r = e.response ?? {}
      out.describeClusterEndpoints[endpointType] = [r.errorCode, r.errorMessage, r.brokers?.length]
    }
  }
  const epochs = await offsetForLeaderEpochV4.api.async(conn, -1, [{
    name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }]
  }])
  const e = epochs.topics[0].partitions[0]
  out.offsetForLeaderEpoch = [e.errorCode, e.leaderEpoch, Number(e.endOffset)]
  // Leader epochs in Fetch v17 and ListOffsets v9 (KIP-320, KIP-595): the epoch the
  // client last saw checked, and where the epoch of its last fetched record ended.
  // Each answer: [error, high watermark, diverging {epoch, end offset} or null, batches].
  const fetchOne = async (partition, currentLeaderEpoch, fetchOffset, lastFetchedEpoch) => {
    let r
    try {
      r = await fetchV17.api.async(conn, 0, 0, 1 << 20, 0, 0, -1, [{
        topicId: id,
        partitions: [{ partition, currentLeaderEpoch, fetchOffset, lastFetchedEpoch, partitionMaxBytes: 1 << 20 }]
      }], [], '')
    } catch (e) {
      r = e.response
    }
    const p = r.responses[0].partitions[0]
    const d = p.divergingEpoch
    return [p.errorCode, Number(p.highWatermark), d.epoch === -1 ? null : [d.epoch, Number(d.endOffset)],
      (p.records ?? []).length]
  }
  out.fetchEpochs = {
    aheadOfLeader: await fetchOne(0, 1, 0n, -1),
    sameEpoch: await fetchOne(0, 0, 2n, 0),
    pastEpochEnd: await fetchOne(0, 0, 9n, 0),
    pastLogEnd: await fetchOne(0, 0, 9n, -1),
    unknownEpoch: await fetchOne(0, -1, 2n, 3),
    emptyPartition: await fetchOne(2, 0, 0n, 0)
  }
  out.listOffsetsEpochs = {}
  for (const [name, currentLeaderEpoch] of [['same', 0], ['ahead', 1], ['none', -1]]) {
    let r
    try {
      r = await listOffsetsV9.api.async(conn, -1, 0, [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch, timestamp: -1n }] }])
    } catch (e) {
      r = e.response
    }
    const p = r.topics[0].partitions[0]
    out.listOffsetsEpochs[name] = [p.errorCode, Number(p.offset), p.leaderEpoch]
  }
  // InitProducerId v5 (KIP-360) without a transactional id: a producer id and epoch
  // both or neither; a new id at epoch 0 either way.
  out.initProducerId = {}
  for (const [name, producerId, producerEpoch] of [['neither', -1n, -1], ['idOnly', 5n, -1], ['epochOnly', -1n, 3],
    ['both', 5n, 3]]) {
    try {
      const r = await initProducerIdV5.api.async(conn, null, 60000, producerId, producerEpoch)
      out.initProducerId[name] = [r.errorCode, r.producerId >= 0n && r.producerId !== 5n, r.producerEpoch]
    } catch (e) {
      out.initProducerId[name] = [e.response?.errorCode, e.response?.producerId === -1n, e.response?.producerEpoch]
    }
  }
  // ACLs (v3, flexible): Kafka without an authorizer refuses each call with SECURITY_DISABLED.
  const acl = { resourceType: 2, resourceName: topic, resourcePatternType: 3, principal: 'User:alice', host: '*',
    operation: 3, permissionType: 3 }
  out.acls = {}
  for (const [name, call] of [['describe', () => admin.describeAcls({ filter: acl })],
    ['create', () => admin.createAcls({ creations: [acl] })], ['delete', () => admin.deleteAcls({ filters: [acl] })]]) {
    try {
      await call()
      out.acls[name] = 'accepted'
    } catch (e) {
      out.acls[name] = codeOf(e) ?? String(e)
    }
  }
  await conn.close()
  await admin.close()
  console.log(JSON.stringify(out))
} catch (e) {
  console.error(e)
  process.exit(1)
}
