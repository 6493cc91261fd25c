//go:build !js

// Command web serves the esshim demo: the page in this folder, the built
// module from dist/, and example servers to talk to. `make run` starts it.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address (loopback only by default)")
	flag.Parse()

	mux := http.NewServeMux()
	mux.Handle("/dist/", noStore(http.StripPrefix("/dist/", http.FileServer(http.Dir("dist")))))
	mux.Handle("/", noStore(http.FileServer(http.Dir("web"))))
	mux.HandleFunc("/events", tickEvents)

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("esshim demo: http://%s/\n", l.Addr())
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
