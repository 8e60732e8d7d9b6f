// Package file is a checkpoint.Store in a local directory, for development
// and single-node deployments: one file per key, written atomically (temp
// file, fsync, rename, fsync of the directory) and checksummed so a torn or
// damaged file is reported instead of being read as a checkpoint.
package file

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/binlake/binlake/checkpoint"
)

// magic starts every checkpoint file (format version 1).
const magic = "binlake-ckpt-v1\n"

// headerLen is magic, a CRC-32C of the value and the value's length.
const headerLen = len(magic) + 4 + 8

// fileSuffix marks checkpoint files; temp files start with tempPrefix.
const (
	fileSuffix = ".ckpt"
	tempPrefix = ".tmp-"
)

// maxNameLen keeps file names within common file-system limits.
const maxNameLen = 255

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by errors for checkpoint files that fail their
// checks.
var ErrCorrupt = errors.New("checkpoint file is corrupt")

// Store is a checkpoint.Store in a directory. Safe for concurrent use;
// writers are serialised, readers see either the old or the new value of a
// key, never a mix.
type Store struct {
	dir string

	mu     sync.RWMutex // writers take it exclusively, readers shared
	closed bool
}

var _ checkpoint.Store = (*Store)(nil)

// Open opens (creating it if needed) the store in dir and removes temp
// files a crashed writer left behind.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("opening file checkpoint store: directory is empty")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating checkpoint directory %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint directory %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("removing stale temp file %s: %w", e.Name(), err)
			}
		}
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Get returns the value of key.
func (s *Store) Get(_ context.Context, key string) ([]byte, bool, error) {
	name, err := fileName(key)
	if err != nil {
		return nil, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, checkpoint.ErrClosed
	}
	v, err := readFile(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading checkpoint %q: %w", key, err)
	}
	return v, true, nil
}

// Put stores value under key durably: when Put returns nil the value
// survives a crash.
func (s *Store) Put(ctx context.Context, key string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := fileName(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return checkpoint.ErrClosed
	}
	if err := s.writeAtomic(name, encode(value)); err != nil {
		return fmt.Errorf("writing checkpoint %q: %w", key, err)
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := fileName(key)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return checkpoint.ErrClosed
	}
	err = os.Remove(filepath.Join(s.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting checkpoint %q: %w", key, err)
	}
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("deleting checkpoint %q: %w", key, err)
	}
	return nil
}

// List returns every key with prefix and its value.
func (s *Store) List(ctx context.Context, prefix string) (map[string][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, checkpoint.ErrClosed
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("listing checkpoints in %s: %w", s.dir, err)
	}
	out := make(map[string][]byte)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n := e.Name()
		if e.IsDir() || strings.HasPrefix(n, tempPrefix) || !strings.HasSuffix(n, fileSuffix) {
			continue
		}
		key, err := keyOf(n)
		if err != nil {
			return nil, fmt.Errorf("listing checkpoints in %s: %w", s.dir, err)
		}
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		v, err := readFile(filepath.Join(s.dir, n))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while listing
		}
		if err != nil {
			return nil, fmt.Errorf("reading checkpoint %q: %w", key, err)
		}
		out[key] = v
	}
	return out, nil
}

// Close marks the store closed; it is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// writeAtomic writes data to name through a synced temp file and a rename,
// then syncs the directory so the rename itself is durable.
func (s *Store) writeAtomic(name string, data []byte) error {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, tempPrefix+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		return err
	}
	ok = true
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}

// encode frames value with the magic, a checksum and its length.
func encode(value []byte) []byte {
	b := make([]byte, headerLen+len(value))
	copy(b, magic)
	binary.BigEndian.PutUint32(b[len(magic):], crc32.Checksum(value, castagnoli))
	binary.BigEndian.PutUint64(b[len(magic)+4:], uint64(len(value)))
	copy(b[headerLen:], value)
	return b
}

// decode checks and unframes a file's content.
func decode(b []byte) ([]byte, error) {
	if len(b) < headerLen || !bytes.Equal(b[:len(magic)], []byte(magic)) {
		return nil, fmt.Errorf("%w: missing header (%d bytes)", ErrCorrupt, len(b))
	}
	sum := binary.BigEndian.Uint32(b[len(magic):])
	n := binary.BigEndian.Uint64(b[len(magic)+4:])
	v := b[headerLen:]
	if uint64(len(v)) != n {
		return nil, fmt.Errorf("%w: value is %d bytes, header says %d", ErrCorrupt, len(v), n)
	}
	if crc32.Checksum(v, castagnoli) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	return v, nil
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; restore the file from a backup or delete it to start that checkpoint over", path, err)
	}
	return v, nil
}

// fileName maps a key to its file name: letters, digits, '-' and '_' stay,
// '.' stays except first, every other byte becomes %XX. The mapping is
// injective and never yields a name starting with '.', so it cannot
// collide with temp files.
func fileName(key string) (string, error) {
	if key == "" {
		return "", errors.New("checkpoint key is empty")
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	b.WriteString(fileSuffix)
	if b.Len() > maxNameLen {
		return "", fmt.Errorf("checkpoint key %q is too long for a file name (%d bytes encoded, limit %d)", key, b.Len(), maxNameLen)
	}
	return b.String(), nil
}

// keyOf inverts fileName.
func keyOf(name string) (string, error) {
	enc := strings.TrimSuffix(name, fileSuffix)
	var b strings.Builder
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(enc) {
			return "", fmt.Errorf("file name %q has a truncated escape", name)
		}
		v, err := hex.DecodeString(enc[i+1 : i+3])
		if err != nil {
			return "", fmt.Errorf("file name %q has a bad escape: %w", name, err)
		}
		b.WriteByte(v[0])
		i += 2
	}
	return b.String(), nil
}
