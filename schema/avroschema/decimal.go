package avroschema

import (
	"math/big"
)

// DecimalBytes appends the big-endian two's-complement bytes of u (Avro's
// decimal encoding of the unscaled value) to buf, in the minimal length, the
// same bytes Java's BigInteger.toByteArray and goavro produce. A nil u is 0.
// Values that fit an int64 take an allocation-free path.
func DecimalBytes(buf []byte, u *big.Int) []byte {
	if u == nil {
		return append(buf, 0)
	}
	if u.IsInt64() {
		return appendInt64TwosComplement(buf, u.Int64())
	}
	if u.Sign() > 0 {
		b := u.Bytes()
		if b[0]&0x80 != 0 {
			buf = append(buf, 0)
		}
		return append(buf, b...)
	}
	// Negative: invert the bytes of -u-1.
	a := new(big.Int).Neg(u)
	a.Sub(a, big.NewInt(1))
	b := a.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		buf = append(buf, 0xff)
	}
	for _, c := range b {
		buf = append(buf, ^c)
	}
	return buf
}

func appendInt64TwosComplement(buf []byte, v int64) []byte {
	n := 8
	for n > 1 {
		// Drop a leading byte while the next byte's sign bit repeats it.
		top := byte(v >> (8 * (n - 1)))
		next := byte(v >> (8 * (n - 2)))
		if (top == 0 && next&0x80 == 0) || (top == 0xff && next&0x80 != 0) {
			n--
			continue
		}
		break
	}
	for i := n - 1; i >= 0; i-- {
		buf = append(buf, byte(v>>(8*i)))
	}
	return buf
}

// DecimalFromBytes is the inverse of DecimalBytes: it returns the unscaled
// value of two's-complement big-endian bytes (empty bytes are 0).
func DecimalFromBytes(b []byte) *big.Int {
	if len(b) == 0 {
		return new(big.Int)
	}
	if len(b) <= 8 {
		v := int64(int8(b[0]))
		for _, c := range b[1:] {
			v = v<<8 | int64(c)
		}
		return big.NewInt(v)
	}
	u := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
	}
	return u
}
