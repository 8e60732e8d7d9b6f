package connect

import (
	"strconv"
	"strings"

	"github.com/binlake/binlake/schema"
)

// TopicName returns the per-table topic of ARCHITECTURE.md section 3.2:
// "<prefix>_<db>_<table>" with every character outside [A-Za-z0-9_-] replaced
// by '_' (RocketMQ allows no dots).
func TopicName(prefix, db, table string) string {
	return SanitizeTopic(prefix + "_" + db + "_" + table)
}

// SanitizeTopic replaces every character outside [A-Za-z0-9_-] with '_' (one
// '_' per character, also for multi-byte characters).
func SanitizeTopic(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			sb.WriteRune(c)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// TableTag returns the message tag used when all tables share one topic.
func TableTag(db, table string) string { return db + "." + table }

// MessageKey returns the stable text form of a row's primary key used as the
// RocketMQ message key: the key values joined by '\x1f' (unit separator),
// each formatted by KeyValueText. It returns "" for tables without a primary
// key (they go to queue 0).
func MessageKey(t *schema.Table, row []any) string {
	if len(t.PrimaryKey) == 0 || row == nil {
		return ""
	}
	var sb strings.Builder
	for i, idx := range t.PrimaryKey {
		if i > 0 {
			sb.WriteByte('\x1f')
		}
		sb.WriteString(KeyValueText(row[idx]))
	}
	return sb.String()
}

// KeyValueText formats one key value stably: integers and decimals in base
// 10, strings as they are, bytes in hex, NULL as "\x00".
func KeyValueText(v any) string {
	switch x := v.(type) {
	case nil:
		return "\x00"
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case schema.Decimal:
		return x.String()
	case string:
		return x
	case []byte:
		const hexdig = "0123456789abcdef"
		out := make([]byte, 2*len(x))
		for i, c := range x {
			out[2*i], out[2*i+1] = hexdig[c>>4], hexdig[c&15]
		}
		return string(out)
	default:
		return ""
	}
}
