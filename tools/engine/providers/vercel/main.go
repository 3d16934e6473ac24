// pulumi-resource-vercel built from Go modules the module proxy serves.
//
// Neither pulumiverse's provider module nor any Vercel Terraform provider
// release newer than v1.14.1 is served by the module proxy reachable from our
// machines. This main bridges github.com/vercel/terraform-provider-vercel
// v1.14.1 (the upstream of pulumiverse-vercel 1.14.3, whose Python SDK has
// exactly this resource set) with the standard token scheme:
// `vercel_<x>` -> `vercel:index/<x>:<X>`, data sources -> `vercel:index/get<X>:get<X>`.
// The package schema is generated from the bridged provider at start-up.
//
// Endpoint override: when VERCEL_API_URL is set (e.g. http://127.0.0.1:8787),
// every HTTP request the plugin makes to a Vercel host (api.vercel.com; the
// framework validator's api-frameworks.zeit.sh; the serverless region
// validator's dcs.vercel-infra.com; any other *.vercel.com / *.vercel-infra.com
// / *.zeit.sh host) goes to that base URL instead, with the original path and
// query appended and the original host in the X-Forwarded-Host header.
// Unset: upstream behaviour, untouched.
package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	pf "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/vercel/terraform-provider-vercel/vercel"
)

// version is set at build time: -ldflags "-X main.version=1.14.3".
var version string

func providerInfo() tfbridge.ProviderInfo {
	prov := tfbridge.ProviderInfo{
		P:            pf.ShimProvider(vercel.New()),
		Name:         "vercel",
		Description:  "A Pulumi package for creating and managing Vercel resources.",
		License:      "Apache-2.0",
		Publisher:    "pulumiverse",
		Version:      version,
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
		Config: map[string]*tfbridge.SchemaInfo{
			"api_token": {Default: &tfbridge.DefaultInfo{EnvVars: []string{"VERCEL_API_TOKEN"}}, Secret: tfbridge.True()},
		},
	}
	prov.MustComputeTokens(tokens.SingleModule("vercel_", "index", tokens.MakeStandard("vercel")))
	prov.MustApplyAutoAliases()
	return prov
}

// vercelHost reports whether a request to host should be redirected.
func vercelHost(host string) bool {
	host = strings.ToLower(host)
	if h, _, ok := strings.Cut(host, ":"); ok {
		host = h
	}
	for _, d := range []string{"vercel.com", "vercel-infra.com", "zeit.sh"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

type redirectTransport struct {
	base  *url.URL
	inner http.RoundTripper
}

func (t redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !vercelHost(req.URL.Host) {
		return t.inner.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	u := *req.URL
	u.Scheme = t.base.Scheme
	u.Host = t.base.Host
	u.Path = strings.TrimSuffix(t.base.Path, "/") + req.URL.Path
	if req.URL.RawPath != "" {
		u.RawPath = strings.TrimSuffix(t.base.EscapedPath(), "/") + req.URL.RawPath
	}
	r.URL = &u
	r.Host = ""
	r.Header.Set("X-Forwarded-Host", req.URL.Host)
	return t.inner.RoundTrip(r)
}

func installEndpointOverride() error {
	raw := os.Getenv("VERCEL_API_URL")
	if raw == "" {
		return nil
	}
	base, err := url.Parse(raw)
	if err != nil || base.Scheme == "" || base.Host == "" {
		return fmt.Errorf("VERCEL_API_URL must be an absolute URL like http://127.0.0.1:8787, got %q", raw)
	}
	http.DefaultTransport = redirectTransport{base: base, inner: http.DefaultTransport}
	return nil
}

func main() {
	if err := installEndpointOverride(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-vercel: %v\n", err)
		os.Exit(1)
	}
	ctx := context.Background()
	info := providerInfo()
	sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
	gen, err := pftfgen.GenerateSchema(ctx, pftfgen.GenerateSchemaOptions{
		ProviderInfo: info, DiagnosticsSink: sink, XInMemoryDocs: true,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-vercel: generating schema: %v\n", err)
		os.Exit(1)
	}
	pf.Main(ctx, "vercel", info, gen.ProviderMetadata)
}
