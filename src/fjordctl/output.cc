#include "fjordctl/output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace fjord::ctl {

Json Json::Object() {
  Json j;
  j.value_ = Members{};
  return j;
}

Json Json::Array() {
  Json j;
  j.value_ = Elements{};
  return j;
}

Json& Json::Set(std::string key, Json value) {
  std::get<Members>(value_).items.emplace_back(std::move(key), std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  std::get<Elements>(value_).items.push_back(std::move(value));
  return *this;
}

namespace {

void Quote(const std::string& s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace

void Json::DumpTo(std::string* out) const {
  if (std::holds_alternative<std::nullptr_t>(value_)) {
    *out += "null";
  } else if (const bool* b = std::get_if<bool>(&value_)) {
    *out += *b ? "true" : "false";
  } else if (const int64_t* n = std::get_if<int64_t>(&value_)) {
    *out += std::to_string(*n);
  } else if (const std::string* s = std::get_if<std::string>(&value_)) {
    Quote(*s, out);
  } else if (const Members* m = std::get_if<Members>(&value_)) {
    out->push_back('{');
    for (size_t i = 0; i < m->items.size(); ++i) {
      if (i) out->push_back(',');
      Quote(m->items[i].first, out);
      out->push_back(':');
      m->items[i].second.DumpTo(out);
    }
    out->push_back('}');
  } else {
    const Elements& e = std::get<Elements>(value_);
    out->push_back('[');
    for (size_t i = 0; i < e.items.size(); ++i) {
      if (i) out->push_back(',');
      e.items[i].DumpTo(out);
    }
    out->push_back(']');
  }
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(&out);
  return out;
}

const char* ConfigSourceName(int8_t source) {
  switch (source) {
    case 1:
      return "DYNAMIC_TOPIC_CONFIG";
    case 2:
      return "DYNAMIC_BROKER_CONFIG";
    case 3:
      return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case 4:
      return "STATIC_BROKER_CONFIG";
    case 5:
      return "DEFAULT_CONFIG";
    case 6:
      return "DYNAMIC_BROKER_LOGGER_CONFIG";
    default:
      return "UNKNOWN";
  }
}

bool Colour() {
  static const bool on = ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  return on;
}

namespace {
std::string Paint(const char* code, const std::string& s) {
  return Colour() ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
}
}  // namespace

std::string Bold(const std::string& s) {
  return Paint("1", s);
}
std::string Red(const std::string& s) {
  return Paint("31", s);
}
std::string Green(const std::string& s) {
  return Paint("32", s);
}

std::string Table::Render() const {
  std::vector<size_t> width(headers_.size(), 0);
  for (size_t c = 0; c < headers_.size(); ++c) width[c] = headers_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < width.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells, bool header) {
    std::string out;
    for (size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      const bool last = c + 1 == width.size();
      const std::string padded = last ? cell : cell + std::string(width[c] - cell.size() + 2, ' ');
      out += header ? Bold(padded) : padded;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(headers_, true);
  for (const auto& row : rows_) out += line(row, false);
  return out;
}

void Progress(const std::string& line) {
  if (::isatty(STDERR_FILENO) != 1) return;
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
}

void ProgressDone() {
  if (::isatty(STDERR_FILENO) != 1) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
}

void Note(const std::string& line) {
  std::fprintf(stderr, "fjordctl: note: %s\n", line.c_str());
}

}  // namespace fjord::ctl
