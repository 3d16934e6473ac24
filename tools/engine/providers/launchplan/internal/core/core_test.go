package core

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

var testType = &ObjectType{Token: "test:index/Org:Org", Properties: []*Property{
	{Name: "name", Kind: String, Input: true, Required: true, ForceNew: true},
	{Name: "locked", Kind: Bool, Input: true, Computed: true},
}}

func testResource(created *int32) *Resource {
	return &Resource{
		Token: "test:index/thing:Thing",
		Properties: []*Property{
			{Name: "region", Kind: String, Input: true, Required: true, ForceNew: true},
			{Name: "stack", Kind: String, Input: true, Computed: true},
			{Name: "vars", Kind: Map, Items: &Property{Kind: String}, Input: true},
			{Name: "secretVars", Kind: Map, Items: &Property{Kind: String}, Input: true, Secret: true},
			{Name: "size", Kind: String, Input: true, Equal: func(a, b resource.PropertyValue) bool {
				return strings.EqualFold(a.StringValue(), b.StringValue())
			}},
			{Name: "count", Kind: Int, Input: true, Default: 1},
			{Name: "org", Kind: Object, Ref: testType.Token, Input: true},
			{Name: "name", Kind: String, Input: true, Computed: true, AutoName: 40},
			{Name: "url", Kind: String, DependsOn: []string{"name"}},
			{Name: "all", Kind: Map, Items: &Property{Kind: String}, Secret: true, DependsOn: []string{"vars"}},
		},
		Create: func(_ context.Context, _ *Request, in Props) (string, Props, error) {
			atomic.AddInt32(created, 1)
			return "id-1", NewProps().Set("url", "https://"+in.String("name")).Set("stack", "heroku-24").
				Set("all", in.StringMap("vars")), nil
		},
	}
}

func testServer(created *int32) *Server {
	return NewServer(&Provider{Name: "test", Version: "1.0.0+launchplan", Types: []*ObjectType{testType},
		Resources: []*Resource{testResource(created)}}, nil)
}

func pm(v map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(v) }

func TestDiffReplaceUpdateComputedAndCustomEquality(t *testing.T) {
	r := testResource(new(int32))
	NewServer(&Provider{Types: []*ObjectType{testType}, Resources: []*Resource{r}}, nil)
	olds := pm(map[string]any{"region": "us", "stack": "heroku-24", "vars": map[string]any{"A": "1", "B": "2"},
		"size": "Standard-1X", "org": map[string]any{"name": "t1", "locked": false}})
	// Unset optional+computed stack, same size in another case, empty map: no diff.
	same := pm(map[string]any{"region": "us", "vars": map[string]any{"A": "1", "B": "2"}, "size": "standard-1x",
		"org": map[string]any{"name": "t1"}})
	if d := Diff(r.Properties, olds, same); d.HasChanges() {
		t.Fatalf("expected no changes, got %v", d.Detailed)
	}
	news := pm(map[string]any{"region": "eu", "vars": map[string]any{"A": "9", "C": "3"}, "size": "standard-2x",
		"org": map[string]any{"name": "t2", "locked": true}})
	d := Diff(r.Properties, olds, news)
	want := map[string]pulumirpc.PropertyDiff_Kind{
		"region": pulumirpc.PropertyDiff_UPDATE_REPLACE, "vars.A": pulumirpc.PropertyDiff_UPDATE,
		"vars.B": pulumirpc.PropertyDiff_DELETE, "vars.C": pulumirpc.PropertyDiff_ADD, "size": pulumirpc.PropertyDiff_UPDATE,
		"org.name": pulumirpc.PropertyDiff_UPDATE_REPLACE, "org.locked": pulumirpc.PropertyDiff_UPDATE,
	}
	if len(d.Detailed) != len(want) {
		t.Fatalf("detailed diff %v, want %v", d.Detailed, want)
	}
	for k, kind := range want {
		if d.Detailed[k] == nil || d.Detailed[k].Kind != kind {
			t.Errorf("%s: got %v, want %v", k, d.Detailed[k], kind)
		}
	}
	if strings.Join(d.Replaces, ",") != "org,region" {
		t.Errorf("replaces = %v", d.Replaces)
	}
	// An unknown new value of a ForceNew property is a replacement.
	unknownRegion := same.Copy()
	unknownRegion["region"] = resource.MakeComputed(resource.NewStringProperty(""))
	if d := Diff(r.Properties, olds, unknownRegion); strings.Join(d.Replaces, ",") != "region" {
		t.Errorf("unknown region: replaces = %v", d.Replaces)
	}
	// A secret wrapper alone is no change.
	secretSame := same.Copy()
	secretSame["vars"] = resource.MakeSecret(same["vars"])
	if d := Diff(r.Properties, olds, secretSame); d.HasChanges() {
		t.Errorf("secret wrapper made a diff: %v", d.Detailed)
	}
}

func TestCheckAppliesDefaultsAutonamesAndReportsTypeErrors(t *testing.T) {
	s := testServer(new(int32))
	urn := "urn:pulumi:dev::proj::test:index/thing:Thing::web"
	news, _ := marshal(pm(map[string]any{"region": "us"}), "")
	resp, err := s.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn, News: news, RandomSeed: []byte("seed-0123456789")})
	if err != nil || len(resp.Failures) > 0 {
		t.Fatalf("check: %v %v", err, resp.GetFailures())
	}
	got, _ := unmarshal(resp.Inputs, "")
	if got["count"].NumberValue() != 1 {
		t.Errorf("default count not applied: %v", got)
	}
	name := got["name"].StringValue()
	if !strings.HasPrefix(name, "web-") || len(name) != len("web-")+7 {
		t.Errorf("autoname = %q", name)
	}
	// On update the old name is kept.
	olds, _ := marshal(pm(map[string]any{"region": "us", "name": "web-keepme1"}), "")
	resp, _ = s.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn, News: news, Olds: olds, RandomSeed: []byte("x")})
	got, _ = unmarshal(resp.Inputs, "")
	if got["name"].StringValue() != "web-keepme1" {
		t.Errorf("update autoname = %v", got["name"])
	}
	bad, _ := marshal(pm(map[string]any{"count": "three", "nope": 1}), "")
	resp, _ = s.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn, News: bad})
	reasons := []string{}
	for _, f := range resp.Failures {
		reasons = append(reasons, f.Property+": "+f.Reason)
	}
	joined := strings.Join(reasons, "\n")
	for _, want := range []string{"count: ", "a whole number", "nope: ", "unknown property", "region: ", "missing required property 'region'"} {
		if !strings.Contains(joined, want) {
			t.Errorf("failures %q lack %q", joined, want)
		}
	}
}

func TestPreviewMakesNoCallReturnsUnknownsAndKeepsSecrets(t *testing.T) {
	var created int32
	s := testServer(&created)
	urn := "urn:pulumi:dev::proj::test:index/thing:Thing::web"
	in := pm(map[string]any{"region": "us", "name": "web-1", "vars": map[string]any{"A": "1"}})
	in["secretVars"] = resource.MakeSecret(resource.NewObjectProperty(pm(map[string]any{"K": "v"})))
	props, _ := marshal(in, "")
	resp, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: props, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if created != 0 {
		t.Fatal("preview called Create")
	}
	out, _ := unmarshal(resp.Properties, "")
	if !out["url"].IsComputed() || !out["stack"].IsComputed() || !out["all"].ContainsUnknowns() {
		t.Errorf("computed outputs not unknown in preview: %v", out)
	}
	if !out["secretVars"].IsSecret() {
		t.Error("secret input lost its secretness in preview")
	}
	resp, err = s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: urn, Properties: props})
	if err != nil || created != 1 || resp.Id != "id-1" {
		t.Fatalf("create: %v %d %q", err, created, resp.GetId())
	}
	out, _ = unmarshal(resp.Properties, "")
	if !out["all"].IsSecret() || !out["secretVars"].IsSecret() || out["vars"].IsSecret() {
		t.Errorf("secretness in state wrong: all=%v secretVars=%v vars=%v", out["all"].IsSecret(), out["secretVars"].IsSecret(), out["vars"].IsSecret())
	}
	if out["region"].StringValue() != "us" || out["url"].StringValue() != "https://web-1" {
		t.Errorf("outputs %v", out)
	}
	// Update preview: output-only url keeps its value unless name changes; `all` goes unknown when vars change.
	olds := out
	news := in.Copy()
	news["vars"] = resource.NewObjectProperty(pm(map[string]any{"A": "2"}))
	op, _ := marshal(olds, "")
	np, _ := marshal(news, "")
	up, err := s.Update(context.Background(), &pulumirpc.UpdateRequest{Urn: urn, Id: "id-1", Olds: op, News: np, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	pout, _ := unmarshal(up.Properties, "")
	if pout["url"].StringValue() != "https://web-1" || !pout["all"].ContainsUnknowns() {
		t.Errorf("update preview: url=%v all=%v", pout["url"], pout["all"])
	}
}

func TestProviderConfigDecodesStringlyValues(t *testing.T) {
	s := NewServer(&Provider{Name: "test", Types: []*ObjectType{{Token: "test:index/D:D", Properties: []*Property{
		{Name: "delay", Kind: Int, Input: true}}}},
		Config: []*Property{{Name: "port", Kind: Int, Input: true}, {Name: "flag", Kind: Bool, Input: true},
			{Name: "delays", Kind: Object, Ref: "test:index/D:D", Input: true},
			{Name: "url", Kind: String, Input: true, DefaultEnv: []string{"TEST_CORE_URL"}}}}, nil)
	t.Setenv("TEST_CORE_URL", "http://127.0.0.1:1")
	checked, failures := s.checkConfig(pm(map[string]any{"port": "5432", "flag": "true", "delays": `{"delay": "3"}`}))
	if len(failures) > 0 {
		t.Fatal(failures)
	}
	if checked["port"].NumberValue() != 5432 || !checked["flag"].BoolValue() || checked["url"].StringValue() != "http://127.0.0.1:1" {
		t.Errorf("config %v", checked)
	}
	if checked["delays"].ObjectValue()["delay"].NumberValue() != 3 {
		t.Errorf("nested stringly value not decoded: %v", checked["delays"])
	}
	_, failures = s.checkConfig(pm(map[string]any{"port": "many"}))
	if len(failures) != 1 || !strings.Contains(failures[0].Reason, "test:port") {
		t.Errorf("failures %v", failures)
	}
}

func TestSchemaFromDeclarations(t *testing.T) {
	p := &Provider{Name: "test", Version: "1.0.0+launchplan", Types: []*ObjectType{testType}, Resources: []*Resource{testResource(new(int32))}}
	text, err := SchemaJSON(p)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Resources map[string]struct {
			Properties      map[string]map[string]any
			InputProperties map[string]map[string]any
			Required        []string
			RequiredInputs  []string
		}
	}
	if err := json.Unmarshal(text, &s); err != nil {
		t.Fatal(err)
	}
	r := s.Resources["test:index/thing:Thing"]
	if _, ok := r.InputProperties["url"]; ok {
		t.Error("output-only url is an input")
	}
	if r.Properties["all"]["secret"] != true || r.InputProperties["region"]["willReplaceOnChanges"] != true {
		t.Errorf("schema flags wrong: %v %v", r.Properties["all"], r.InputProperties["region"])
	}
	if strings.Join(r.RequiredInputs, ",") != "region" || !strings.Contains(strings.Join(r.Required, ","), "stack") {
		t.Errorf("required: %v / %v", r.RequiredInputs, r.Required)
	}
}

func TestRetryTransportHonoursRetryAfter(t *testing.T) {
	var n int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch atomic.AddInt32(&n, 1) {
		case 1:
			w.Header().Set("Retry-After", "0.3")
			w.WriteHeader(429)
		case 2:
			w.WriteHeader(503)
		default:
			w.WriteHeader(200)
		}
	}))
	defer srv.Close()
	c := &http.Client{Transport: &RetryTransport{MinDelay: 10 * time.Millisecond}}
	start := time.Now()
	req, _ := http.NewRequest("PATCH", srv.URL, strings.NewReader(`{"a":1}`))
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 200 || n != 3 {
		t.Fatalf("err=%v status=%v attempts=%d", err, resp, n)
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("Retry-After not honoured: %s", time.Since(start))
	}
}
