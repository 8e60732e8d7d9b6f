package schema

import "fmt"

// Kind is the logical type of a column, independent of MySQL, Avro, Iceberg and
// Arrow. Each kind has exactly one Go representation in a row (see the constant
// docs); a nil value means SQL NULL.
type Kind uint8

// The logical kinds. The mapping from MySQL is ARCHITECTURE.md section 3.3.
const (
	KindInvalid Kind = iota
	// KindBool is BIT(1); Go value bool.
	KindBool
	// KindInt32 is TINYINT, SMALLINT, MEDIUMINT, INT (signed), their UNSIGNED
	// forms except INT UNSIGNED, and YEAR; Go value int32.
	KindInt32
	// KindInt64 is BIGINT (signed) and INT UNSIGNED; Go value int64.
	KindInt64
	// KindFloat32 is FLOAT; Go value float32.
	KindFloat32
	// KindFloat64 is DOUBLE; Go value float64.
	KindFloat64
	// KindDecimal is DECIMAL(p<=38,s) and BIGINT UNSIGNED (decimal(20,0));
	// Go value Decimal. Column.Precision and Column.Scale are set.
	KindDecimal
	// KindString is CHAR, VARCHAR, TEXT, ENUM, SET, JSON and DECIMAL wider
	// than 38 digits (its exact decimal text); Go value string.
	KindString
	// KindBytes is BINARY, VARBINARY, BLOB, BIT(n>1) (big-endian, as MySQL
	// returns it) and GEOMETRY (WKB, without MySQL's 4-byte SRID prefix);
	// Go value []byte.
	KindBytes
	// KindDate is DATE; Go value int32, days since 1970-01-01.
	KindDate
	// KindTime is TIME(fsp) within 00:00:00..24:00:00; Go value int64,
	// microseconds since midnight. Avro time-micros, Iceberg time.
	KindTime
	// KindDuration is TIME(fsp) as a signed duration (MySQL allows
	// -838:59:59..838:59:59); Go value int64 microseconds. Avro long,
	// Iceberg long. The source uses it when Column.MySQLType is time and the
	// connector is configured for durations (time.precision.mode=duration).
	KindDuration
	// KindTimestamp is DATETIME(fsp): wall-clock time with no zone; Go value
	// int64 microseconds since 1970-01-01T00:00:00 (as if UTC).
	// Avro timestamp-micros (no UTC marker), Iceberg timestamp.
	KindTimestamp
	// KindTimestampTZ is TIMESTAMP(fsp): an instant; Go value int64
	// microseconds since the Unix epoch, UTC. Avro timestamp-micros with the
	// UTC marker, Iceberg timestamptz.
	KindTimestampTZ
)

var kindNames = [...]string{
	KindInvalid:     "invalid",
	KindBool:        "bool",
	KindInt32:       "int32",
	KindInt64:       "int64",
	KindFloat32:     "float32",
	KindFloat64:     "float64",
	KindDecimal:     "decimal",
	KindString:      "string",
	KindBytes:       "bytes",
	KindDate:        "date",
	KindTime:        "time",
	KindDuration:    "duration",
	KindTimestamp:   "timestamp",
	KindTimestampTZ: "timestamptz",
}

// String returns the kind's lower-case name, as used in docs and errors.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if n == s && Kind(k) != KindInvalid {
			return Kind(k), nil
		}
	}
	return KindInvalid, fmt.Errorf("unknown column kind %q", s)
}

// Holds reports whether v (non-nil) is the Go value of kind k, as documented
// on the kind constants.
func (k Kind) Holds(v any) bool {
	var ok bool
	switch k {
	case KindBool:
		_, ok = v.(bool)
	case KindInt32, KindDate:
		_, ok = v.(int32)
	case KindInt64, KindTime, KindDuration, KindTimestamp, KindTimestampTZ:
		_, ok = v.(int64)
	case KindFloat32:
		_, ok = v.(float32)
	case KindFloat64:
		_, ok = v.(float64)
	case KindDecimal:
		_, ok = v.(Decimal)
	case KindString:
		_, ok = v.(string)
	case KindBytes:
		_, ok = v.([]byte)
	}
	return ok
}
