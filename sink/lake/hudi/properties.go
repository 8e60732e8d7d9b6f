package hudi

import (
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Keys of .hoodie/hoodie.properties this package writes or reads.
const (
	PropTableName           = "hoodie.table.name"
	PropDatabaseName        = "hoodie.database.name"
	PropTableType           = "hoodie.table.type"
	PropTableVersion        = "hoodie.table.version"
	PropTimelineLayout      = "hoodie.timeline.layout.version"
	PropTimelineTimezone    = "hoodie.table.timeline.timezone"
	PropRecordKeyFields     = "hoodie.table.recordkey.fields"
	PropPartitionFields     = "hoodie.table.partition.fields"
	PropKeyGenerator        = "hoodie.table.keygenerator.class"
	PropHiveStylePartition  = "hoodie.datasource.write.hive_style_partitioning"
	PropPartitionURLEncode  = "hoodie.datasource.write.partitionpath.urlencode"
	PropDropPartitionCols   = "hoodie.datasource.write.drop.partition.columns"
	PropBaseFileFormat      = "hoodie.table.base.file.format"
	PropPopulateMetaFields  = "hoodie.populate.meta.fields"
	PropArchiveLogFolder    = "hoodie.archivelog.folder"
	PropCreateSchema        = "hoodie.table.create.schema"
	PropChecksum            = "hoodie.table.checksum"
	tableTypeCopyOnWrite    = "COPY_ON_WRITE"
	supportedTableVersion   = "6"
	supportedTimelineLayout = "1"
)

// TableChecksum is the value of hoodie.table.checksum as Hudi computes it
// (HoodieTableConfig.generateChecksum): the CRC32 (IEEE) of the UTF-8 bytes of
// "<database>.<table>", with an empty database when none is set.
func TableChecksum(database, table string) int64 {
	return int64(crc32.ChecksumIEEE([]byte(database + "." + table)))
}

// properties is a Java-properties map.
type properties map[string]string

// verifyChecksum checks hoodie.table.checksum against the table name, as Hudi
// does when it loads a table config.
func (p properties) verifyChecksum() error {
	want, ok := p[PropChecksum]
	if !ok {
		return nil // tables before version 3 have none; Hudi accepts them
	}
	got := TableChecksum(p[PropDatabaseName], p[PropTableName])
	if want != strconv.FormatInt(got, 10) {
		return fmt.Errorf("hoodie.properties checksum %s does not match %d computed from %q", want, got, p[PropDatabaseName]+"."+p[PropTableName])
	}
	return nil
}

// encode writes the properties in java.util.Properties.store format, keys
// sorted, with the two comment lines Hudi writes.
func (p properties) encode(now time.Time) []byte {
	var sb strings.Builder
	sb.WriteString("#Properties saved on " + now.UTC().Format("2006-01-02T15:04:05.000Z") + "\n")
	sb.WriteString("#" + now.UTC().Format("Mon Jan 02 15:04:05 MST 2006") + "\n")
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sb.WriteString(escapeProperty(k, true))
		sb.WriteByte('=')
		sb.WriteString(escapeProperty(p[k], false))
		sb.WriteByte('\n')
	}
	return []byte(sb.String())
}

// escapeProperty is java.util.Properties.saveConvert with escapeUnicode.
func escapeProperty(s string, isKey bool) string {
	var sb strings.Builder
	for i, r := range s {
		switch {
		case r == ' ':
			if i == 0 || isKey {
				sb.WriteString(`\ `)
			} else {
				sb.WriteByte(' ')
			}
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\f':
			sb.WriteString(`\f`)
		case r == '=' || r == ':' || r == '#' || r == '!':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			for _, u := range utf16Units(r) {
				fmt.Fprintf(&sb, `\u%04X`, u)
			}
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

func utf16Units(r rune) []uint16 {
	if r < 0x10000 {
		return []uint16{uint16(r)}
	}
	r -= 0x10000
	return []uint16{uint16(0xD800 + (r>>10)&0x3FF), uint16(0xDC00 + r&0x3FF)}
}

// parseProperties reads java.util.Properties text: comments (# and !),
// separators (=, : or white space), backslash escapes and continuation lines.
func parseProperties(data []byte) (properties, error) {
	p := properties{}
	// java.util.Properties.load(InputStream) reads ISO-8859-1: every byte
	// is one character; anything else comes as \u escapes.
	latin1 := make([]rune, len(data))
	for i, b := range data {
		latin1[i] = rune(b)
	}
	lines := strings.Split(strings.ReplaceAll(string(latin1), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		for endsWithOddBackslashes(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		k, v, err := splitProperty(line)
		if err != nil {
			return nil, fmt.Errorf("parsing properties line %d: %w", i+1, err)
		}
		p[k] = v
	}
	return p, nil
}

func endsWithOddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (string, string, error) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key, err := unescapeProperty(line[:end])
	if err != nil {
		return "", "", err
	}
	rest := strings.TrimLeft(line[end:], " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	val, err := unescapeProperty(rest)
	if err != nil {
		return "", "", err
	}
	return key, val, nil
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var sb strings.Builder
	var pending []uint16
	flush := func() {
		if len(pending) > 0 {
			sb.WriteString(decodeUTF16(pending))
			pending = pending[:0]
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			flush()
			sb.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("short \\u escape in %q", s)
			}
			u, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf("bad \\u escape in %q: %w", s, err)
			}
			pending = append(pending, uint16(u))
			i += 4
			continue
		case 't':
			flush()
			sb.WriteByte('\t')
		case 'n':
			flush()
			sb.WriteByte('\n')
		case 'r':
			flush()
			sb.WriteByte('\r')
		case 'f':
			flush()
			sb.WriteByte('\f')
		default:
			flush()
			sb.WriteByte(s[i])
		}
	}
	flush()
	return sb.String(), nil
}

func decodeUTF16(u []uint16) string {
	var sb strings.Builder
	for i := 0; i < len(u); i++ {
		r := rune(u[i])
		if r >= 0xD800 && r < 0xDC00 && i+1 < len(u) && u[i+1] >= 0xDC00 && u[i+1] < 0xE000 {
			r = (r-0xD800)<<10 + (rune(u[i+1]) - 0xDC00) + 0x10000
			i++
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
