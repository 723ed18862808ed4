// Corrupted inputs: every reader either fails with a Status or returns rows
// that satisfy the TypedTable invariants. Never a crash (run under ASan/UBSan).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ingest/delimited.h"
#include "ingest/npy.h"
#include "ingest/vecs.h"

namespace vesta::ingest {
namespace {

std::string Mutate(std::string s, std::mt19937& rng) {
  static const char kAlphabet[] = ",\"\n\r\t;#[]0123456789.-eNA ";
  std::uniform_int_distribution<int> ops(1, 6);
  int n = ops(rng);
  for (int i = 0; i < n && !s.empty(); ++i) {
    std::uniform_int_distribution<size_t> at(0, s.size() - 1);
    std::uniform_int_distribution<size_t> ch(0, sizeof(kAlphabet) - 2);
    switch (ops(rng) % 3) {
      case 0: s[at(rng)] = kAlphabet[ch(rng)]; break;
      case 1: s.insert(at(rng), 1, kAlphabet[ch(rng)]); break;
      default: s.erase(at(rng), 1); break;
    }
  }
  return s;
}

void ExpectInvariants(const TypedTable& t) {
  ASSERT_EQ(t.rows.size(), t.source_lines.size());
  ASSERT_EQ(t.source_columns.size(), t.schema.columns.size());
  for (const Row& r : t.rows) ASSERT_TRUE(t.schema.ValidateRow(r).ok()) << t.schema.ValidateRow(r).ToString();
}

TEST(Robustness, MutatedCsvFailsCleanlyOrKeepsRowInvariants) {
  const std::string seed =
      "id,age,note,f_a,f_b,emb\n"
      "1,30,\"a, \"\"b\"\"\",1.5,2,\"[1,2]\"\n"
      "2,NA,\"multi\nline\",,3,\"[3,4]\"\n"
      "3,41,plain,2.5,,\"[5,6]\"\r\n";
  std::mt19937 rng(20240131);
  int ok = 0;
  for (int i = 0; i < 3000; ++i) {
    DelimitedOptions o;
    o.mode = i % 2 ? ErrorMode::kQuarantine : ErrorMode::kStrict;
    o.primary_key = "id";
    o.type_overrides = {{"emb", DataType::Vector(2)}};
    o.vectors = {VectorAssembly{"feat", {}, {"f_"}, "", MissingCellPolicy::kImputeMean, false}};
    auto t = ParseDelimited(Mutate(seed, rng), "fuzz.csv", o);
    if (!t.ok()) {
      EXPECT_EQ(t.status().message().rfind("fuzz.csv", 0), 0u) << t.status().message();
      continue;
    }
    ++ok;
    ExpectInvariants(*t);
  }
  EXPECT_GT(ok, 100);  // the mutations leave many inputs readable
}

TEST(Robustness, MutatedNpyAndFvecsFailCleanly) {
  std::string npy = std::string("\x93NUMPY\x01\x00", 8);
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  dict.append(64 - (10 + dict.size() + 1) % 64, ' ');
  dict.push_back('\n');
  npy.push_back(static_cast<char>(dict.size()));
  npy.push_back('\0');
  npy += dict;
  for (int i = 0; i < 6; ++i) {
    float f = static_cast<float>(i);
    npy.append(reinterpret_cast<const char*>(&f), 4);
  }
  std::string fvecs;
  for (int r = 0; r < 3; ++r) {
    int32_t d = 2;
    fvecs.append(reinterpret_cast<const char*>(&d), 4);
    for (int j = 0; j < 2; ++j) {
      float f = static_cast<float>(r + j);
      fvecs.append(reinterpret_cast<const char*>(&f), 4);
    }
  }
  ASSERT_TRUE(ParseNpy(npy, "s.npy").ok());
  ASSERT_TRUE(ParseFvecs(fvecs, "s.fvecs").ok());
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    auto a = ParseNpy(Mutate(npy, rng), "m.npy");
    if (a.ok()) {
      EXPECT_EQ(a->data.size(), static_cast<size_t>(a->num_elements()) * static_cast<size_t>(a->item_size()));
      auto v = NpyToFloatVectors(*a, "m.npy");
      if (v.ok()) {
        EXPECT_EQ(v->data.size(), static_cast<size_t>(v->n) * static_cast<size_t>(v->dim));
      }
    }
    auto f = ParseFvecs(Mutate(fvecs, rng), "m.fvecs");
    if (f.ok()) {
      EXPECT_EQ(f->data.size(), static_cast<size_t>(f->n) * static_cast<size_t>(f->dim));
      VectorTableOptions o;
      o.source = "m.fvecs";
      auto t = VectorsToTable(*f, o);
      if (t.ok()) ExpectInvariants(*t);
    }
  }
}

}  // namespace
}  // namespace vesta::ingest
