#include "vm/xml_writer.hpp"

namespace runvirt::backend {

std::string XmlWriter::escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void XmlWriter::indent() { out_.append(stack_.size() * 2, ' '); }

void XmlWriter::startTag(std::string_view name, const Attributes& attributes) {
  indent();
  out_ += '<';
  out_ += name;
  for (const auto& [key, value] : attributes) {
    out_ += ' ';
    out_ += key;
    out_ += "='";
    out_ += escape(value);
    out_ += '\'';
  }
}

void XmlWriter::open(std::string_view name, const Attributes& attributes) {
  startTag(name, attributes);
  out_ += ">\n";
  stack_.emplace_back(name);
}

void XmlWriter::close() {
  std::string name = std::move(stack_.back());
  stack_.pop_back();
  indent();
  out_ += "</" + name + ">\n";
}

void XmlWriter::element(std::string_view name, std::string_view text,
                        const Attributes& attributes) {
  startTag(name, attributes);
  out_ += '>';
  out_ += escape(text);
  out_ += "</";
  out_ += name;
  out_ += ">\n";
}

void XmlWriter::empty(std::string_view name, const Attributes& attributes) {
  startTag(name, attributes);
  out_ += "/>\n";
}

std::string XmlWriter::finish() {
  while (!stack_.empty()) close();
  return std::move(out_);
}

}  // namespace runvirt::backend
