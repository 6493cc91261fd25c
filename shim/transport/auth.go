package transport

import (
	"strconv"
	"strings"

	"github.com/esshim/esshim/shim"
)

// AuthKind says what Options.Authorize is asked to do.
type AuthKind uint8

const (
	// AuthUnauthorized: the server answered 401. Authorize runs the
	// authorization flow (the SDK's onUnauthorized, or auth() with the
	// challenge's resource_metadata and scope); the request is then sent
	// again, once.
	AuthUnauthorized AuthKind = iota
	// AuthStepUp: the server answered 403 with error="insufficient_scope".
	// Authorize re-authorizes with the union of the granted and the
	// challenged scopes; the request is then sent again.
	AuthStepUp
	// AuthInsufficientScope: the same 403 under StepUpThrow. Authorize
	// does not re-authorize: it returns the error to report (the SDK's
	// InsufficientScopeError).
	AuthInsufficientScope
)

// StepUpMode is the SDK v2's onInsufficientScope option.
type StepUpMode uint8

const (
	StepUpReauthorize StepUpMode = iota // 'reauthorize', the default
	StepUpThrow                         // 'throw'
)

// AuthChallenge is the refusal Options.Authorize is asked to answer. It
// holds what the SDK's flow reads from the response: the status and the
// WWW-Authenticate header (resource_metadata, scope, error).
type AuthChallenge struct {
	Kind            AuthKind
	Method          string // "POST" or "GET"
	Status          int
	StatusText      string
	WWWAuthenticate string
	// StepUps counts the step-up re-authorizations this request had.
	StepUps int
}

// authTries is the authorization history of one request (or one GET
// stream): the decisions that bound the retries are taken from it.
type authTries struct {
	reauthorized bool // a 401 was answered by Authorize already
	stepUps      int
}

// authRetry is what post returns when the request must be sent again
// after Options.Authorize answered challenge.
type authRetry struct{ challenge *AuthChallenge }

func (*authRetry) Error() string { return "authorization required" }

// authDecision judges a response: nil, nil when it is no matter of
// authorization (or the transport has no Authorize); a challenge for
// Authorize; or the error that ends the request (a 401 after
// re-authorization, a 403 past MaxStepUpRetries).
func (lc *lifecycle) authDecision(resp *shim.Response, tries *authTries, method string) (*AuthChallenge, *shim.Error) {
	o := &lc.t.opts
	if o.Authorize == nil || tries == nil || (resp.Status != 401 && resp.Status != 403) {
		return nil, nil
	}
	www := resp.Header.Get("www-authenticate")
	c := &AuthChallenge{Method: method, Status: resp.Status, StatusText: resp.StatusText, WWWAuthenticate: www, StepUps: tries.stepUps}
	if resp.Status == 401 {
		if tries.reauthorized {
			return nil, shim.HTTPError(401, "Server returned 401 after re-authentication")
		}
		tries.reauthorized = true
		c.Kind = AuthUnauthorized
		return c, nil
	}
	// As the SDK, only a Bearer challenge is read.
	if len(www) < 7 || shim.LowerASCII(www[:7]) != "bearer " || authParam(www[7:], "error") != "insufficient_scope" {
		return nil, nil
	}
	switch {
	case o.StepUp == StepUpThrow:
		c.Kind = AuthInsufficientScope
	case tries.stepUps >= o.MaxStepUpRetries:
		return nil, shim.HTTPError(403, "Server returned 403 insufficient_scope after step-up re-authorization (retry limit "+
			strconv.Itoa(o.MaxStepUpRetries)+" reached)")
	default:
		tries.stepUps++
		c.Kind = AuthStepUp
	}
	return c, nil
}

// authorize runs Options.Authorize for c without the lock. Close ends
// the wait: a flow that finishes after Close never sends anything, in
// this lifecycle or the next. An error is reported to Handler.Error, as
// the SDK reports what its auth() throws to onerror, and returned.
func (lc *lifecycle) authorize(ctx shim.Context, c *AuthChallenge) error {
	actx, cancel := lc.withLifecycle(ctx)
	err := lc.t.opts.Authorize(actx, c)
	cancel()
	if err == nil && c.Kind == AuthInsufficientScope {
		err = shim.HTTPError(403, "insufficient_scope")
	}
	t := lc.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if ierr := lc.interruptedLocked(ctx); ierr != nil {
		return ierr
	}
	if err != nil {
		e, ok := err.(*shim.Error)
		if !ok {
			e = &shim.Error{Code: shim.CodeHTTP, Status: c.Status, Message: "authorization failed: " + err.Error(), Err: err}
		}
		lc.errorLocked(e)
		return e
	}
	return nil
}

// authParam returns the value of the auth-param name in a WWW-Authenticate
// header (RFC 9110 §11.6.1), unquoted; "" when absent. name is lower case. It reads the first
// occurrence, whatever the scheme, as the SDK does.
func authParam(header, name string) string {
	s := header
	for len(s) > 0 {
		i := strings.IndexByte(s, '=')
		if i < 0 {
			return ""
		}
		key := strings.TrimSpace(s[:i])
		// The key is the last word before '=' (after the scheme or a ',').
		// Byte loops rather than strings.LastIndexAny and TrimLeft, which
		// link about 3 KB of Unicode-aware code into the wasm.
		for j := len(key) - 1; j >= 0; j-- {
			if key[j] == ' ' || key[j] == ',' {
				key = key[j+1:]
				break
			}
		}
		s = s[i+1:]
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
		}
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			k := 1
			for ; k < len(s) && s[k] != '"'; k++ {
				if s[k] == '\\' && k+1 < len(s) {
					k++
				}
				b.WriteByte(s[k])
			}
			val, s = b.String(), s[min(k+1, len(s)):]
		} else {
			end := strings.IndexAny(s, ", ")
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if shim.LowerASCII(key) == name {
			return val
		}
	}
	return ""
}
