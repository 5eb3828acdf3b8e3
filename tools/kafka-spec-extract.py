#!/usr/bin/env python3
"""Turn Kafka's message definitions into Fjord's facts-only protocol spec.

Input: a directory of Apache Kafka `*.json` message definitions (JSON with `//`
line comments). Output: one JSON document holding, for every message, only the
facts the code generator needs: names, types, version ranges, nullable/tagged/
flexible metadata, defaults and common structs. Prose (`about`) and comments
are dropped.

Usage: kafka-spec-extract.py <messages-dir> <output.json>
"""
import json
import pathlib
import re
import sys

MESSAGE_KEYS = ["name", "type", "apiKey", "validVersions", "flexibleVersions",
                "listeners", "latestVersionUnstable"]
FIELD_KEYS = ["name", "type", "versions", "nullableVersions", "taggedVersions",
              "tag", "default", "ignorable", "mapKey", "flexibleVersions",
              "entityType", "zeroCopy"]
COMMENT_LINE = re.compile(r"^\s*//")


def load(path):
    text = "".join(l for l in path.read_text().splitlines(keepends=True)
                   if not COMMENT_LINE.match(l))
    return json.loads(text)


def facts_of_field(field):
    out = {k: field[k] for k in FIELD_KEYS if k in field}
    if "default" in out:
        # Kafka writes defaults both as JSON scalars and as strings; keep one form.
        d = out["default"]
        out["default"] = ("true" if d else "false") if isinstance(d, bool) else str(d)
    if "fields" in field:
        out["fields"] = [facts_of_field(f) for f in field["fields"]]
    return out


def facts_of_message(msg):
    out = {k: msg[k] for k in MESSAGE_KEYS if k in msg}
    out["fields"] = [facts_of_field(f) for f in msg.get("fields", [])]
    if "commonStructs" in msg:
        out["commonStructs"] = [
            {"name": s["name"], "versions": s["versions"],
             "fields": [facts_of_field(f) for f in s["fields"]]}
            for s in msg["commonStructs"]]
    return out


def main():
    src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    messages = [facts_of_message(load(p)) for p in sorted(src.glob("*.json"))]
    doc = {
        "source": "Apache Kafka 3.9.0 clients/src/main/resources/common/message (Apache-2.0)",
        "messages": messages,
    }
    dst.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"wrote {len(messages)} messages to {dst}")


if __name__ == "__main__":
    main()
