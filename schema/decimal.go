package schema

import (
	"fmt"
	"math/big"
	"strings"
)

// Decimal is an exact decimal number: Unscaled * 10^-Scale. It is the Go value
// of KindDecimal columns. The zero value is not valid; a nil Unscaled is
// treated as zero.
type Decimal struct {
	Unscaled *big.Int
	Scale    int32
}

// ParseDecimal parses decimal text such as "-12.3400" keeping every digit; the
// scale is the number of digits after the point.
func ParseDecimal(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	neg := false
	switch {
	case strings.HasPrefix(t, "-"):
		neg, t = true, t[1:]
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	}
	intPart, frac, hasPoint := strings.Cut(t, ".")
	if intPart == "" && (!hasPoint || frac == "") {
		return Decimal{}, fmt.Errorf("parsing decimal %q: no digits", s)
	}
	digits := intPart + frac
	for _, c := range digits {
		if c < '0' || c > '9' {
			return Decimal{}, fmt.Errorf("parsing decimal %q: unexpected character %q", s, c)
		}
	}
	u, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Decimal{}, fmt.Errorf("parsing decimal %q", s)
	}
	if neg {
		u.Neg(u)
	}
	return Decimal{Unscaled: u, Scale: int32(len(frac))}, nil
}

// String formats the decimal with exactly Scale digits after the point.
func (d Decimal) String() string {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	s := new(big.Int).Abs(u).String()
	sign := ""
	if u.Sign() < 0 {
		sign = "-"
	}
	if d.Scale <= 0 {
		return sign + s + strings.Repeat("0", int(-d.Scale))
	}
	if len(s) <= int(d.Scale) {
		s = strings.Repeat("0", int(d.Scale)-len(s)+1) + s
	}
	p := len(s) - int(d.Scale)
	return sign + s[:p] + "." + s[p:]
}

// Rescale returns the same value with the given scale; it fails when digits
// would be lost.
func (d Decimal) Rescale(scale int32) (Decimal, error) {
	u := d.Unscaled
	if u == nil {
		u = new(big.Int)
	}
	switch {
	case scale == d.Scale:
		return Decimal{Unscaled: u, Scale: scale}, nil
	case scale > d.Scale:
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale-d.Scale)), nil)
		return Decimal{Unscaled: new(big.Int).Mul(u, m), Scale: scale}, nil
	default:
		m := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-scale)), nil)
		q, r := new(big.Int).QuoRem(u, m, new(big.Int))
		if r.Sign() != 0 {
			return Decimal{}, fmt.Errorf("rescaling %s to scale %d would lose digits", d, scale)
		}
		return Decimal{Unscaled: q, Scale: scale}, nil
	}
}

// Equal reports whether two decimals are the same number (scales may differ).
func (d Decimal) Equal(o Decimal) bool {
	s := max(d.Scale, o.Scale)
	a, err1 := d.Rescale(s)
	b, err2 := o.Rescale(s)
	return err1 == nil && err2 == nil && a.Unscaled.Cmp(b.Unscaled) == 0
}
