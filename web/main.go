//go:build !js

// Command web serves the esshim demo, an MCP console: the page in this
// folder, the built module from dist/, the example MCP server at /mcp
// (2025, with sessions) and at /mcp-stateless (2026-07-28), and an example
// SSE source at /events. `make run` starts it from the project root.
package main

import (
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/esshim/esshim/e2e/mcpserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback only by default)")
	tick := flag.Duration("tick", 5*time.Second, "how often the example MCP server sends a log notification (0: never)")
	verbose := flag.Bool("v", false, "log the MCP server's activity")
	flag.Parse()

	var common []mcpserver.Option
	if *verbose {
		common = append(common, mcpserver.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	// Same origin as the page, so the servers need no CORS. The ticker
	// lives as long as the process. /mcp is a 2025 server with sessions and
	// a standalone stream; /mcp-stateless a 2026-07-28 one (which answers
	// 2025 clients too, without sessions).
	mcp := mcpserver.NewHandler(append([]mcpserver.Option{mcpserver.WithTicker(*tick)}, common...)...)
	stateless := mcpserver.NewHandler(append([]mcpserver.Option{mcpserver.WithStateless()}, common...)...)

	mux := http.NewServeMux()
	mux.Handle("/dist/", noStore(http.StripPrefix("/dist/", http.FileServer(http.Dir("dist")))))
	mux.Handle("/", noStore(http.FileServer(http.Dir("web"))))
	mux.HandleFunc("/events", tickEvents)
	mux.Handle("/mcp", mcp)
	mux.Handle("/mcp-stateless", stateless)

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("esshim MCP console: http://%s/ (MCP servers: 2025 at http://%s/mcp, 2026-07-28 at http://%s/mcp-stateless)\n", l.Addr(), l.Addr(), l.Addr())
	log.Fatal(http.Serve(l, mux))
}

// tickEvents is the example SSE source: a numbered tick every second, with
// ids so that a reconnect resumes where it left off.
func tickEvents(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	n := 0
	fmt.Sscan(r.Header.Get("Last-Event-ID"), &n)
	fmt.Fprint(w, "retry: 2000\n\n")
	w.(http.Flusher).Flush()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case now := <-t.C:
			n++
			fmt.Fprintf(w, "id: %d\nevent: tick\ndata: {\"n\":%d,\"time\":%q}\n\n", n, n, now.Format(time.RFC3339))
			w.(http.Flusher).Flush()
		}
	}
}

func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
