// A tiny XML writer: elements in the order written, attribute and text escaping in one place.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace runvirt::backend {

class XmlWriter {
 public:
  using Attributes = std::vector<std::pair<std::string_view, std::string>>;

  void open(std::string_view name, const Attributes& attributes = {});
  void close();
  // <name attrs>text</name>
  void element(std::string_view name, std::string_view text, const Attributes& attributes = {});
  // <name attrs/>
  void empty(std::string_view name, const Attributes& attributes = {});
  // Closes everything still open and returns the document.
  std::string finish();

  static std::string escape(std::string_view text);

 private:
  void indent();
  void startTag(std::string_view name, const Attributes& attributes);

  std::string out_;
  std::vector<std::string> stack_;
};

}  // namespace runvirt::backend
