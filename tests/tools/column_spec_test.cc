// Column definitions typed on the command line.
#include "tools/column_spec.h"

#include <gtest/gtest.h>

namespace vesta::tools {
namespace {

TEST(ColumnSpec, ParsesNameTypeNullabilityAndComment) {
  Column c = ParseColumnSpec("age BIGINT NOT NULL COMMENT 'age at diagnosis, years'").value();
  EXPECT_EQ(c.name, "age");
  EXPECT_EQ(c.type, DataType::Bigint());
  EXPECT_FALSE(c.nullable);
  EXPECT_EQ(c.comment, "age at diagnosis, years");
}

TEST(ColumnSpec, KeywordsInAnyOrderAndAnyCase) {
  Column c = ParseColumnSpec("  note text comment 'it''s free text' not null ").value();
  EXPECT_EQ(c.type, DataType::String());
  EXPECT_FALSE(c.nullable);
  EXPECT_EQ(c.comment, "it's free text");
  EXPECT_TRUE(ParseColumnSpec("x DOUBLE NULL").value().nullable);
}

TEST(ColumnSpec, VectorTypesAllowSpacesInsideParentheses) {
  EXPECT_EQ(ParseColumnSpec("emb VECTOR(724)").value().type, DataType::Vector(724));
  EXPECT_EQ(ParseColumnSpec("emb vector ( 3 )").value().type, DataType::Vector(3));
  EXPECT_TRUE(ParseColumnSpec("emb VECTOR(0)").status().IsInvalidArgument());
}

TEST(ColumnSpec, AColumnNamedCommentIsNotAKeyword) {
  Column c = ParseColumnSpec("comment STRING COMMENT 'the comment column'").value();
  EXPECT_EQ(c.name, "comment");
  EXPECT_EQ(c.comment, "the comment column");
}

TEST(ColumnSpec, ErrorsQuoteTheDefinition) {
  Status st = ParseColumnSpec("id BIGNUM").status();
  EXPECT_TRUE(st.IsInvalidArgument());
  EXPECT_NE(st.message().find("column 'id BIGNUM'"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("BIGNUM"), std::string::npos) << st.message();
  EXPECT_TRUE(ParseColumnSpec("id").status().IsInvalidArgument());
  EXPECT_TRUE(ParseColumnSpec("id BIGINT PRIMARY KEY").status().IsInvalidArgument());
  EXPECT_TRUE(ParseColumnSpec("id BIGINT COMMENT").status().IsInvalidArgument());
  EXPECT_TRUE(ParseColumnSpec("id BIGINT COMMENT 'open").status().IsInvalidArgument());
  EXPECT_TRUE(ParseColumnSpec("id BIGINT NOT").status().IsInvalidArgument());
}

TEST(SplitTopLevel, SplitsOutsideQuotesAndParentheses) {
  auto parts = SplitTopLevel("id BIGINT, note STRING COMMENT 'a, b', emb VECTOR(3) ,, ").value();
  EXPECT_EQ(parts, (std::vector<std::string>{"id BIGINT", "note STRING COMMENT 'a, b'", "emb VECTOR(3)"}));
  EXPECT_TRUE(SplitTopLevel("").value().empty());
  EXPECT_EQ(SplitTopLevel("a,b").value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitTopLevel("x STRING COMMENT 'open").status().IsInvalidArgument());
  EXPECT_TRUE(SplitTopLevel("emb VECTOR(3").status().IsInvalidArgument());
  EXPECT_TRUE(SplitTopLevel("emb VECTOR3)").status().IsInvalidArgument());
}

TEST(ColumnList, ParsesEveryDefinition) {
  auto cols = ParseColumnList("id BIGINT NOT NULL, name STRING, emb VECTOR(3)").value();
  ASSERT_EQ(cols.size(), 3u);
  EXPECT_EQ(cols[0].name, "id");
  EXPECT_FALSE(cols[0].nullable);
  EXPECT_EQ(cols[2].type, DataType::Vector(3));
  EXPECT_TRUE(ParseColumnList("id BIGINT, name").status().IsInvalidArgument());
}

}  // namespace
}  // namespace vesta::tools
