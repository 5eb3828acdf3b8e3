"""Every Kafka error code Fjord answers with, checked against a real client's own table
(confluent-kafka, librdkafka's codes): a wrong number in our enums would otherwise pass
any test that was written from the same wrong number."""
import pathlib
import re

from confluent_kafka import KafkaError

ROOT = pathlib.Path(__file__).resolve().parents[2]
# librdkafka's names where they differ from Kafka's
LIBRDKAFKA_NAME = {
    "UNKNOWN_SERVER_ERROR": "UNKNOWN",
    "NONE": "NO_ERROR",
    "CORRUPT_MESSAGE": "INVALID_MSG",
    "UNKNOWN_TOPIC_OR_PARTITION": "UNKNOWN_TOPIC_OR_PART",
    "NOT_LEADER_OR_FOLLOWER": "NOT_LEADER_FOR_PARTITION",
    "MESSAGE_TOO_LARGE": "MSG_SIZE_TOO_LARGE",
    "INVALID_TOPIC_EXCEPTION": "TOPIC_EXCEPTION",
}
# codes newer than Debian's librdkafka 2.0 knows (KIP-516, KIP-919)
NEWER = {"UNKNOWN_TOPIC_ID": 100, "MISMATCHED_ENDPOINT_TYPE": 114, "UNSUPPORTED_ENDPOINT_TYPE": 115}


def enum_values(path):
    text = (ROOT / path).read_text()
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper(): int(value)
            for name, value in re.findall(r"^\s+k(\w+) = (-?\d+),", text, re.M)}


def test_our_error_codes_are_kafkas():
    ours = {**enum_values("src/broker/kafka_errors.h"), **enum_values("src/group/coordinator.h")}
    assert len(ours) > 40
    wrong = {}
    for name, value in ours.items():
        expected = NEWER.get(name, getattr(KafkaError, LIBRDKAFKA_NAME.get(name, name), None))
        if expected != value:
            wrong[name] = (value, expected)
    assert wrong == {}
