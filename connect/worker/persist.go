package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/binlake/binlake/connect"
)

// record is what the worker persists per connector: its config and the state
// it should be in, so a restarted worker brings it back the same way.
type record struct {
	Name    string         `json:"name"`
	Config  connect.Config `json:"config"`
	Target  State          `json:"target_state"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
}

// nameRE is the form of a connector name: safe in file paths and topics.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

// ValidName reports whether name can name a connector: 1 to 100 characters
// from [A-Za-z0-9_.-], starting with a letter or digit.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// recordStore keeps one JSON file per connector in dir, written atomically.
type recordStore struct{ dir string }

func newRecordStore(dir string) (*recordStore, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating connector state directory %s: %w", dir, err)
	}
	return &recordStore{dir: dir}, nil
}

func (s *recordStore) path(name string) string { return filepath.Join(s.dir, name+".json") }

// put writes r durably: temp file, fsync, rename, fsync of the directory.
func (s *recordStore) put(r *record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding connector %s: %w", r.Name, err)
	}
	return writeFileAtomic(s.path(r.Name), b)
}

func (s *recordStore) delete(name string) error {
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing connector %s: %w", name, err)
	}
	return syncDir(s.dir)
}

// load reads every record, sorted by name. A file that does not parse is an
// error: the worker refuses to start rather than silently drop a connector.
func (s *recordStore) load() ([]*record, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("listing connector state in %s: %w", s.dir, err)
	}
	var out []*record
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, n))
		if err != nil {
			return nil, fmt.Errorf("reading connector state %s: %w", n, err)
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("parsing connector state %s: %w", n, err)
		}
		if r.Name+".json" != n || !ValidName(r.Name) {
			return nil, fmt.Errorf("parsing connector state %s: name %q does not match the file", n, r.Name)
		}
		switch r.Target {
		case Running, Paused, Stopped:
		default:
			return nil, fmt.Errorf("parsing connector state %s: unknown target state %q", n, r.Target)
		}
		if r.Config == nil {
			r.Config = connect.Config{}
		}
		out = append(out, &r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the
// old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temp file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) //nolint:errcheck // gone after a successful rename
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp, path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening directory %s: %w", dir, err)
	}
	defer func() { _ = d.Close() }() // read-only handle
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
