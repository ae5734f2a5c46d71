package resolvers

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"tracetrack/apperr"
	"tracetrack/auth"
	"tracetrack/db"
	"tracetrack/live"
)

// liveArea is the area a subscriber may watch: a dispatcher their own (another is FORBIDDEN,
// never widened), others the one asked for or all (nil).
func (r *Resolver) liveArea(ctx context.Context, code *string) (*int64, error) {
	user, err := auth.Require(ctx)
	if err != nil {
		return nil, err
	}
	areaID, err := r.areaIDOf(ctx, code)
	if err != nil || user.Role != db.RoleDispatcher {
		return areaID, err
	}
	if areaID != nil && (user.AreaID == nil || *areaID != *user.AreaID) {
		return nil, apperr.New(apperr.Forbidden, "dispatchers may subscribe to their own area only (%s)", *code)
	}
	return user.AreaID, nil
}

// liveFail turns the reason a subscription ended into the error its client receives.
func liveFail(ctx context.Context) live.Fail {
	return func(err error) {
		parkEndError(ctx, liveError(ctx, err))
	}
}

func liveError(ctx context.Context, err error) *gqlerror.Error {
	var overflow *live.OverflowError
	switch {
	case errors.As(err, &overflow):
		e := apperr.New(apperr.ServiceUnavailable, "this subscription fell more than %d events behind and was ended; "+
			"subscribe again with after (extensions.after) to resume", overflow.Buffer).With("reason", "SLOW_SUBSCRIBER")
		if overflow.LastID > 0 {
			e = e.With("after", encodeID(kindScan, overflow.LastID))
		}
		err = e
	case errors.Is(err, live.ErrClosed):
		err = apperr.New(apperr.ServiceUnavailable, "the server is shutting down; reconnect to resume")
	}
	gqlErr := &gqlerror.Error{Message: "live events are unavailable; subscribe again in a few seconds",
		Path: graphql.GetPath(ctx), Extensions: map[string]any{"code": string(apperr.ServiceUnavailable)}}
	if e, ok := apperr.As(err); ok {
		gqlErr.Message = e.Message
		gqlErr.Extensions["code"] = string(e.Code)
		for k, v := range e.Extensions {
			gqlErr.Extensions[k] = v
		}
	}
	return gqlErr
}

// afterScan decodes scanAdded's after argument (nil: no replay).
func afterScan(after *string) (int64, error) {
	if after == nil {
		return 0, nil
	}
	return decodeID(kindScan, *after)
}

// optionalID decodes a nullable id argument of the kind.
func optionalID(kind string, id *string) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	n, err := decodeID(kind, *id)
	return &n, err
}
