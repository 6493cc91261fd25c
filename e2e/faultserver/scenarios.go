package faultserver

import (
	"net/http"
	"slices"
	"sync/atomic"
	"time"
)

// The functions below build the Config of each named scenario of the
// transport and lifecycle issues, so that a browser test and the native
// test that proves the server side agree on what the scenario is. Each
// returns a fresh Config; change its fields for variations.

// Leapfrog: every POST stream starts with a priming event carrying an id
// and retry: 50, and ends right after its response; a new standalone GET
// replaces (ends) the session's previous one. A client that reconnects
// finished POST streams as GETs shows up as many GETs and as
// MaxOpenStandalone() > 1.
func Leapfrog() Config {
	return Config{
		POST: StreamPlan{Priming: true, Retry: 50 * time.Millisecond},
		GET:  GETReplace,
	}
}

// Resume: every POST stream answering a tools/call dies right after its
// priming event (which carries retry). The response waits in the stream's
// log and is written only to a GET carrying that stream's Last-Event-ID.
func Resume(retry time.Duration) Config {
	return Config{
		POST: StreamPlan{Priming: true, Retry: retry},
		Plan: CutToolCalls(Cut{At: CutAfterPriming}),
	}
}

// NoID: every POST stream answering a tools/call ends right after its
// headers, before any event, so the client has no id to resume from.
func NoID() Config {
	return Config{Plan: CutToolCalls(Cut{At: CutAtOnce})}
}

// RetryPerStream: the first standalone GET of each session primes with
// retry standalone and ends at once; every POST stream primes with retry
// post and those answering tools/call end right after. Each stream must
// come back after its own delay: see Server.Reconnects.
func RetryPerStream(standalone, post time.Duration) Config {
	return Config{
		Standalone: StreamPlan{Priming: true, Retry: standalone},
		POST:       StreamPlan{Priming: true, Retry: post},
		Plan: Chain(
			CutFirst(ConnStandalone, 1, Cut{At: CutAfterPriming}),
			CutToolCalls(Cut{At: CutAfterPriming}),
		),
	}
}

// Exhausted: the first standalone GET of the server primes with retry and
// ends at once; every later GET is answered with dead, e.g.
// Reply{Status: 500} or Reply{Reset: true}: an endpoint that died.
func Exhausted(retry time.Duration, dead Reply) Config {
	return Config{
		Standalone: StreamPlan{Priming: true, Retry: retry, Cut: Cut{At: CutAfterPriming}},
		Intercept:  FailAfter(http.MethodGet, 1, dead),
	}
}

// IdleClose: the standalone stream primes (so each connection has an id)
// and is ended cleanly once after has passed without an event, as proxies
// do. A client must keep coming back and never give up.
func IdleClose(after time.Duration) Config {
	return Config{Standalone: StreamPlan{Priming: true, IdleClose: after}}
}

// CloseAtOnce: every standalone GET is accepted (200, text/event-stream)
// and ended at once without any event. A client must back off, not hammer.
func CloseAtOnce() Config {
	return Config{Standalone: StreamPlan{Cut: Cut{At: CutAtOnce}}}
}

// Concurrency: POSTs are answered as JSON or SSE (with priming events) at
// random, from seed.
func Concurrency(seed uint64) Config {
	return Config{Responses: ResponsesMixed, Seed: seed, POST: StreamPlan{Priming: true}}
}

// OrphanStorm: like Concurrency, and each POST stream is cut at random with
// probability dropRate (see Config.DropRate). The test expires the session
// itself, with Server.ExpireSessions, at the moments it chooses.
func OrphanStorm(seed uint64, dropRate float64) Config {
	return Config{
		Responses: ResponsesMixed,
		Seed:      seed,
		POST:      StreamPlan{Priming: true, Retry: 50 * time.Millisecond},
		DropRate:  dropRate,
	}
}

// NotFoundWithSessionID is an Intercept that answers every request that
// carried no Mcp-Session-Id (the initialize) with 404 and an
// Mcp-Session-Id header set to id. A client must not read that as expiry.
func NotFoundWithSessionID(id string) func(Request) *Reply {
	return func(r Request) *Reply {
		if r.SessionID != "" {
			return nil
		}
		return &Reply{Status: http.StatusNotFound, Header: map[string]string{"Mcp-Session-Id": id}, Body: "not found\n"}
	}
}

// FailAfter is an Intercept that lets the first n requests with the given
// HTTP method through and answers every later one with reply.
func FailAfter(httpMethod string, n int, reply Reply) func(Request) *Reply {
	var seen atomic.Int64
	return func(r Request) *Reply {
		if r.HTTPMethod != httpMethod || seen.Add(1) <= int64(n) {
			return nil
		}
		return &reply
	}
}

// CutToolCalls cuts every POST connection that answers a tools/call.
func CutToolCalls(cut Cut) PlanFunc {
	return func(info ConnInfo, plan StreamPlan) StreamPlan {
		if info.Kind == ConnPOST && slices.Contains(info.Methods, "tools/call") {
			plan.Cut = cut
		}
		return plan
	}
}

// CutFirst cuts the first n connections of the given kind of each session.
func CutFirst(kind ConnKind, n int, cut Cut) PlanFunc {
	return func(info ConnInfo, plan StreamPlan) StreamPlan {
		if info.Kind == kind && info.Ordinal <= n {
			plan.Cut = cut
		}
		return plan
	}
}

// Chain applies plans in order, each to the result of the one before.
func Chain(plans ...PlanFunc) PlanFunc {
	return func(info ConnInfo, plan StreamPlan) StreamPlan {
		for _, p := range plans {
			plan = p(info, plan)
		}
		return plan
	}
}
