package spec

import (
	"strconv"
	"strings"
	"time"

	"github.com/binlake/binlake/connect"
)

// The getters read one value from a config that was validated and had its
// defaults applied (as connect.TaskContext.Config has). An absent or
// unparsable value yields the zero value.

// GetString returns cfg[key] with surrounding spaces trimmed.
func GetString(cfg connect.Config, key string) string { return strings.TrimSpace(cfg[key]) }

// GetInt returns cfg[key] as an int.
func GetInt(cfg connect.Config, key string) int {
	n, _ := strconv.ParseInt(strings.TrimSpace(cfg[key]), 10, 32)
	return int(n)
}

// GetLong returns cfg[key] as an int64.
func GetLong(cfg connect.Config, key string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(cfg[key]), 10, 64)
	return n
}

// GetBool returns cfg[key] as a bool.
func GetBool(cfg connect.Config, key string) bool {
	b, _ := parseBool(cfg[key])
	return b
}

// GetDouble returns cfg[key] as a float64.
func GetDouble(cfg connect.Config, key string) float64 {
	f, _ := strconv.ParseFloat(strings.TrimSpace(cfg[key]), 64)
	return f
}

// GetList returns cfg[key] split at commas, elements trimmed, empty ones
// dropped (nil for an absent or empty value).
func GetList(cfg connect.Config, key string) []string { return splitList(cfg[key]) }

// GetDuration returns cfg[key] as a time.Duration (milliseconds, or a Go
// duration such as "10s").
func GetDuration(cfg connect.Config, key string) time.Duration {
	d, _ := parseDuration(cfg[key])
	return d
}
