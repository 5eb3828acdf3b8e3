// What fjordctl prints: aligned tables for people, JSON for scripts (--json), and
// colour only when stdout is a terminal (and NO_COLOR is unset).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace fjord::ctl {

// A JSON value built in memory and printed once; objects keep insertion order.
class Json {
 public:
  Json() : value_(nullptr) {}
  Json(const char* s) : value_(std::string(s)) {}  // NOLINT: strings read naturally
  Json(std::string s) : value_(std::move(s)) {}    // NOLINT
  Json(int64_t n) : value_(n) {}                   // NOLINT
  Json(int32_t n) : value_(int64_t{n}) {}          // NOLINT
  Json(bool b) : value_(b) {}                      // NOLINT
  static Json Object();
  static Json Array();

  Json& Set(std::string key, Json value);  // on an object
  Json& Push(Json value);                  // on an array
  std::string Dump() const;

 private:
  struct Members {
    std::vector<std::pair<std::string, Json>> items;
  };
  struct Elements {
    std::vector<Json> items;
  };
  std::variant<std::nullptr_t, bool, int64_t, std::string, Members, Elements> value_;
  void DumpTo(std::string* out) const;
};

class Table {
 public:
  // Variadic rather than initializer lists: GCC 12 cannot keep an initializer list of
  // strings in a coroutine frame, and tables are built inside coroutines.
  template <typename... Header>
  explicit Table(Header&&... headers) : headers_{std::string(std::forward<Header>(headers))...} {}
  template <typename... Cell>
  void Add(Cell&&... cells) {
    rows_.push_back({std::string(std::forward<Cell>(cells))...});
  }
  bool empty() const { return rows_.empty(); }
  std::string Render() const;  // headers in bold on a terminal, columns padded

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// Kafka's name for a DescribeConfigs source code (DYNAMIC_TOPIC_CONFIG, ...).
const char* ConfigSourceName(int8_t source);

bool Colour();  // stdout is a terminal and NO_COLOR is unset
std::string Bold(const std::string& s);
std::string Red(const std::string& s);
std::string Green(const std::string& s);

// One line on stderr that a later Progress call or Done overwrites (terminal only).
void Progress(const std::string& line);
void ProgressDone();

// A one-line note on stderr about something left out (e.g. an API the broker lacks).
void Note(const std::string& line);

}  // namespace fjord::ctl
