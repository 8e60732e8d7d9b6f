package hudi

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Hudi's record-key bloom filter (org.apache.hudi.common.bloom), stored in
// base-file footers for Hudi's bloom index. The serialized form is Hadoop's
// Writable layout of a bloom filter, base64-encoded:
//
//	int32 version (-1), int32 nbHash, byte hashType (1 = murmur), int32 vectorSize,
//	then ceil(vectorSize/8) bytes of bits, least significant bit first.
//
// A DYNAMIC_V0 filter (what Hudi writes by default) is the same header,
// int32 nr, int32 currentNbRecord, int32 rows, then rows simple filters.
const (
	bloomVersion     = -1
	bloomHashMurmur  = 1
	bloomFPP         = 0.000000001 // hoodie.index.bloom.fpp
	bloomTypeSimple  = "SIMPLE"
	bloomTypeDynamic = "DYNAMIC_V0"
)

// bloomFilter is Hudi's InternalBloomFilter with murmur hashing.
type bloomFilter struct {
	nbHash     int32
	vectorSize int32
	bits       []byte
}

// newBloomFilter sizes a filter for n entries at Hudi's default false
// positive rate (BloomFilterUtils.getBitSize / getNumHashes).
func newBloomFilter(n int) *bloomFilter {
	n = max(n, 1)
	bitSize := int32(math.Ceil(float64(n) * (-math.Log(bloomFPP) / (math.Ln2 * math.Ln2))))
	nbHash := int32(math.Ceil(math.Ln2 * float64(bitSize) / float64(n)))
	return &bloomFilter{nbHash: nbHash, vectorSize: bitSize, bits: make([]byte, (int64(bitSize)+7)/8)}
}

// position is one of HashFunction.hash's values: the murmur hash chained
// from the previous one, modulo the vector size (Java's Math.abs of %).
func (f *bloomFilter) position(h int32) int32 {
	p := h % f.vectorSize
	if p < 0 {
		p = -p
	}
	return p
}

func (f *bloomFilter) add(key string) {
	if key == "" {
		return // Hudi rejects empty keys; record keys are never empty
	}
	var h int32
	for i := int32(0); i < f.nbHash; i++ {
		h = murmurHash(key, h)
		p := f.position(h)
		f.bits[p>>3] |= 1 << (p & 7)
	}
}

func (f *bloomFilter) mightContain(key string) bool {
	if key == "" {
		return false
	}
	var h int32
	for i := int32(0); i < f.nbHash; i++ {
		h = murmurHash(key, h)
		p := f.position(h)
		if f.bits[p>>3]&(1<<(p&7)) == 0 {
			return false
		}
	}
	return true
}

func (f *bloomFilter) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, 0xFFFFFFFF) // version -1
	b = binary.BigEndian.AppendUint32(b, uint32(f.nbHash))
	b = append(b, bloomHashMurmur)
	b = binary.BigEndian.AppendUint32(b, uint32(f.vectorSize))
	return append(b, f.bits...)
}

// serialize is SimpleBloomFilter.serializeToString.
func (f *bloomFilter) serialize() string {
	return base64.StdEncoding.EncodeToString(f.appendTo(nil))
}

// parseBloomFilter reads a serialized SIMPLE or DYNAMIC_V0 filter; a
// dynamic filter is returned as its rows.
func parseBloomFilter(s, typeCode string) ([]*bloomFilter, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("decoding bloom filter: %w", err)
	}
	readHeader := func() (*bloomFilter, error) {
		if len(b) < 13 {
			return nil, errors.New("bloom filter header is truncated")
		}
		if int32(binary.BigEndian.Uint32(b)) != bloomVersion || b[8] != bloomHashMurmur {
			return nil, errors.New("bloom filter is not a versioned murmur filter")
		}
		f := &bloomFilter{nbHash: int32(binary.BigEndian.Uint32(b[4:])), vectorSize: int32(binary.BigEndian.Uint32(b[9:]))}
		if f.nbHash <= 0 || f.vectorSize <= 0 {
			return nil, errors.New("bloom filter has a bad size")
		}
		b = b[13:]
		return f, nil
	}
	readBits := func(f *bloomFilter) error {
		n := (int(f.vectorSize) + 7) / 8
		if len(b) < n {
			return errors.New("bloom filter bits are truncated")
		}
		f.bits, b = b[:n], b[n:]
		return nil
	}
	switch typeCode {
	case "", bloomTypeSimple:
		f, err := readHeader()
		if err != nil {
			return nil, err
		}
		if err := readBits(f); err != nil {
			return nil, err
		}
		return []*bloomFilter{f}, nil
	case bloomTypeDynamic:
		if _, err := readHeader(); err != nil {
			return nil, err
		}
		if len(b) < 12 {
			return nil, errors.New("dynamic bloom filter is truncated")
		}
		rows := int(binary.BigEndian.Uint32(b[8:]))
		b = b[12:]
		if rows < 0 || rows > 1<<16 {
			return nil, errors.New("dynamic bloom filter has a bad row count")
		}
		out := make([]*bloomFilter, 0, rows)
		for range rows {
			f, err := readHeader()
			if err != nil {
				return nil, err
			}
			if err := readBits(f); err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown bloom filter type %q", typeCode)
}

// murmurHash is Hudi's (Hadoop's) MurmurHash.hash(data, 0, len, seed), a
// 32-bit MurmurHash2 whose tail bytes are sign-extended like Java bytes.
func murmurHash(data string, seed int32) int32 {
	const m = int32(0x5bd1e995)
	const r = 24
	length := int32(len(data))
	h := seed ^ length
	len4 := length >> 2
	for i := int32(0); i < len4; i++ {
		i4 := i << 2
		k := int32(int8(data[i4+3]))
		k = k << 8
		k |= int32(data[i4+2])
		k = k << 8
		k |= int32(data[i4+1])
		k = k << 8
		k |= int32(data[i4])
		k *= m
		k ^= int32(uint32(k) >> r)
		k *= m
		h *= m
		h ^= k
	}
	lenM := len4 << 2
	left := length - lenM
	if left != 0 {
		if left >= 3 {
			h ^= int32(int8(data[lenM+2])) << 16
		}
		if left >= 2 {
			h ^= int32(int8(data[lenM+1])) << 8
		}
		if left >= 1 {
			h ^= int32(int8(data[lenM]))
		}
		h *= m
	}
	h ^= int32(uint32(h) >> 13)
	h *= m
	h ^= int32(uint32(h) >> 15)
	return h
}
