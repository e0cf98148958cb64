// libvirt-backend/vm/xml_writer.cpp: element order, indentation and escaping in one place.
#include "vm/xml_writer.hpp"

#include <gtest/gtest.h>

namespace runvirt::backend {
namespace {

TEST(XmlWriter, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(XmlWriter::escape("a<b>&'\"c"), "a&lt;b&gt;&amp;&apos;&quot;c");
  EXPECT_EQ(XmlWriter::escape("plain /path_1"), "plain /path_1");
  EXPECT_EQ(XmlWriter::escape("&amp;"), "&amp;amp;");
}

TEST(XmlWriter, WritesNestedElementsInOrder) {
  XmlWriter xml;
  xml.open("domain", {{"type", "kvm"}});
  xml.element("name", "a&b");
  xml.open("devices");
  xml.empty("disk", {{"path", "/it's"}, {"mode", "<ro>"}});
  xml.close();
  xml.element("title", "x", {{"lang", "\"en\""}});
  EXPECT_EQ(xml.finish(),
            "<domain type='kvm'>\n"
            "  <name>a&amp;b</name>\n"
            "  <devices>\n"
            "    <disk path='/it&apos;s' mode='&lt;ro&gt;'/>\n"
            "  </devices>\n"
            "  <title lang='&quot;en&quot;'>x</title>\n"
            "</domain>\n");
}

TEST(XmlWriter, FinishClosesEverythingOpen) {
  XmlWriter xml;
  xml.open("a");
  xml.open("b");
  xml.empty("c");
  EXPECT_EQ(xml.finish(), "<a>\n  <b>\n    <c/>\n  </b>\n</a>\n");
}

}  // namespace
}  // namespace runvirt::backend
