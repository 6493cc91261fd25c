//go:build js && wasm

package main

import (
	"github.com/esshim/esshim/shim"
	"github.com/esshim/esshim/shim/transport"
	"github.com/hack-pad/safejs"
)

// authKinds names transport.AuthKind for the JS side.
var authKinds = [...]string{
	transport.AuthUnauthorized:      "unauthorized",
	transport.AuthStepUp:            "step-up",
	transport.AuthInsufficientScope: "insufficient-scope",
}

// authorizer adapts the JS wrapper's authorize(challenge) => Promise: the
// JS side runs the SDK's flow (onUnauthorized, or auth() with an
// OAuthClientProvider) and settles. The core decides when to ask and what
// follows. challenge.signal aborts when the core stops waiting (Close), so
// that the flow's own fetches end too. What the flow throws reaches the
// application as the very same JS value (see thrownError): the SDK's
// UnauthorizedError and InsufficientScopeError stay instanceof-checkable.
func authorizer(fn safejs.Value) func(shim.Context, *transport.AuthChallenge) error {
	return func(ctx shim.Context, c *transport.AuthChallenge) error {
		controller, err := jsAbortController.New()
		if err != nil {
			return shim.Wrap(shim.CodeInternal, err)
		}
		stop := shim.AfterFunc(ctx, func() { _, _ = controller.Call("abort") })
		defer stop()
		ch := newObject()
		_ = ch.Set("kind", authKinds[c.Kind])
		_ = ch.Set("method", c.Method)
		_ = ch.Set("status", c.Status)
		_ = ch.Set("statusText", c.StatusText)
		_ = ch.Set("wwwAuthenticate", c.WWWAuthenticate)
		_ = ch.Set("stepUps", c.StepUps)
		signal, _ := controller.Get("signal")
		_ = ch.Set("signal", signal)
		p, err := fn.Invoke(ch)
		if err != nil {
			return shim.Wrap(shim.CodeInternal, err)
		}
		_, err = awaitThrown(ctx, p)
		return err
	}
}

// thrownError carries a value JS threw through the core unchanged:
// toJSError hands back v itself, not a copy.
type thrownError struct {
	v   safejs.Value
	msg string
}

func (e *thrownError) Error() string { return e.msg }

// thrownValue returns the JS value a thrownError in err's chain carries.
func thrownValue(err error) (safejs.Value, bool) {
	for err != nil {
		if t, ok := err.(*thrownError); ok {
			return t.v, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			break
		}
		err = u.Unwrap()
	}
	return safejs.Undefined(), false
}
