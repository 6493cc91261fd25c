package shim

// RedirectPolicy says which redirects of a request are followed. It is the
// TypeScript SDK's redirectPolicy option.
type RedirectPolicy int

const (
	// RedirectSameOrigin follows a redirect only when it keeps the method
	// and stays within the origin of the request (or goes from http to
	// https on the same host with default ports), and only where the
	// platform shows the target: a browser hides it, so there every
	// redirect fails with REDIRECT_BLOCKED. Nothing reaches another origin.
	RedirectSameOrigin RedirectPolicy = iota
	// RedirectFollow leaves redirects to fetch, except for a request that
	// carries origin-bound state (a session id, a Last-Event-ID, the
	// application's headers): that one is treated as under
	// RedirectSameOrigin, so its state never reaches another origin.
	RedirectFollow
)

// ParseRedirectPolicy maps the option's JS value; anything but "follow"
// is the default, "same-origin".
func ParseRedirectPolicy(s string) RedirectPolicy {
	if s == "follow" {
		return RedirectFollow
	}
	return RedirectSameOrigin
}

func (p RedirectPolicy) String() string {
	if p == RedirectFollow {
		return "follow"
	}
	return "same-origin"
}

// maxRedirects bounds the redirects followed for one request, as the
// TypeScript SDK does.
const maxRedirects = 5

// Fetch performs req with f under the policy. originBound tells whether
// req carries state that belongs to the origin of req.URL. A redirect that
// is not followed fails with REDIRECT_BLOCKED, its status (0 for an opaque
// one) and its target's origin, never the full target URL: the request
// never reaches that target.
func (p RedirectPolicy) Fetch(ctx Context, f Fetcher, req *Request, originBound bool) (*Response, error) {
	cur := *req
	if p == RedirectFollow && !originBound {
		cur.Redirect = "follow"
		return f.Fetch(ctx, &cur)
	}
	cur.Redirect = "manual"
	for followed := 0; ; followed++ {
		resp, err := f.Fetch(ctx, &cur)
		if err != nil {
			return nil, err
		}
		if resp.OpaqueRedirect {
			closeBody(resp)
			return nil, p.blocked(0, "the server redirected the request, and a browser does not show where to")
		}
		if !isRedirect(resp.Status) || resp.Location == "" {
			return resp, nil
		}
		closeBody(resp)
		target := resp.Location
		keepsMethod := resp.Status == 307 || resp.Status == 308 || cur.Method == "" || cur.Method == "GET"
		switch {
		case followed == maxRedirects:
			return nil, p.blocked(resp.Status, "too many redirects")
		case !keepsMethod:
			return nil, p.blocked(resp.Status, "a redirect that changes the method is not followed")
		case !withinOrigin(req.URL, target) || userinfo(target) != "" && userinfo(target) != userinfo(cur.URL):
			return nil, p.blocked(resp.Status, "redirect to "+Origin(target)+" not followed")
		}
		cur.URL = target
	}
}

func (p RedirectPolicy) blocked(status int, why string) *Error {
	return &Error{Code: CodeRedirectBlocked, Status: status, Message: why + " (redirectPolicy: '" + p.String() + "')"}
}

func isRedirect(status int) bool {
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308
}

// withinOrigin reports whether to has the origin of from, or is its https
// form with both on default ports: the TypeScript SDK's rule.
func withinOrigin(from, to string) bool {
	a, b := Origin(from), Origin(to)
	if a == "null" || b == "null" {
		return false
	}
	return a == b || len(a) > 7 && a[:7] == "http://" && "https://"+a[7:] == b && !hasPort(a[7:])
}

// hasPort reports whether a serialized origin's host holds a port.
func hasPort(host string) bool {
	for i := len(host) - 1; i >= 0; i-- {
		switch host[i] {
		case ':':
			return true
		case ']':
			return false
		}
	}
	return false
}

// userinfo returns the userinfo of an absolute URL, "" when it has none.
func userinfo(rawURL string) string {
	i := 0
	for ; i+2 < len(rawURL); i++ {
		if rawURL[i] == ':' && rawURL[i+1] == '/' && rawURL[i+2] == '/' {
			break
		}
	}
	authority := rawURL[min(i+3, len(rawURL)):]
	for j := 0; j < len(authority); j++ {
		switch authority[j] {
		case '/', '?', '#':
			return ""
		case '@':
			return authority[:j]
		}
	}
	return ""
}

func closeBody(resp *Response) {
	if resp.Body != nil {
		resp.Body.Close()
	}
}
