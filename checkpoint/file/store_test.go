package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/binlake/binlake/checkpoint"
)

func TestPutGetDeleteReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Get(ctx, "c1/0"); err != nil || found {
		t.Fatalf("Get of a missing key = found %v, err %v; want not found", found, err)
	}
	if err := s.Put(ctx, "c1/0", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c1/0", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c1/1", []byte{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "gone", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "never-existed"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, _, err := s.Get(ctx, "c1/0"); !errors.Is(err, checkpoint.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}

	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	want := map[string][]byte{"c1/0": []byte("v2"), "c1/1": {}}
	for k, w := range want {
		v, found, err := s2.Get(ctx, k)
		if err != nil || !found || !bytes.Equal(v, w) {
			t.Errorf("after reopen Get(%q) = %q, %v, %v; want %q", k, v, found, err, w)
		}
	}
	if _, found, _ := s2.Get(ctx, "gone"); found {
		t.Error("deleted key is back after reopen")
	}
}

func TestListByPrefix(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys := []string{"a/1", "a/2", "a", "ab/1", "b/1", ".hidden", "sp ace/ü", "x%41"}
	for _, k := range keys {
		if err := s.Put(ctx, k, []byte("v:"+k)); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"a/", []string{"a/1", "a/2"}},
		{"a", []string{"a/1", "a/2", "a", "ab/1"}},
		{"", keys},
		{".", []string{".hidden"}},
		{"sp ace/", []string{"sp ace/ü"}},
		{"x%", []string{"x%41"}},
		{"zzz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			got, err := s.List(ctx, tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("List(%q) returned %d keys %v, want %v", tt.prefix, len(got), got, tt.want)
			}
			for _, k := range tt.want {
				if string(got[k]) != "v:"+k {
					t.Errorf("List(%q)[%q] = %q, want %q", tt.prefix, k, got[k], "v:"+k)
				}
			}
		})
	}
}

func TestFileNameRoundTrip(t *testing.T) {
	tests := []struct {
		key, name string
	}{
		{"conn/0", "conn%2F0.ckpt"},
		{"a.b", "a.b.ckpt"},
		{".x", "%2Ex.ckpt"},
		{"..", "%2E..ckpt"},
		{"%", "%25.ckpt"},
		{"ü", "%C3%BC.ckpt"},
	}
	for _, tt := range tests {
		name, err := fileName(tt.key)
		if err != nil {
			t.Fatalf("fileName(%q): %v", tt.key, err)
		}
		if name != tt.name {
			t.Errorf("fileName(%q) = %q, want %q", tt.key, name, tt.name)
		}
		back, err := keyOf(name)
		if err != nil || back != tt.key {
			t.Errorf("keyOf(%q) = %q, %v; want %q", name, back, err, tt.key)
		}
	}
	if _, err := fileName(""); err == nil {
		t.Error("empty key accepted")
	}
	if _, err := fileName(strings.Repeat("/", 100)); err == nil {
		t.Error("key longer than a file name accepted")
	}
	for _, bad := range []string{"%4.ckpt", "%zz.ckpt", "%.ckpt"} {
		if _, err := keyOf(bad); err == nil {
			t.Errorf("keyOf(%q) accepted a bad escape", bad)
		}
	}
}

func TestCorruptFileIsReported(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(ctx, "k", []byte("hello world")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "k.ckpt")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-1] ^= 0xFF
	damages := map[string][]byte{
		"flipped byte": flipped,
		"truncated":    good[:len(good)-3],
		"no header":    []byte("hello"),
		"empty":        {},
	}
	for name, content := range damages {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(path, content, 0o640); err != nil {
				t.Fatal(err)
			}
			_, _, err := s.Get(ctx, "k")
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Get of a damaged file = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if _, err := s.List(ctx, ""); !errors.Is(err, ErrCorrupt) {
				t.Errorf("List over a damaged file = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestStaleTempFilesAreIgnoredAndRemoved(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "k", []byte("committed")); err != nil {
		t.Fatal(err)
	}
	// A writer that crashed before its rename leaves a temp file with a
	// newer value: it must not be visible, and the next Open removes it.
	tmp := filepath.Join(dir, tempPrefix+"deadbeef")
	if err := os.WriteFile(tmp, encode([]byte("uncommitted")), 0o640); err != nil {
		t.Fatal(err)
	}
	all, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || string(all["k"]) != "committed" {
		t.Fatalf("List = %q, want only k=committed", all)
	}
	_ = s.Close()
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("stale temp file still there after Open: %v", err)
	}
	v, _, err := s2.Get(ctx, "k")
	if err != nil || string(v) != "committed" {
		t.Errorf("Get = %q, %v; want committed", v, err)
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, rounds = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < rounds; i++ {
				// shared key: every value must be one writer's whole value
				if err := s.Put(ctx, "shared", bytes.Repeat([]byte{byte('a' + w)}, 1000+i)); err != nil {
					errs <- err
					return
				}
				if err := s.Put(ctx, fmt.Sprintf("own/%d", w), []byte(fmt.Sprint(i))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < rounds*2; i++ {
			v, found, err := s.Get(ctx, "shared")
			if err != nil {
				errs <- err
				return
			}
			if found && (len(v) < 1000 || !bytes.Equal(v, bytes.Repeat(v[:1], len(v)))) {
				errs <- fmt.Errorf("torn value of %d bytes", len(v))
				return
			}
			if _, err := s.List(ctx, "own/"); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	own, err := s.List(ctx, "own/")
	if err != nil {
		t.Fatal(err)
	}
	for w := 0; w < writers; w++ {
		if got := string(own[fmt.Sprintf("own/%d", w)]); got != fmt.Sprint(rounds-1) {
			t.Errorf("own/%d = %q, want %d", w, got, rounds-1)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encode([]byte("value")))
	f.Add(encode(nil))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if !bytes.Equal(encode(v), b) {
			t.Fatalf("decoded %q but it does not encode back to the input", v)
		}
	})
}

func FuzzFileName(f *testing.F) {
	for _, k := range []string{"conn/0", ".x", "%", "ü", "a.b"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, key string) {
		name, err := fileName(key)
		if err != nil {
			return
		}
		if strings.HasPrefix(name, ".") || strings.ContainsRune(name, '/') || strings.ContainsRune(name, 0) {
			t.Fatalf("fileName(%q) = %q is not a safe file name", key, name)
		}
		back, err := keyOf(name)
		if err != nil || back != key {
			t.Fatalf("keyOf(fileName(%q)) = %q, %v", key, back, err)
		}
	})
}
