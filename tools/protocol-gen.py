#!/usr/bin/env python3
"""Generate C++ message types and codecs from Fjord's facts-only Kafka spec.

Usage: protocol-gen.py [--list] <spec.json> <out-dir>

With --list, prints the files it would write (';'-separated) and writes nothing.

Emits, under <out-dir>/fjord_protocol/:
  messages/<message>.h        one struct per message and per nested struct, with
                              Read(Reader&, version) / Write(Writer&, version)
  messages/<api>.cc           the codecs of one request/response pair (or one data message)
  messages.h                  includes every message header
  api_table.h / api_table.cc  api keys, names, version ranges, header versions, and a
                              type-erased decode/round-trip dispatch used by tests and fuzzers
  sample_fill.h / .cc         (tests only) fills any message with non-default values for a version

The generated code is version-generic: each field checks the version at run time,
as Kafka's own generated code does, which keeps the output small.
"""
import json
import pathlib
import re
import sys

MAXV = 0x7FFF
CPP_KEYWORDS = {"default", "class", "operator", "register", "template", "delete",
                "new", "this", "union", "private", "public", "protected", "namespace",
                "auto", "bool", "char", "const", "continue", "do", "double", "else",
                "enum", "explicit", "export", "extern", "false", "float", "for",
                "friend", "goto", "if", "inline", "int", "long", "mutable", "return",
                "short", "signed", "sizeof", "static", "struct", "switch", "true",
                "try", "typedef", "typename", "unsigned", "using", "virtual", "void",
                "volatile", "while", "throw", "catch", "case", "break", "errno"}
PRIMS = {
    # type: (c++ type, reader call, writer call, fixed size)
    "bool": ("bool", "Bool", "Bool", 1),
    "int8": ("int8_t", "Int8", "Int8", 1),
    "int16": ("int16_t", "Int16", "Int16", 2),
    "uint16": ("uint16_t", "Uint16", "Uint16", 2),
    "int32": ("int32_t", "Int32", "Int32", 4),
    "uint32": ("uint32_t", "Uint32", "Uint32", 4),
    "int64": ("int64_t", "Int64", "Int64", 8),
    "float64": ("BitwiseDouble", "Float64", "Float64", 8),
    "uuid": ("Uuid", "ReadUuid", "WriteUuid", 16),
}
INT_BITS = {"int8": 8, "int16": 16, "int32": 32, "int64": 64, "uint16": 16, "uint32": 32}


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def member(name):
    s = snake(name)
    return s + "_" if s in CPP_KEYWORDS else s


def parse_range(spec):
    if spec is None or spec == "none":
        return (1, 0)
    if spec.endswith("+"):
        return (int(spec[:-1]), MAXV)
    if "-" in spec:
        a, b = spec.split("-")
        return (int(a), int(b))
    return (int(spec), int(spec))


def intersect(a, b):
    return (max(a[0], b[0]), min(a[1], b[1]))


def empty(r):
    return r[0] > r[1]


def cond(r, valid):
    """C++ condition that version v lies in r, given v already lies in valid."""
    if empty(intersect(r, valid)):
        return "false"
    parts = []
    if r[0] > valid[0]:
        parts.append(f"v >= {r[0]}")
    if r[1] < valid[1]:
        parts.append(f"v <= {r[1]}")
    return " && ".join(parts) if parts else "true"


class Field:
    def __init__(self, d, msg):
        self.name = d["name"]
        self.type = d["type"]
        self.member = member(self.name)
        self.versions = parse_range(d["versions"])
        self.nullable = parse_range(d.get("nullableVersions"))
        self.tag = d.get("tag")
        self.default = d.get("default")
        self.ignorable = d.get("ignorable", False)
        self.flex_override = parse_range(d["flexibleVersions"]) if "flexibleVersions" in d else None
        self.is_array = self.type.startswith("[]")
        self.elem = self.type[2:] if self.is_array else self.type
        self.elem_is_struct = self.elem not in PRIMS and self.elem not in ("string", "bytes", "records")
        self.has_null = not empty(self.nullable)
        self.children = d.get("fields")


class Struct:
    def __init__(self, name, fields, msg):
        self.name = name
        self.fields = fields


class Message:
    def __init__(self, d):
        self.name = d["name"]
        self.kind = d["type"]
        self.api_key = d.get("apiKey")
        self.valid = parse_range(d["validVersions"])
        self.flex = parse_range(d["flexibleVersions"])
        self.listeners = d.get("listeners", [])
        self.unstable = d.get("latestVersionUnstable", False)
        self.ns = snake(self.name)
        self.structs = {}  # name -> Struct
        self.order = []  # emission order, dependencies first
        common = {c["name"]: c for c in d.get("commonStructs", [])}
        self.common_defs = common
        self.root = self._build(self.name, d["fields"])
        for cname in common:
            if cname not in self.structs:
                self._build(cname, common[cname]["fields"])

    def _build(self, name, field_dicts):
        fields = [Field(f, self) for f in field_dicts]
        for f in fields:
            if f.elem_is_struct:
                if f.children is not None:
                    if f.elem in self.structs:
                        raise SystemExit(f"{self.name}: struct {f.elem} defined twice")
                    self._build(f.elem, f.children)
                elif f.elem not in self.structs:
                    if f.elem not in self.common_defs:
                        raise SystemExit(f"{self.name}: unknown struct {f.elem}")
                    self._build(f.elem, self.common_defs[f.elem]["fields"])
        s = Struct(name, fields, self)
        self.structs[name] = s
        self.order.append(s)
        return s

    def flex_min(self):
        return MAXV if empty(self.flex) else self.flex[0]


def int_literal(value, t):
    v = int(value, 0)
    bits = INT_BITS[t]
    if t.startswith("int") and v >= 2 ** (bits - 1):
        v -= 2 ** bits  # hex defaults such as 0xffff... are two's complement
    if t.startswith("int") and v == -(2 ** (bits - 1)):
        return f"std::numeric_limits<{PRIMS[t][0]}>::min()"
    if t == "int64":
        return f"INT64_C({v})"
    return str(v)


def cpp_type(f):
    if f.is_array:
        if f.elem in PRIMS:
            inner = PRIMS[f.elem][0]
        elif f.elem == "string":
            inner = "std::string"
        else:
            inner = f.elem
        t = f"std::vector<{inner}>"
    elif f.type in PRIMS:
        return PRIMS[f.type][0]
    elif f.type == "string":
        t = "std::string"
    elif f.type in ("bytes", "records"):
        t = "ByteView"
    else:
        t = f.type
    if f.has_null or f.type == "records":
        t = f"std::optional<{t}>"
    return t


def default_init(f):
    """Initializer for a member, or '' for value-initialisation."""
    d = f.default
    if f.is_array:
        if d == "null":
            return "std::nullopt"
        return "std::vector<" + cpp_type(f)[len("std::optional<std::vector<"):-2] + ">{}" if f.has_null else ""
    if f.type in INT_BITS:
        return int_literal(d, f.type) if d not in (None, "") else "0"
    if f.type == "bool":
        return "true" if d == "true" else "false"
    if f.type == "float64":
        return str(float(d)) if d else "0.0"
    if f.type == "uuid":
        return ""
    if f.type == "string":
        if d == "null":
            return "std::nullopt"
        lit = json.dumps(d or "")
        return f"std::string({lit})" if f.has_null else (lit if d else "")
    if f.type == "bytes":
        if d == "null":
            return "std::nullopt"
        return "ByteView()" if f.has_null else ""
    if f.type == "records":
        return "std::nullopt"
    # struct
    if d == "null":
        return "std::nullopt"
    return f"{f.type}()" if f.has_null else ""


def min_size(msg, struct, v, memo):
    key = (struct.name, v)
    if key in memo:
        return memo[key]
    memo[key] = 0
    flex = msg.flex[0] <= v <= msg.flex[1]
    n = 1 if flex else 0
    for f in struct.fields:
        if not (f.versions[0] <= v <= f.versions[1]) or f.tag is not None:
            continue
        compact = flex if f.flex_override is None else f.flex_override[0] <= v <= f.flex_override[1]
        if f.is_array:
            n += 1 if compact else 4
        elif f.type in PRIMS:
            n += PRIMS[f.type][3]
        elif f.type == "string":
            n += 1 if compact else 2
        elif f.type in ("bytes", "records"):
            n += 1 if compact else 4
        else:
            nullable_here = f.nullable[0] <= v <= f.nullable[1]
            n += 1 if nullable_here else min_size(msg, msg.structs[f.type], v, memo)
    memo[key] = n
    return n


class Gen:
    def __init__(self, msg):
        self.m = msg
        self.valid = msg.valid

    def compact_expr(self, f):
        if f.flex_override is not None:
            return cond(f.flex_override, self.valid)
        return "flex"

    def nullable_expr(self, f):
        return cond(f.nullable, self.valid)

    # ---- reading -------------------------------------------------------
    def read_value(self, f, r, target, compact):
        """Statements reading field f from reader r into lvalue target."""
        nm = json.dumps(f.name)
        nl = self.nullable_expr(f)
        out = []
        if f.is_array:
            if f.elem in PRIMS:
                per = PRIMS[f.elem][3]
            elif f.elem == "string":
                per = f"({compact} ? 1 : 2)"
            else:
                per = f"{f.elem}::MinSize(v)"
            out.append(f"int32_t n = {r}.ArrayLength({compact}, {nl}, {per}, {nm});")
            if f.has_null:
                out.append(f"if (n < 0) {{ {target}.reset(); }} else {{")
                vec = f"(*{target})"
                out.append(f"  {target}.emplace();")
            else:
                out.append("{")
                vec = target
            out.append(f"  {vec}.reserve(static_cast<size_t>(n));")
            out.append(f"  for (int32_t i = 0; i < n && {r}.ok(); ++i) {{")
            if f.elem in PRIMS:
                out.append(f"    {vec}.push_back({r}.{PRIMS[f.elem][1]}());")
            elif f.elem == "string":
                out.append(f"    {vec}.push_back({r}.String({compact}, {nm}));")
            else:
                out.append(f"    {vec}.emplace_back().Read({r}, v);")
            out.append("  }")
            out.append("}")
        elif f.type in PRIMS:
            out.append(f"{target} = {r}.{PRIMS[f.type][1]}();")
        elif f.type == "string":
            if f.has_null:
                out.append(f"{target} = {r}.NullableString({compact}, {nl}, {nm});")
            else:
                out.append(f"{target} = {r}.String({compact}, {nm});")
        elif f.type in ("bytes", "records"):
            if f.has_null or f.type == "records":
                out.append(f"{target} = {r}.NullableBytes({compact}, {nl}, {nm});")
            else:
                out.append(f"{target} = {r}.Bytes({compact}, {nm});")
        else:
            if f.has_null:
                out.append(f"if (({nl}) && {r}.Int8() < 0) {{ {target}.reset(); }} else {{ {target}.emplace().Read({r}, v); }}")
            else:
                out.append(f"{target}.Read({r}, v);")
        return out

    # ---- writing -------------------------------------------------------
    def write_value(self, f, w, src, compact):
        nm = json.dumps(f.name)
        nl = self.nullable_expr(f)
        out = []
        if f.is_array:
            if f.has_null:
                out.append(f"if (!{src}) {{ {w}.NullArray({compact}, {nl}, {nm}); }} else {{")
                vec = f"(*{src})"
            else:
                out.append("{")
                vec = src
            out.append(f"  {w}.ArrayLength({compact}, {vec}.size());")
            out.append(f"  for (const auto& e : {vec}) {{")
            if f.elem in PRIMS:
                out.append(f"    {w}.{PRIMS[f.elem][2]}(e);")
            elif f.elem == "string":
                out.append(f"    {w}.String({compact}, e);")
            else:
                out.append(f"    e.Write({w}, v);")
            out.append("  }")
            out.append("}")
        elif f.type in PRIMS:
            out.append(f"{w}.{PRIMS[f.type][2]}({src});")
        elif f.type == "string":
            if f.has_null:
                out.append(f"{w}.NullableString({compact}, {nl}, {src}, {nm});")
            else:
                out.append(f"{w}.String({compact}, {src});")
        elif f.type in ("bytes", "records"):
            if f.has_null or f.type == "records":
                out.append(f"{w}.NullableBytes({compact}, {nl}, {src}, {nm});")
            else:
                out.append(f"{w}.Bytes({compact}, {src});")
        else:
            if f.has_null:
                out.append(f"if (!{src}) {{ if ({nl}) {{ {w}.Int8(-1); }} else {{ {w}.Fail({json.dumps(f.name + ': null in a non-nullable version')}); }} }}")
                out.append(f"else {{ if ({nl}) {{ {w}.Int8(1); }} {src}->Write({w}, v); }}")
            else:
                out.append(f"{src}.Write({w}, v);")
        return out

    def is_default_expr(self, f):
        init = default_init(f)
        t = cpp_type(f)
        if init == "":
            return f"{f.member} == {t}{{}}"
        if init == "std::nullopt":
            return f"!{f.member}.has_value()"
        return f"{f.member} == {t}({init})"

    # ---- struct ----------------------------------------------------------
    def struct_decl(self, s, is_root):
        m = self.m
        lines = [f"struct {s.name} {{"]
        if is_root:
            lines.append(f"  static constexpr const char* kName = {json.dumps(m.name)};")
            if m.api_key is not None:
                lines.append(f"  static constexpr int16_t kApiKey = {m.api_key};")
            lines.append(f"  static constexpr int16_t kMinVersion = {m.valid[0]};")
            lines.append(f"  static constexpr int16_t kMaxVersion = {m.valid[1]};")
            lines.append(f"  static constexpr int16_t kFlexibleMinVersion = {m.flex_min()};")
        for f in s.fields:
            init = default_init(f)
            lines.append(f"  {cpp_type(f)} {f.member}" + (f" = {init};" if init else "{};"))
        lines.append("  UnknownTags unknown_tags;")
        lines.append("")
        lines.append("  void Read(Reader& r, int16_t v);")
        lines.append("  void Write(Writer& w, int16_t v) const;")
        lines.append("  // Fewest bytes an encoding at version v can take (bounds array counts).")
        lines.append("  static size_t MinSize(int16_t v);")
        lines.append(f"  friend bool operator==(const {s.name}&, const {s.name}&) = default;")
        lines.append("};")
        return lines

    def struct_impl(self, s):
        m = self.m
        q = f"{s.name}"
        fixed = [f for f in s.fields if f.tag is None]
        tagged = sorted([f for f in s.fields if f.tag is not None], key=lambda f: f.tag)
        out = []
        # MinSize table
        memo = {}
        sizes = [min_size(m, s, v, memo) for v in range(m.valid[0], m.valid[1] + 1)]
        out.append(f"size_t {q}::MinSize(int16_t v) {{")
        out.append(f"  static constexpr uint16_t kSizes[] = {{{', '.join(map(str, sizes))}}};")
        out.append(f"  return (v >= {m.valid[0]} && v <= {m.valid[1]}) ? kSizes[v - {m.valid[0]}] : 0;")
        out.append("}")
        out.append("")
        # Read
        out.append(f"void {q}::Read(Reader& r, int16_t v) {{")
        out.append("  [[maybe_unused]] const bool flex = v >= kFlexibleMin;")
        for f in fixed:
            c = cond(f.versions, self.valid)
            if c == "false":
                continue
            body = self.read_value(f, "r", f.member, self.compact_expr(f))
            out.append(f"  if ({c}) {{" if c != "true" else "  {")
            out += ["    " + b for b in body]
            out.append("  }")
        out.append("  if (!flex || !r.ok()) return;")
        out.append("  const uint32_t tag_count = r.TagCount();")
        out.append("  int64_t last_tag = -1;")
        out.append("  for (uint32_t t = 0; t < tag_count && r.ok(); ++t) {")
        out.append("    const uint32_t tag = r.UVarint();")
        out.append("    const uint32_t size = r.UVarint();")
        out.append("    if (!r.ok()) return;")
        out.append("    if (static_cast<int64_t>(tag) <= last_tag) {")
        out.append(f"      return r.Fail(std::string({json.dumps(s.name)}) + \": tagged field \" + std::to_string(tag) + (static_cast<int64_t>(tag) == last_tag ? \" repeated\" : \" out of order\"));")
        out.append("    }")
        out.append("    last_tag = tag;")
        out.append(f"    Reader sub = r.Sub(size, {json.dumps(s.name + ' tagged field')});")
        out.append("    if (!r.ok()) return;")
        out.append("    switch (tag) {")
        for f in tagged:
            c = cond(f.versions, self.valid)
            out.append(f"      case {f.tag}:")
            out.append(f"        if ({c}) {{")
            out += ["          " + b for b in self.read_value(f, "sub", f.member, "true")]
            out.append("          if (sub.ok() && sub.remaining() != 0) {")
            out.append(f"            sub.Fail({json.dumps(f.name + ': tagged field size does not match its contents')});")
            out.append("          }")
            out.append("          if (!sub.ok()) return r.Fail(sub.error());")
            out.append("          break;")
            out.append("        }")
            out.append("        [[fallthrough]];")
        out.append("      default:")
        out.append("        unknown_tags.push_back({tag, sub.Raw(size, \"tagged field\")});")
        out.append("    }")
        out.append("  }")
        out.append("}")
        out.append("")
        # Write
        out.append(f"void {q}::Write(Writer& w, int16_t v) const {{")
        out.append("  [[maybe_unused]] const bool flex = v >= kFlexibleMin;")
        for f in fixed:
            c = cond(f.versions, self.valid)
            body = self.write_value(f, "w", f.member, self.compact_expr(f))
            absent = [] if f.ignorable else [
                f"if (!({self.is_default_expr(f)})) {{",
                f"  w.Fail({json.dumps(s.name + '.' + f.name + ': set, but absent from this version')});",
                "}"]
            if c == "true":
                out += ["  " + b for b in body]
            elif c == "false":
                out += ["  " + b for b in absent]
            else:
                out.append(f"  if ({c}) {{")
                out += ["    " + b for b in body]
                if absent:
                    out.append("  } else {")
                    out += ["    " + b for b in absent]
                out.append("  }")
        out.append("  if (!flex) {")
        absent_checks = [f for f in tagged if not f.ignorable]
        for f in absent_checks:
            out.append(f"    if (!({self.is_default_expr(f)})) w.Fail({json.dumps(s.name + '.' + f.name + ': tagged field set in a non-flexible version')});")
        out.append("    return;")
        out.append("  }")
        out.append("  uint32_t tag_count = static_cast<uint32_t>(unknown_tags.size());")
        for f in tagged:
            c = cond(f.versions, self.valid)
            out.append(f"  const bool write_{f.member} = ({c}) && !({self.is_default_expr(f)});")
            out.append(f"  tag_count += write_{f.member} ? 1 : 0;")
        out.append("  w.UVarint(tag_count);")
        out.append("  size_t next_unknown = 0;")
        for f in tagged:
            out.append(f"  if (write_{f.member}) {{")
            out.append(f"    WriteUnknownTagsBelow(w, unknown_tags, next_unknown, {f.tag});")
            out.append(f"    WriteTaggedField(w, {f.tag}, [&](Writer& tw) {{")
            out += ["      " + b for b in self.write_value(f, "tw", f.member, "true")]
            out.append("    });")
            out.append("  }")
        out.append("  WriteUnknownTagsBelow(w, unknown_tags, next_unknown, UINT64_MAX);")
        out.append("}")
        out.append("")
        return out

    # ---- sample filler (tests) ------------------------------------------
    def fill_value(self, f, target, nullable_cond):
        out = []
        if f.is_array:
            elem_t = cpp_type(f)
            if f.has_null:
                out.append(f"if (g.null_mode() && ({nullable_cond})) {{ {target}.reset(); }} else {{")
                out.append(f"  {target}.emplace();")
                vec = f"(*{target})"
            else:
                out.append("{")
                vec = target
            out.append(f"  {vec}.clear();")
            out.append(f"  for (int i = 0, n = g.ArrayCount(); i < n; ++i) {{")
            if f.elem in PRIMS:
                out.append(f"    {vec}.push_back(g.Value<{PRIMS[f.elem][0]}>());")
            elif f.elem == "string":
                out.append(f"    {vec}.push_back(g.String());")
            else:
                out.append(f"    g.Enter(); Fill({vec}.emplace_back(), v, g); g.Leave();")
            out.append("  }")
            out.append("}")
        elif f.type in PRIMS:
            out.append(f"{target} = g.Different<{PRIMS[f.type][0]}>({target});")
        elif f.type in ("string", "bytes", "records"):
            make = "g.String()" if f.type == "string" else "g.Bytes()"
            if f.has_null or f.type == "records":
                out.append(f"if (g.null_mode() && ({nullable_cond})) {{ {target}.reset(); }} else {{ {target} = {make}; }}")
            else:
                out.append(f"{target} = {make};")
        else:
            if f.has_null:
                out.append(f"if (g.null_mode() && ({nullable_cond})) {{ {target}.reset(); }} else {{ g.Enter(); Fill({target}.emplace(), v, g); g.Leave(); }}")
            else:
                out.append(f"g.Enter(); Fill({target}, v, g); g.Leave();")
        return out

    def fill_impl(self, s):
        m = self.m
        out = [f"void Fill({m.ns}::{s.name}& m, int16_t v, SampleGen& g) {{",
               f"  using namespace {m.ns};",
               "  if (!g.fill()) return;",
               f"  [[maybe_unused]] const bool flex = v >= {m.flex_min()};"]
        for f in s.fields:
            c = cond(f.versions, self.valid)
            if c == "false":
                continue
            if f.tag is not None:
                c = f"flex && ({c})"
            out.append(f"  if ({c}) {{")
            out += ["    " + b for b in self.fill_value(f, "m." + f.member, cond(f.nullable, self.valid))]
            out.append("  }")
        out.append("  if (flex) g.MaybeAddUnknownTag(m.unknown_tags);")
        out.append("}")
        return out


LIST_ONLY = False
WRITTEN = []


def write_if_changed(path, text):
    WRITTEN.append(path)
    if LIST_ONLY:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return
    path.write_text(text)


def api_base(name):
    for suffix in ("Request", "Response"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def main():
    global LIST_ONLY
    args = sys.argv[1:]
    if args and args[0] == "--list":
        LIST_ONLY = True
        args = args[1:]
    spec = json.loads(pathlib.Path(args[0]).read_text())
    out = pathlib.Path(args[1]) / "fjord_protocol"
    msgs = [Message(d) for d in spec["messages"]]
    header_prelude = [
        "// Generated by tools/protocol-gen.py from src/protocol/spec/kafka-messages.json. Do not edit.",
        "#pragma once",
        "#include <cstdint>",
        "#include <limits>",
        "#include <optional>",
        "#include <string>",
        "#include <vector>",
        '#include "protocol/wire.h"',
        "",
    ]
    groups = {}
    for m in msgs:
        g = Gen(m)
        h = list(header_prelude)
        h.append(f"namespace fjord::protocol::{m.ns} {{")
        h.append(f"inline constexpr int16_t kFlexibleMin = {m.flex_min()};")
        h.append("")
        for s in m.order:
            h += g.struct_decl(s, s is m.root)
            h.append("")
        h.append(f"}}  // namespace fjord::protocol::{m.ns}")
        h.append("namespace fjord::protocol {")
        h.append(f"using {m.name} = {m.ns}::{m.name};")
        h.append("}  // namespace fjord::protocol")
        write_if_changed(out / "messages" / f"{m.ns}.h", "\n".join(h) + "\n")
        cc = [f'#include "fjord_protocol/messages/{m.ns}.h"', "",
              '#include "fjord_protocol/tagged.h"', "",
              f"namespace fjord::protocol::{m.ns} {{", ""]
        for s in m.order:
            cc += g.struct_impl(s)
        cc.append(f"}}  // namespace fjord::protocol::{m.ns}")
        groups.setdefault(snake(api_base(m.name)), []).append("\n".join(cc) + "\n")
    cc_files = []
    for base, parts in sorted(groups.items()):
        p = out / "messages" / f"{base}.cc"
        write_if_changed(p, "\n".join(parts))
        cc_files.append(p)

    # tagged-field helper shared by the generated code
    write_if_changed(out / "tagged.h", "\n".join([
        "// Generated by tools/protocol-gen.py. Do not edit.",
        "#pragma once",
        '#include "protocol/wire.h"',
        "namespace fjord::protocol {",
        "// Writes the unknown tagged fields whose tag is below `limit`, in order.",
        "inline void WriteUnknownTagsBelow(Writer& w, const UnknownTags& tags, size_t& next, uint64_t limit) {",
        "  for (; next < tags.size() && tags[next].tag < limit; ++next) {",
        "    if (next > 0 && tags[next].tag <= tags[next - 1].tag) return w.Fail(\"unknown tagged fields out of order\");",
        "    w.UVarint(tags[next].tag);",
        "    w.UVarint(static_cast<uint32_t>(tags[next].data.size()));",
        "    w.Raw(tags[next].data.data(), tags[next].data.size());",
        "  }",
        "}",
        "}  // namespace fjord::protocol",
        ""]))

    write_if_changed(out / "messages.h", "\n".join(
        ["// Generated by tools/protocol-gen.py. Do not edit.", "#pragma once"] +
        [f'#include "fjord_protocol/messages/{m.ns}.h"' for m in msgs]) + "\n")

    # API table
    reqs = {m.api_key: m for m in msgs if m.kind == "request"}
    resps = {m.api_key: m for m in msgs if m.kind == "response"}
    keys = sorted(reqs)
    for k in keys:
        assert k in resps and resps[k].valid == reqs[k].valid and resps[k].flex == reqs[k].flex, k
    listener_bits = {"zkBroker": 1, "broker": 2, "controller": 4}
    t = ["// Generated by tools/protocol-gen.py. Do not edit.", '#include "protocol/api_table.h"', "",
         '#include "fjord_protocol/messages.h"', '#include "protocol/codec.h"', "",
         "namespace fjord::protocol {", "", "namespace {", "constexpr ApiInfo kApis[] = {"]
    for k in keys:
        m = reqs[k]
        bits = sum(listener_bits[l] for l in m.listeners)
        t.append(f"    {{{k}, {json.dumps(api_base(m.name))}, {m.valid[0]}, {m.valid[1]}, {m.flex_min()}, {bits}, {'true' if m.unstable else 'false'}}},")
    t.append("};")
    t.append("}  // namespace")
    t.append("")
    t.append("std::span<const ApiInfo> AllApis() { return kApis; }")
    t.append("")
    t.append("const ApiInfo* FindApi(int16_t api_key) {")
    t.append(f"  if (api_key < 0 || api_key >= {len(keys)} || kApis[api_key].api_key != api_key) return nullptr;")
    t.append("  return &kApis[api_key];")
    t.append("}")
    t.append("")
    assert keys == list(range(len(keys)))
    t.append("absl::Status RoundTripBody(bool request, int16_t api_key, int16_t version, ByteView body,")
    t.append("                           std::vector<uint8_t>* reencoded) {")
    t.append("  switch (api_key) {")
    for k in keys:
        t.append(f"    case {k}: return request ? RoundTrip<{reqs[k].name}>(body, version, reencoded)")
        t.append(f"                             : RoundTrip<{resps[k].name}>(body, version, reencoded);")
    t.append("    default: return absl::InvalidArgumentError(\"unknown api key \" + std::to_string(api_key));")
    t.append("  }")
    t.append("}")
    t.append("")
    t.append("}  // namespace fjord::protocol")
    write_if_changed(out / "api_table.cc", "\n".join(t) + "\n")

    # sample filler for tests
    sf = ["// Generated by tools/protocol-gen.py. Do not edit.", '#include "protocol/testing/sample_fill.h"', "",
          '#include "fjord_protocol/messages.h"', '#include "protocol/codec.h"', "",
          "namespace fjord::protocol::testing {", ""]
    decls = []
    for m in msgs:
        g = Gen(m)
        for s in m.order:
            decls.append(f"void Fill({m.ns}::{s.name}& m, int16_t v, SampleGen& g);")
    sf += decls + [""]
    for m in msgs:
        g = Gen(m)
        for s in m.order:
            sf += g.fill_impl(s) + [""]
    sf.append("absl::Status FillAndRoundTrip(bool request, int16_t api_key, int16_t version, SampleGen& g,")
    sf.append("                              std::vector<uint8_t>* encoded) {")
    sf.append("  switch (api_key * 2 + (request ? 1 : 0)) {")
    for k in keys:
        for which, mm in (("true", reqs[k]), ("false", resps[k])):
            sf.append(f"    case {k} * 2 + {1 if which == 'true' else 0}: {{")
            sf.append(f"      {mm.name} m;")
            sf.append("      Fill(m, version, g);")
            sf.append("      return CheckRoundTrip(m, version, encoded);")
            sf.append("    }")
    sf.append("    default: return absl::InvalidArgumentError(\"unknown api key\");")
    sf.append("  }")
    sf.append("}")
    sf.append("")
    sf.append("}  // namespace fjord::protocol::testing")
    sf_text = "\n".join(sf)
    write_if_changed(out / "sample_fill.cc", sf_text + "\n")

    if LIST_ONLY:
        print(";".join(str(p) for p in WRITTEN))


if __name__ == "__main__":
    main()
