// Package heroku is launchplan's own implementation of the pulumiverse-heroku
// 1.0.4 provider schema (type tokens, property names, types, secretness of
// the pinned Python SDK), on the official Heroku Platform API client
// github.com/heroku/heroku-go/v5. Semantics follow the upstream Terraform
// provider (heroku/terraform-provider-heroku v5) that pulumiverse-heroku
// bridges; this is no copy of it. Only the resources launchplan declares are
// implemented: App, ConfigAssociation, Addon, Formation, Domain.
package heroku

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	heroku "github.com/heroku/heroku-go/v5"

	"launchplan.local/providers/internal/core"
)

// Upstream defaults (terraform-provider-heroku v5 config.go).
const (
	defaultPostAppCreateDelay    = 10 // seconds
	defaultPostDomainCreateDelay = 5  // seconds
	defaultPostSpaceCreateDelay  = 5  // seconds
	defaultAddonCreateTimeout    = 20 // minutes
)

// client is what Configure hands to every resource call.
type client struct {
	api                        *heroku.Service
	url                        string
	postAppCreateDelay         time.Duration
	postDomainCreateDelay      time.Duration
	addonCreateTimeout         time.Duration
	setAppAllConfigVarsInState bool
	setAddonConfigVarsInState  bool
}

func meta(req *core.Request) (*client, error) {
	c, ok := req.Meta.(*client)
	if !ok || c == nil {
		return nil, fmt.Errorf("%s %q: the heroku provider was not configured (a bug: the engine always calls Configure first)", req.Token, req.Name)
	}
	return c, nil
}

var (
	customizationType = &core.ObjectType{
		Token: "heroku:index/ProviderCustomization:ProviderCustomization",
		Properties: []*core.Property{
			{Name: "setAddonConfigVarsInState", Kind: core.Bool, Input: true,
				Description: "Set the add-on's config var values in state (configVarValues). Default true."},
			{Name: "setAppAllConfigVarsInState", Kind: core.Bool, Input: true,
				Description: "Set every config var of an app in state (allConfigVars). Default true."},
		},
	}
	delaysType = &core.ObjectType{
		Token: "heroku:index/ProviderDelays:ProviderDelays",
		Properties: []*core.Property{
			{Name: "postAppCreateDelay", Kind: core.Int, Input: true, Description: "Seconds to wait after creating an app. Default 10."},
			{Name: "postDomainCreateDelay", Kind: core.Int, Input: true, Description: "Seconds to wait after creating a domain. Default 5."},
			{Name: "postSpaceCreateDelay", Kind: core.Int, Input: true, Description: "Seconds to wait after creating a space. Default 5."},
		},
	}
	timeoutsType = &core.ObjectType{
		Token: "heroku:index/ProviderTimeouts:ProviderTimeouts",
		Properties: []*core.Property{
			{Name: "addonCreateTimeout", Kind: core.Int, Input: true, Description: "Minutes to wait for an add-on to be provisioned. Default 20."},
		},
	}
)

// Provider returns the plugin declaration for the given version.
func Provider(version string) *core.Provider {
	return &core.Provider{
		Name:              "heroku",
		Version:           version,
		DisplayName:       "Heroku (launchplan)",
		Description:       "launchplan's own implementation of the pulumiverse-heroku schema, for the offline engine only.",
		Homepage:          "https://www.pulumi.com",
		Repository:        "https://github.com/pulumiverse/pulumi-heroku",
		Publisher:         "launchplan",
		PluginDownloadURL: "github://api.github.com/pulumiverse",
		Config: []*core.Property{
			{Name: "apiKey", Kind: core.String, Input: true, DefaultEnv: []string{"HEROKU_API_KEY"},
				Description: "Heroku API key (from `heroku authorizations:create`); default $HEROKU_API_KEY."},
			{Name: "customizations", Kind: core.Array, Input: true,
				Items: &core.Property{Kind: core.Object, Ref: customizationType.Token}},
			{Name: "delays", Kind: core.Object, Ref: delaysType.Token, Input: true},
			{Name: "email", Kind: core.String, Input: true, DefaultEnv: []string{"HEROKU_EMAIL"}},
			{Name: "headers", Kind: core.String, Input: true, DefaultEnv: []string{"HEROKU_HEADERS"},
				Description: "Extra HTTP headers as a JSON object of strings."},
			{Name: "timeouts", Kind: core.Object, Ref: timeoutsType.Token, Input: true},
			{Name: "url", Kind: core.String, Input: true, DefaultEnv: []string{"HEROKU_API_URL"},
				Description: "Platform API base URL; default $HEROKU_API_URL, else https://api.heroku.com."},
		},
		Types:          []*core.ObjectType{customizationType, delaysType, timeoutsType, appOrganizationType},
		Resources:      []*core.Resource{appResource(), configAssociationResource(), addonResource(), formationResource(), domainResource()},
		Configure:      configure,
		ValidateConfig: validateConfig,
	}
}

func validateConfig(cfg core.Props) []core.Failure {
	var out []core.Failure
	if h := cfg.String("headers"); h != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(h), &m); err != nil {
			out = append(out, core.Failure{Property: "headers",
				Reason: fmt.Sprintf("heroku:headers must be a JSON object of strings, e.g. {\"X-Team\":\"x\"}: %v", err)})
		}
	}
	if u := cfg.String("url"); u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			out = append(out, core.Failure{Property: "url",
				Reason: fmt.Sprintf("heroku:url %q is not an http(s) URL (set heroku:url or HEROKU_API_URL to e.g. https://api.heroku.com)", u)})
		}
	}
	if cs := cfg.Value("customizations"); cs.IsArray() && len(cs.ArrayValue()) > 1 {
		out = append(out, core.Failure{Property: "customizations", Reason: "only one heroku:customizations block is permitted"})
	}
	return out
}

func configure(_ context.Context, cfg core.Props) (any, error) {
	c := &client{
		url:                        heroku.DefaultURL,
		postAppCreateDelay:         defaultPostAppCreateDelay * time.Second,
		postDomainCreateDelay:      defaultPostDomainCreateDelay * time.Second,
		addonCreateTimeout:         defaultAddonCreateTimeout * time.Minute,
		setAppAllConfigVarsInState: true,
		setAddonConfigVarsInState:  true,
	}
	if u := strings.TrimRight(cfg.String("url"), "/"); u != "" {
		c.url = u
	}
	headers := http.Header{}
	if h := cfg.String("headers"); h != "" {
		var m map[string]string
		if err := json.Unmarshal([]byte(h), &m); err != nil {
			return nil, fmt.Errorf("heroku:headers must be a JSON object of strings: %v", err)
		}
		for k, v := range m {
			headers.Set(k, v)
		}
	}
	if d := cfg.Object("delays"); d != nil {
		if v, ok := d.OptInt("postAppCreateDelay"); ok {
			c.postAppCreateDelay = time.Duration(v) * time.Second
		}
		if v, ok := d.OptInt("postDomainCreateDelay"); ok {
			c.postDomainCreateDelay = time.Duration(v) * time.Second
		}
	}
	if t := cfg.Object("timeouts"); t != nil {
		if v, ok := t.OptInt("addonCreateTimeout"); ok && v > 0 {
			c.addonCreateTimeout = time.Duration(v) * time.Minute
		}
	}
	if cs := cfg.Value("customizations"); cs.IsArray() {
		for _, e := range cs.ArrayValue() {
			if !e.IsObject() {
				continue
			}
			o := core.Props(e.ObjectValue())
			if v, ok := o.OptBool("setAppAllConfigVarsInState"); ok {
				c.setAppAllConfigVarsInState = v
			}
			if v, ok := o.OptBool("setAddonConfigVarsInState"); ok {
				c.setAddonConfigVarsInState = v
			}
		}
	}
	c.api = newService(c.url, cfg.String("email"), cfg.String("apiKey"), headers)
	return c, nil
}

// newService builds the heroku-go client: Basic auth (email, API key) as
// upstream, retries of 429/5xx below heroku-go's error decoding.
func newService(baseURL, email, apiKey string, headers http.Header) *heroku.Service {
	svc := heroku.NewService(&http.Client{
		Timeout: 5 * time.Minute,
		Transport: &heroku.Transport{
			Username:          email,
			Password:          apiKey,
			UserAgent:         heroku.DefaultUserAgent + " pulumi-resource-heroku-launchplan",
			AdditionalHeaders: headers,
			Transport:         &core.RetryTransport{MaxAttempts: 8, MinDelay: time.Second, MaxDelay: 60 * time.Second},
		},
	})
	svc.URL = baseURL
	return svc
}
