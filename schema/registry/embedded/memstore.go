package embedded

import (
	"context"
	"strings"
	"sync"

	"github.com/binlake/binlake/checkpoint"
)

// MemoryStore is a checkpoint.Store kept in memory: nothing survives the
// process. It suits tests and throwaway registries.
type MemoryStore struct {
	mu     sync.Mutex
	m      map[string][]byte
	closed bool
}

var _ checkpoint.Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string][]byte{}} }

// Get implements checkpoint.Store.
func (s *MemoryStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, checkpoint.ErrClosed
	}
	v, ok := s.m[key]
	return append([]byte(nil), v...), ok, nil
}

// Put implements checkpoint.Store.
func (s *MemoryStore) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return checkpoint.ErrClosed
	}
	s.m[key] = append([]byte(nil), value...)
	return nil
}

// Delete implements checkpoint.Store.
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return checkpoint.ErrClosed
	}
	delete(s.m, key)
	return nil
}

// List implements checkpoint.Store.
func (s *MemoryStore) List(_ context.Context, prefix string) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, checkpoint.ErrClosed
	}
	out := map[string][]byte{}
	for k, v := range s.m {
		if strings.HasPrefix(k, prefix) {
			out[k] = append([]byte(nil), v...)
		}
	}
	return out, nil
}

// Close implements checkpoint.Store.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
