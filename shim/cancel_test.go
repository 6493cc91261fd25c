package shim

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func isDone(c Context) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func TestWithCancel(t *testing.T) {
	tests := []struct {
		name   string
		parent func() (Context, func())
	}{
		{"own parent", func() (Context, func()) { c, f := WithCancel(Background()); return c, f }},
		{"std parent", func() (Context, func()) { c, f := context.WithCancel(context.Background()); return c, f }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, cancelParent := tt.parent()
			child, cancelChild := WithCancel(parent)
			grandchild, _ := WithCancel(child)
			sibling, cancelSibling := WithCancel(parent)
			defer cancelSibling()

			cancelChild()
			assert.True(t, isDone(child))
			assert.True(t, isDone(grandchild), "cancel reaches children")
			assert.ErrorIs(t, grandchild.Err(), ErrCanceled)
			assert.False(t, isDone(parent), "cancel never reaches the parent")
			assert.False(t, isDone(sibling))

			cancelParent()
			require.Eventually(t, func() bool { return isDone(sibling) }, time.Second, time.Millisecond)
			assert.Error(t, sibling.Err())
			cancelChild() // idempotent
		})
	}
}

func TestWithCancelOfEndedParent(t *testing.T) {
	parent, cancel := WithCancel(Background())
	cancel()
	child, _ := WithCancel(parent)
	assert.True(t, isDone(child))
}

func TestAfterFunc(t *testing.T) {
	t.Run("runs once on cancel", func(t *testing.T) {
		ctx, cancel := WithCancel(Background())
		var n atomic.Int32
		ran := make(chan struct{})
		AfterFunc(ctx, func() { n.Add(1); close(ran) })
		cancel()
		cancel()
		<-ran
		time.Sleep(10 * time.Millisecond)
		assert.Equal(t, int32(1), n.Load())
	})
	t.Run("stop before cancel", func(t *testing.T) {
		ctx, cancel := WithCancel(Background())
		var n atomic.Int32
		stop := AfterFunc(ctx, func() { n.Add(1) })
		assert.True(t, stop())
		assert.False(t, stop())
		cancel()
		time.Sleep(10 * time.Millisecond)
		assert.Equal(t, int32(0), n.Load())
	})
	t.Run("already ended", func(t *testing.T) {
		ctx, cancel := WithCancel(Background())
		cancel()
		ran := make(chan struct{})
		AfterFunc(ctx, func() { close(ran) })
		<-ran
	})
	t.Run("std context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		AfterFunc(ctx, func() { close(ran) })
		cancel()
		<-ran
	})
	t.Run("stop does not wait for a running f", func(t *testing.T) {
		// f takes a lock that stop's caller holds: stop must return
		// (false) instead of waiting for f, or both wait forever.
		ctx, cancel := WithCancel(Background())
		var mu sync.Mutex
		started, done := make(chan struct{}), make(chan struct{})
		stop := AfterFunc(ctx, func() {
			close(started)
			mu.Lock()
			mu.Unlock()
			close(done)
		})
		mu.Lock()
		cancel()
		<-started
		stopped := make(chan bool)
		go func() { stopped <- stop() }()
		select {
		case ok := <-stopped:
			assert.False(t, ok, "f had started")
		case <-time.After(2 * time.Second):
			t.Fatal("stop waited for the running f")
		}
		mu.Unlock()
		<-done
	})
	t.Run("background never runs", func(t *testing.T) {
		stop := AfterFunc(Background(), func() { t.Error("ran") })
		assert.True(t, stop())
	})
}
