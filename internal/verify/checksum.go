package verify

import (
	"encoding/binary"
	"hash/fnv"
)

// Sum is the row count and the order-independent checksum of a set of rows:
// the sum (mod 2^64) of their row hashes. Equal sets have equal sums;
// a missing, extra, duplicated or changed row changes the sum except with
// negligible probability.
type Sum struct {
	Rows int64
	Hash uint64
}

// Add adds one row hash.
func (s *Sum) Add(h uint64) {
	s.Rows++
	s.Hash += h
}

// RowHash hashes the canonical cells of a row. Each cell is framed (a null
// marker and its length), so no two different rows share an encoding.
func RowHash(cells []Cell) uint64 {
	h := fnv.New64a()
	var buf [binary.MaxVarintLen64 + 1]byte
	for _, c := range cells {
		if c.Null {
			buf[0] = 0
			_, _ = h.Write(buf[:1])
			continue
		}
		buf[0] = 1
		n := binary.PutUvarint(buf[1:], uint64(len(c.Text)))
		_, _ = h.Write(buf[:1+n])
		_, _ = h.Write([]byte(c.Text))
	}
	return mix64(h.Sum64())
}

// mix64 is the splitmix64 finaliser: it spreads FNV's output over all bits
// so that sums of hashes do not cancel in structured ways.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
