//go:build js && wasm

package main

import "sync"

// handleTable maps the integer handles that JS holds to Go objects. JS never
// holds a Go pointer or a per-object js.Func: an unknown or stale handle is
// simply ignored.
type handleTable[T any] struct {
	mu   sync.Mutex
	next int
	m    map[int]T
}

func (h *handleTable[T]) add(v T) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[int]T)
	}
	h.next++
	h.m[h.next] = v
	return h.next
}

func (h *handleTable[T]) get(id int) (T, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[id]
	return v, ok
}

func (h *handleTable[T]) remove(id int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, id)
}

func (h *handleTable[T]) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.m)
}
