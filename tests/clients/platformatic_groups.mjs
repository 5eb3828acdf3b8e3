// Group admin APIs through @platformatic/kafka (newest versions: OffsetCommit v9,
// OffsetFetch v9 multi-group, ListGroups v5, DescribeGroups v5, OffsetDelete, DeleteGroups).
// Usage: node --import node-shims.mjs platformatic_groups.mjs BOOTSTRAP
import { Admin } from '@platformatic/kafka'

const [bootstrap] = process.argv.slice(2)
const admin = new Admin({ clientId: 'fjord-groups-test', bootstrapBrokers: [bootstrap], timeout: 20000 })
const out = {}
const offsets = async (groups) => (await admin.listConsumerGroupOffsets({ groups })).map((g) => ({
  group: g.groupId,
  offsets: g.topics.flatMap((t) => t.partitions.map((p) => [t.name, p.partitionIndex, Number(p.committedOffset)]))
}))
try {
  await admin.createTopics({ topics: ['pg'], partitions: 2, replicas: 1 })
  for (const [group, base] of [['pg-a', 10], ['pg-b', 20]]) {
    await admin.alterConsumerGroupOffsets({
      groupId: group,
      topics: [{ name: 'pg', partitionOffsets: [{ partition: 0, offset: BigInt(base) }, { partition: 1, offset: BigInt(base + 1) }] }]
    })
  }
  out.offsets = await offsets(['pg-a', 'pg-b'])
  out.listed = [...(await admin.listGroups()).keys()].sort()
  out.listedEmpty = [...(await admin.listGroups({ states: ['Empty'] })).keys()].sort()
  out.listedStable = [...(await admin.listGroups({ states: ['Stable'] })).keys()].sort()
  const described = await admin.describeGroups({ groups: ['pg-a', 'nobody'] })
  out.described = [...described.values()].map((g) => [g.id, g.state]).sort()
  await admin.deleteConsumerGroupOffsets({ groupId: 'pg-a', topics: [{ name: 'pg', partitionIndexes: [0] }] })
  out.afterOffsetDelete = await offsets(['pg-a'])
  await admin.deleteGroups({ groups: ['pg-b'] })
  out.afterDelete = [...(await admin.listGroups()).keys()].sort()
  await admin.close()
  console.log(JSON.stringify(out))
} catch (e) {
  console.error(e)
  process.exit(1)
}
