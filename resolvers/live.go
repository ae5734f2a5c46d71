package resolvers

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/internal/gid"
	"tracetrack/live"
)

// liveFail turns the reason a subscription ended into the error its client receives.
func liveFail(ctx context.Context) live.Fail {
	return func(err error) {
		parkEndError(ctx, err, LiveError(ctx, err))
	}
}

// LiveError is the error a client receives for the reason its subscription ended.
func LiveError(ctx context.Context, err error) *gqlerror.Error {
	var overflow *live.OverflowError
	switch {
	case errors.As(err, &overflow):
		e := apperr.New(apperr.ServiceUnavailable, "this subscription fell more than %d events behind and was ended; "+
			"subscribe again with after (extensions.after) to resume", overflow.Buffer).With("reason", "SLOW_SUBSCRIBER")
		if overflow.LastID > 0 {
			e = e.With("after", gid.Encode(gid.Scan, overflow.LastID))
		}
		err = e
	case errors.Is(err, live.ErrClosed):
		err = apperr.New(apperr.ServiceUnavailable, "the server is shutting down; reconnect to resume")
	}
	if _, ok := apperr.As(err); !ok {
		err = apperr.New(apperr.ServiceUnavailable, "live events are unavailable; subscribe again in a few seconds")
	}
	// The transport sends this error as it is, past the error presenter: map it the same way.
	public := apperr.Present(ctx, nil, err)
	return &gqlerror.Error{Message: public.Message, Path: graphql.GetPath(ctx), Extensions: public.ExtensionsWithCode()}
}

// afterScan decodes scanAdded's after argument (nil: no replay).
func afterScan(after *string) (int64, error) {
	if after == nil {
		return 0, nil
	}
	return gid.Decode(gid.Scan, *after)
}

// optionalID decodes a nullable id argument of the kind.
func optionalID(kind string, id *string) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	n, err := gid.Decode(kind, *id)
	return &n, err
}
