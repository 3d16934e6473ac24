package heroku

import (
	"context"
	"fmt"
	"strings"

	heroku "github.com/heroku/heroku-go/v5"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"launchplan.local/providers/internal/core"
)

// Formation: heroku_formation. ID is the formation's UUID; import ID
// "<app>:<type>". Replaces only on appId; Heroku has no formation delete, so
// Delete is a no-op (the dynos keep running). Sizes compare
// case-insensitively and are stored as Heroku answers them ("Standard-1X").
func formationResource() *core.Resource {
	sizeEqual := func(a, b resource.PropertyValue) bool {
		return a.IsString() && b.IsString() && strings.EqualFold(a.StringValue(), b.StringValue())
	}
	return &core.Resource{
		Token:       "heroku:formation/formation:Formation",
		Description: "The dyno formation of one process type (launchplan's implementation of pulumiverse-heroku's Formation).",
		Properties: []*core.Property{
			{Name: "appId", Kind: core.String, Input: true, Required: true, ForceNew: true, Description: "The app's UUID."},
			{Name: "quantity", Kind: core.Int, Input: true, Required: true},
			{Name: "size", Kind: core.String, Input: true, Required: true, Equal: sizeEqual, Description: "e.g. standard-1x, basic"},
			{Name: "type", Kind: core.String, Input: true, Required: true, Description: "Process type, e.g. web."},
		},
		Validate: func(in core.Props) []core.Failure {
			if q, ok := in.OptInt("quantity"); ok && q < 0 {
				return []core.Failure{{Property: "quantity", Reason: fmt.Sprintf("quantity must be 0 or more, got %d", q)}}
			}
			return nil
		},
		Create: func(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
			out, err := scale(ctx, req, in, true, true)
			if err != nil {
				return "", nil, err
			}
			return out.String("__id"), strip(out), nil
		},
		Read: readFormation,
		Update: func(ctx context.Context, req *core.Request, state, oldInputs, in core.Props) (core.Props, error) {
			sizeChanged := !strings.EqualFold(in.String("size"), state.String("size"))
			out, err := scale(ctx, req, in, sizeChanged, in.Int("quantity") != state.Int("quantity"))
			if err != nil {
				return nil, err
			}
			return strip(out), nil
		},
		Delete: nil, // no DELETE endpoint: removing the resource leaves the dynos as they are (upstream)
	}
}

func strip(p core.Props) core.Props {
	delete(p, "__id")
	return p
}

func formationProps(f *heroku.Formation) core.Props {
	return core.NewProps().
		Set("__id", f.ID).
		Set("appId", f.App.ID).
		Set("type", f.Type).
		Set("quantity", f.Quantity).
		Set("size", formatSize(f.Size))
}

func scale(ctx context.Context, req *core.Request, in core.Props, size, quantity bool) (core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return nil, err
	}
	app, typ := in.String("appId"), in.String("type")
	o := heroku.FormationUpdateOpts{}
	if size {
		s := in.String("size")
		o.Size = &s
	}
	if quantity {
		q := in.Int("quantity")
		o.Quantity = &q
	}
	f, err := c.api.FormationUpdate(ctx, app, typ, o)
	if err != nil {
		return nil, apiError(req, c, fmt.Sprintf("scaling process type %s of app %s to %d x %s (Heroku only accepts a process type "+
			"the app's latest release defines: deploy the code first)", typ, app, in.Int("quantity"), in.String("size")), err)
	}
	return formationProps(f), nil
}

func readFormation(ctx context.Context, req *core.Request, id string, state, inputs core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	app, ref, err := appAndRef(req, id, state, inputs, "process type", "my-app:web")
	if err != nil {
		return "", nil, err
	}
	f, err := c.api.FormationInfo(ctx, app, ref)
	if err != nil {
		if isNotFound(err) {
			return "", nil, nil
		}
		return "", nil, apiError(req, c, fmt.Sprintf("reading formation %s of app %s", ref, app), err)
	}
	out := formationProps(f)
	return f.ID, strip(out), nil
}
