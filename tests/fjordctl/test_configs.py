"""fjordctl config get | set on dynamic broker configs, cross-checked with confluent-kafka."""
from confluent_kafka.admin import AdminClient, ConfigResource


def broker_configs(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    res = ConfigResource(ConfigResource.Type.BROKER, "1")
    return list(admin.describe_configs([res]).values())[0].result(10)


def test_config_set_get_and_delete(broker, ctl):
    got = {c["name"]: c for c in ctl.json("config", "get")}
    assert "log.retention.ms" in got or "log.retention.hours" in got
    assert got["num.partitions"]["source"] in ("STATIC_BROKER_CONFIG", "DEFAULT_CONFIG")
    r = ctl.run("config", "set", "log.retention.ms=7200000", "--broker", "1")
    assert r.returncode == 0, r.stderr
    assert broker_configs(broker)["log.retention.ms"].value == "7200000"
    got = {c["name"]: c for c in ctl.json("config", "get", "log.retention.ms")}
    assert got["log.retention.ms"]["value"] == "7200000"
    assert got["log.retention.ms"]["source"] == "DYNAMIC_BROKER_CONFIG"
    assert ctl.run("config", "set", "log.retention.ms=").returncode == 0  # delete
    assert ctl.json("config", "get", "log.retention.ms")[0]["source"] != "DYNAMIC_BROKER_CONFIG"


def test_config_errors(broker, ctl):
    r = ctl.run("config", "set", "log.retention.ms=banana")
    assert r.returncode == 1 and b"INVALID_CONFIG" in r.stderr, r.stderr
    assert ctl.run("config", "set").returncode == 2
    assert ctl.run("config", "set", "noequals").returncode == 2
    assert ctl.run("config", "get", "--broker", "x").returncode == 2


def test_config_get_with_documentation(broker, ctl):
    got = ctl.json("config", "get", "--docs", "log.retention.ms", "num.partitions")
    docs = {c["name"]: c["documentation"] for c in got}
    assert docs["log.retention.ms"].startswith("Default of the topic config retention.ms. ")
    assert "Partitions of topics created without a count" in docs["num.partitions"]
    assert all("documentation" not in c for c in ctl.json("config", "get", "num.partitions"))
    r = ctl.run("config", "get", "--docs", "num.partitions")
    assert r.returncode == 0, r.stderr
    assert b"DOCUMENTATION" in r.stdout and b"Partitions of topics created without a count" in r.stdout


def test_config_loggers(broker, ctl):
    """--loggers: the node's log levels (BROKER_LOGGER), cross-checked with kafka-python's
    encoding of DescribeConfigs."""
    from kafka.protocol.admin import DescribeConfigsRequest_v1

    from conftest import broker_fixtures

    def described_level():
        request = DescribeConfigsRequest_v1(resources=[(8, "1", ["root"])], include_synonyms=False)
        (result,) = broker_fixtures.call(broker, request).resources
        return [(e[0], e[1]) for e in result[4]]

    assert ctl.json("config", "get", "--loggers") == [
        {"name": "root", "value": "INFO", "source": "DYNAMIC_BROKER_LOGGER_CONFIG", "read_only": False}]
    r = ctl.run("config", "set", "--loggers", "root=DEBUG")
    assert r.returncode == 0 and b"broker 1: 1 logger level(s) altered" in r.stdout, r.stderr
    assert described_level() == [("root", "DEBUG")]
    r = ctl.run("config", "get", "--loggers")
    assert r.returncode == 0 and b"LOGGER" in r.stdout and b"DEBUG" in r.stdout, r.stdout
    r = ctl.run("config", "set", "--loggers", "root=LOUD")
    assert r.returncode == 1 and b"INVALID_CONFIG" in r.stderr, r.stderr
    r = ctl.run("config", "set", "--loggers", "root=")  # Kafka keeps the root logger's level
    assert r.returncode == 1 and b"INVALID_REQUEST" in r.stderr, r.stderr
    assert ctl.run("config", "get", "--loggers", "--cluster").returncode == 2
    assert ctl.run("config", "set", "--loggers", "root=INFO").returncode == 0
    assert described_level() == [("root", "INFO")]
