//go:build !js

// Package httpfetch implements shim.Fetcher with net/http, for native tests
// and tools. It lives in its own package so that the wasm build, which must
// not link net/http (about 7 MB), never imports it.
package httpfetch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/esshim/esshim/shim"
)

// Fetcher is a shim.Fetcher backed by an *http.Client.
type Fetcher struct {
	Client *http.Client // nil means http.DefaultClient
}

// New returns a Fetcher using client, or http.DefaultClient when nil.
func New(client *http.Client) *Fetcher { return &Fetcher{Client: client} }

// Fetch implements shim.Fetcher.
func (f *Fetcher) Fetch(ctx shim.Context, req *shim.Request) (*shim.Response, error) {
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	hreq, err := http.NewRequestWithContext(stdContext(ctx), method, req.URL, body)
	if err != nil {
		return nil, shim.Wrap(shim.CodeNetwork, err)
	}
	for k, v := range req.Header {
		hreq.Header.Set(k, v)
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	if req.Redirect == "manual" {
		// As fetch's "manual": the redirect response itself, and the core
		// decides (shim.RedirectPolicy).
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &c
	}
	resp, err := client.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, shim.Wrap(shim.CodeAborted, err)
		}
		return nil, shim.Wrap(shim.CodeNetwork, err)
	}
	h := make(shim.Header, len(resp.Header))
	for k, vs := range resp.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	out := &shim.Response{
		Status:     resp.StatusCode,
		StatusText: http.StatusText(resp.StatusCode),
		URL:        resp.Request.URL.String(),
		Header:     h,
		Body:       &streamBody{rc: resp.Body, ctx: ctx},
	}
	if loc, err := resp.Location(); err == nil && resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		out.Location = loc.String()
	}
	return out, nil
}

// streamBody reports shim.ErrClosed for reads after Close, and ABORTED or
// NETWORK_ERROR for reads that fail, so callers see the same errors as
// from the browser adapter.
type streamBody struct {
	rc     io.ReadCloser
	ctx    shim.Context
	mu     sync.Mutex
	closed bool
}

func (b *streamBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return 0, shim.ErrClosed
	}
	n, err := b.rc.Read(p)
	if err == nil || errors.Is(err, io.EOF) {
		return n, err
	}
	b.mu.Lock()
	closed = b.closed
	b.mu.Unlock()
	switch {
	case closed:
		return n, shim.ErrClosed
	case b.ctx.Err() != nil:
		return n, shim.Wrap(shim.CodeAborted, err)
	default:
		return n, shim.Wrap(shim.CodeNetwork, err)
	}
}

func (b *streamBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return b.rc.Close()
}

// stdContext adapts a shim.Context for net/http, which wants a
// context.Context. A context.Context passes through unchanged.
func stdContext(ctx shim.Context) context.Context {
	if c, ok := ctx.(context.Context); ok {
		return c
	}
	c, cancel := context.WithCancel(context.Background())
	shim.AfterFunc(ctx, cancel)
	return c
}
