package main

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/esshim/esshim/bench/payload"
)

// site is the one origin of the benchmark, on 127.0.0.1: the pages, dist/
// (esshim and the npm bundles), the files the bench builds, the MCP
// servers and the event stream. One origin means no CORS preflight for
// either client, so neither pays for one.
type site struct {
	url      string
	server   *http.Server
	mcpSSE   *mcpServer // answers requests with SSE streams, as most servers do
	mcpJSON  *mcpServer // answers with application/json
	events   payload.Cache
	listener net.Listener
}

// startSite serves distDir at /dist/ (but /dist/test/ from testDir, the
// npm bundles), pagesDir at /bench/, buildDir (the hello-world wasm and
// its loader, the profiling build) at /build/, and versusDir, another
// esshim build, at /dist-b/ when it is set.
func startSite(distDir, testDir, pagesDir, buildDir, versusDir string) (*site, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &site{url: "http://" + l.Addr().String(), mcpSSE: newMCPServer(false), mcpJSON: newMCPServer(true), listener: l}
	mux := http.NewServeMux()
	mux.Handle("/dist/", http.StripPrefix("/dist/", http.FileServer(http.Dir(distDir))))
	mux.Handle("/dist/test/", http.StripPrefix("/dist/test/", http.FileServer(http.Dir(testDir))))
	mux.Handle("/bench/", http.StripPrefix("/bench/", http.FileServer(http.Dir(pagesDir))))
	mux.Handle("/build/", http.StripPrefix("/build/", http.FileServer(http.Dir(buildDir))))
	if versusDir != "" {
		mux.Handle("/dist-b/", http.StripPrefix("/dist-b/", http.FileServer(http.Dir(versusDir))))
	}
	mux.Handle("/mcp", s.mcpSSE)
	mux.Handle("/mcp-json", s.mcpJSON)
	mux.HandleFunc("/events", s.serveEvents)
	s.server = &http.Server{Handler: isolated(mux), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.server.Serve(l) }()
	return s, nil
}

func (s *site) close() {
	s.mcpSSE.close()
	s.mcpJSON.close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.server.Shutdown(ctx)
	_ = s.server.Close()
}

// serveEvents sends ?n= events of ?size= bytes of data, then holds the
// stream open until the client closes it: an EventSource reconnects when a
// stream ends, and a reconnect must not be part of the figure.
func (s *site) serveEvents(w http.ResponseWriter, r *http.Request) {
	n, err1 := strconv.Atoi(r.URL.Query().Get("n"))
	size, err2 := strconv.Atoi(r.URL.Query().Get("size"))
	if err1 != nil || err2 != nil || n < 0 || n > 1e6 || size < payload.MinEventSize || size >= 1<<20 {
		http.Error(w, "want ?n=events (at most a million) &size=bytes (at least "+strconv.Itoa(payload.MinEventSize)+")", http.StatusBadRequest)
		return
	}
	body := s.events.Get(n<<20|size, func(int) []byte { return payload.EventStream(n, size) })
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

// isolated makes every page cross-origin isolated, which gives
// performance.now() 5 µs resolution instead of 100 µs: a loopback round
// trip takes about a millisecond. Nothing is cached, so every load is cold.
func isolated(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cross-Origin-Opener-Policy", "same-origin")
		w.Header().Set("Cross-Origin-Embedder-Policy", "require-corp")
		w.Header().Set("Cross-Origin-Resource-Policy", "same-origin")
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
