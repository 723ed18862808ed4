// DenseBits and its chunk-wise conversions to and from CRoaring: every
// container kind (array, bitset, run, and CRoaring's shared copy-on-write
// wrapper), chunk edges, universes that are not a multiple of 64 or 2^16,
// and ids past the universe.
#include "index/dense_bits.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace vesta::index {
namespace {

// A random set over [0, universe) with chunks of varied density.
Roaring RandomSet(uint32_t universe, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Roaring r;
  for (uint32_t base = 0; base < universe; base += 1u << 16) {
    const uint32_t end = std::min<uint64_t>(universe, uint64_t{base} + (1u << 16));
    const double density = std::vector<double>{0.0, 0.001, 0.05, 0.0625, 0.07, 0.5, 1.0}[rng() % 7];
    std::bernoulli_distribution pick(density);
    for (uint32_t id = base; id < end; ++id) {
      if (pick(rng)) r.add(id);
    }
  }
  return r;
}

std::vector<uint32_t> Ids(const Roaring& r) {
  std::vector<uint32_t> ids(r.cardinality());
  r.toUint32Array(ids.data());
  return ids;
}

TEST(DenseBits, RoundTripsThroughRoaringForEveryContainerKind) {
  for (uint32_t universe : {1u, 63u, 64u, 65u, 65535u, 65536u, 65537u, 300001u}) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      Roaring r = RandomSet(universe, seed * universe);
      if (seed == 3) r.runOptimize();  // run containers
      const DenseBits bits = DenseBits::FromRoaring(r, universe);
      EXPECT_EQ(bits.Count(), r.cardinality()) << "universe " << universe << " seed " << seed;
      for (uint32_t id = 0; id < universe; ++id) {
        ASSERT_EQ(bits.Test(id), r.contains(id)) << "universe " << universe << " id " << id;
      }
      const Roaring back = bits.ToRoaring();
      EXPECT_EQ(Ids(back), Ids(r)) << "universe " << universe << " seed " << seed;
      EXPECT_EQ(back.cardinality(), r.cardinality());
    }
  }
}

TEST(DenseBits, ReadsSharedCopyOnWriteContainers) {
  Roaring r = RandomSet(200000, 7);
  r.setCopyOnWrite(true);
  Roaring copy(r);  // containers now shared between r and copy
  const DenseBits bits = DenseBits::FromRoaring(copy, 200000);
  EXPECT_EQ(Ids(bits.ToRoaring()), Ids(r));
}

TEST(DenseBits, IgnoresIdsPastTheUniverse) {
  Roaring r;
  r.addRange(0, 70000);  // one full chunk and a partial one
  const DenseBits bits = DenseBits::FromRoaring(r, 65600);
  EXPECT_EQ(bits.Count(), 65600u);
  EXPECT_TRUE(bits.Test(65599));
  Roaring expected;
  expected.addRange(0, 65600);
  EXPECT_EQ(Ids(bits.ToRoaring()), Ids(expected));
}

TEST(DenseBits, SetRangeClearAndClearAll) {
  DenseBits bits(1000);
  bits.SetRange(3, 3);  // empty
  EXPECT_EQ(bits.Count(), 0u);
  bits.SetRange(60, 200);
  bits.SetRange(999, 1000);
  EXPECT_EQ(bits.Count(), 141u);
  bits.Clear(60);
  Roaring gone;
  gone.add(100);
  gone.add(999);
  bits.ClearAll(gone);
  EXPECT_EQ(bits.Count(), 138u);
  EXPECT_FALSE(bits.Test(60));
  EXPECT_TRUE(bits.Test(61));
  EXPECT_FALSE(bits.Test(100));
  EXPECT_TRUE(bits.Test(199));
  EXPECT_FALSE(bits.Test(200));
}

TEST(DenseBits, EmptySets) {
  EXPECT_EQ(DenseBits(0).ToRoaring().cardinality(), 0u);
  EXPECT_EQ(DenseBits(100).ToRoaring().cardinality(), 0u);
  EXPECT_EQ(DenseBits::FromRoaring(Roaring(), 100).Count(), 0u);
}

}  // namespace
}  // namespace vesta::index
