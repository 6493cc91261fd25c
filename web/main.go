//go:build !js

// Command web serves the esshim demo, an MCP console: the page in this
// folder, the built module from dist/, the example MCP server at /mcp and an
// example SSE source at /events. `make run` starts it from the project root.
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

	opts := []mcpserver.Option{mcpserver.WithTicker(*tick)}
	if *verbose {
		opts = append(opts, mcpserver.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, nil))))
	}
	// Same origin as the page, so the server needs no CORS. Its ticker
	// lives as long as the process.
	mcp := mcpserver.NewHandler(opts...)

	mux := http.NewServeMux()
	mux.Handle("/dist/", noStore(http.StripPrefix("/dist/", http.FileServer(http.Dir("dist")))))
	mux.Handle("/", noStore(http.FileServer(http.Dir("web"))))
	mux.HandleFunc("/events", tickEvents)
	mux.Handle("/mcp", mcp)

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("esshim MCP console: http://%s/ (MCP server at http://%s/mcp)\n", l.Addr(), l.Addr())
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
