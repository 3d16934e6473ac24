package heroku

import (
	"context"
	"fmt"
	"strings"

	heroku "github.com/heroku/heroku-go/v5"

	"launchplan.local/providers/internal/core"
)

// Domain: heroku_domain. ID is the domain's UUID; import ID
// "<app>:<hostname>". Replaces on appId and hostname; sniEndpointId updates
// in place.
func domainResource() *core.Resource {
	return &core.Resource{
		Token:       "heroku:domain/domain:Domain",
		Description: "A custom domain of a Heroku app (launchplan's implementation of pulumiverse-heroku's Domain).",
		Properties: []*core.Property{
			{Name: "appId", Kind: core.String, Input: true, Required: true, ForceNew: true, Description: "The app's UUID."},
			{Name: "cname", Kind: core.String, Description: "The DNS target to point the hostname at."},
			{Name: "hostname", Kind: core.String, Input: true, Required: true, ForceNew: true},
			{Name: "sniEndpointId", Kind: core.String, Input: true},
		},
		// A hostname belongs to one app at a time: moving it (appId replaced) must delete first.
		DeleteBeforeReplaceIf: func(olds, news core.Props) bool {
			return news.Known("hostname") && strings.EqualFold(news.String("hostname"), olds.String("hostname"))
		},
		Create: createDomain,
		Read:   readDomain,
		Update: updateDomain,
		Delete: deleteDomain,
	}
}

func domainProps(d *heroku.Domain) core.Props {
	out := core.NewProps().Set("appId", d.App.ID).Set("hostname", d.Hostname)
	if d.CName != nil {
		out.Set("cname", *d.CName)
	} else {
		out.Set("cname", "")
	}
	if d.SniEndpoint != nil {
		out.Set("sniEndpointId", d.SniEndpoint.ID)
	}
	return out
}

func createDomain(ctx context.Context, req *core.Request, in core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	app, host := in.String("appId"), in.String("hostname")
	o := heroku.DomainCreateOpts{Hostname: host}
	if s, ok := in.OptString("sniEndpointId"); ok && s != "" {
		o.SniEndpoint = &s
	}
	d, err := c.api.DomainCreate(ctx, app, o)
	if err != nil {
		return "", nil, apiError(req, c, fmt.Sprintf("adding domain %s to app %s", host, app), err)
	}
	if err := pause(ctx, c.postDomainCreateDelay); err != nil {
		return d.ID, nil, &core.PartialError{ID: d.ID, Outputs: domainProps(d), Err: err}
	}
	return d.ID, domainProps(d), nil
}

func readDomain(ctx context.Context, req *core.Request, id string, state, inputs core.Props) (string, core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return "", nil, err
	}
	app, ref, err := appAndRef(req, id, state, inputs, "hostname", "my-app:www.example.com")
	if err != nil {
		return "", nil, err
	}
	d, err := c.api.DomainInfo(ctx, app, ref)
	if err != nil {
		if isNotFound(err) {
			return "", nil, nil
		}
		return "", nil, apiError(req, c, fmt.Sprintf("reading domain %s of app %s", ref, app), err)
	}
	return d.ID, domainProps(d), nil
}

func updateDomain(ctx context.Context, req *core.Request, state, oldInputs, in core.Props) (core.Props, error) {
	c, err := meta(req)
	if err != nil {
		return nil, err
	}
	var sni *string
	if s, ok := in.OptString("sniEndpointId"); ok && s != "" {
		sni = &s
	}
	d, err := c.api.DomainUpdate(ctx, in.String("appId"), req.ID, heroku.DomainUpdateOpts{SniEndpoint: sni})
	if err != nil {
		return nil, apiError(req, c, "changing the SNI endpoint of domain "+state.String("hostname"), err)
	}
	return domainProps(d), nil
}

func deleteDomain(ctx context.Context, req *core.Request, state core.Props) error {
	c, err := meta(req)
	if err != nil {
		return err
	}
	if _, err := c.api.DomainDelete(ctx, state.String("appId"), req.ID); err != nil && !isNotFound(err) {
		return apiError(req, c, "removing domain "+state.String("hostname"), err)
	}
	return nil
}
