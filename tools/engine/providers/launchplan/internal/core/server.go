package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil/rpcerror"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Server implements pulumirpc.ResourceProviderServer for a Provider.
type Server struct {
	pulumirpc.UnimplementedResourceProviderServer

	p         *Provider
	resources map[string]*Resource
	log       *logger

	mu         sync.Mutex
	meta       any
	configured bool
	ctx        context.Context // cancelled by Cancel
	cancel     context.CancelFunc
}

// NewServer returns the gRPC server of p; host may be nil (tests).
func NewServer(p *Provider, host *provider.HostClient) *Server {
	s := &Server{p: p, resources: map[string]*Resource{}, log: &logger{host: host}}
	for _, r := range p.Resources {
		s.resources[r.Token] = r
	}
	for _, t := range p.Types {
		typeRegistry[t.Token] = t
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	o := marshalOpts
	o.Label = label
	return plugin.UnmarshalProperties(s, o)
}

func marshal(m resource.PropertyMap, label string) (*structpb.Struct, error) {
	o := marshalOpts
	o.Label = label
	return plugin.MarshalProperties(m, o)
}

// ---------------------------------------------------------------- plugin ----

func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.p.Version}, nil
}

func (s *Server) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: false}, nil
}

func (s *Server) Attach(context.Context, *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

func (s *Server) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if req.GetVersion() > 0 && req.GetSubpackageName() != "" {
		return nil, rpcerror.Newf(codes.InvalidArgument, "%s has no sub-packages", s.p.Name)
	}
	text, err := SchemaJSON(s.p)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetSchemaResponse{Schema: string(text)}, nil
}

func (s *Server) GetMapping(context.Context, *pulumirpc.GetMappingRequest) (*pulumirpc.GetMappingResponse, error) {
	return &pulumirpc.GetMappingResponse{}, nil
}

func (s *Server) GetMappings(context.Context, *pulumirpc.GetMappingsRequest) (*pulumirpc.GetMappingsResponse, error) {
	return &pulumirpc.GetMappingsResponse{}, nil
}

// ---------------------------------------------------------------- config ----

// checkConfig decodes stringly settings, applies defaults and validates.
func (s *Server) checkConfig(news resource.PropertyMap) (resource.PropertyMap, []Failure) {
	out := resource.PropertyMap{}
	var failures []Failure
	for k, v := range news {
		if p := findProp(s.p.Config, string(k)); p != nil {
			secret := containsSecrets(v)
			pv := plainValue(v)
			if !pv.ContainsUnknowns() {
				d, err := decodeStringly(p, pv)
				if err != nil {
					failures = append(failures, Failure{string(k), fmt.Sprintf("%s:%s: %v", s.p.Name, k, err)})
					continue
				}
				pv = decodeNested(p, d)
				if secret {
					pv = resource.MakeSecret(pv)
				}
				v = pv
			}
		}
		out[k] = v
	}
	failures = append(failures, applyDefaults(s.p.Config, out, s.p.Name+":")...)
	if s.p.ValidateConfig != nil {
		failures = append(failures, s.p.ValidateConfig(Plain(out))...)
	}
	return out, failures
}

func (s *Server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews(), "config.news")
	if err != nil {
		return nil, err
	}
	checked, failures := s.checkConfig(news)
	inputs, err := marshal(checked, "config.inputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: rpcFailures(failures)}, nil
}

func (s *Server) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs(), "config.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "config.news")
	if err != nil {
		return nil, err
	}
	d := Diff(s.p.Config, olds, news)
	return diffResponse(d, false), nil
}

func (s *Server) Configure(ctx context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	var raw resource.PropertyMap
	if req.GetArgs() != nil {
		m, err := unmarshal(req.GetArgs(), "config.args")
		if err != nil {
			return nil, err
		}
		raw = m
	} else {
		raw = resource.PropertyMap{}
		prefix := s.p.Name + ":config:"
		for k, v := range req.GetVariables() {
			key := strings.TrimPrefix(k, prefix)
			if key == k {
				key = strings.TrimPrefix(k, s.p.Name+":")
			}
			raw[resource.PropertyKey(key)] = resource.NewStringProperty(v)
		}
	}
	checked, failures := s.checkConfig(raw)
	if len(failures) > 0 {
		msgs := make([]string, 0, len(failures))
		for _, f := range failures {
			msgs = append(msgs, f.Reason)
		}
		return nil, fmt.Errorf("provider %s is misconfigured: %s", s.p.Name, strings.Join(msgs, "; "))
	}
	var meta any
	if s.p.Configure != nil {
		m, err := s.p.Configure(ctx, Plain(checked))
		if err != nil {
			return nil, err
		}
		meta = m
	}
	s.mu.Lock()
	s.meta, s.configured = meta, true
	s.mu.Unlock()
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

// ------------------------------------------------------------- resources ----

func (s *Server) resource(urn string, typ string) (*Resource, error) {
	token := typ
	if token == "" {
		token = string(resource.URN(urn).Type())
	}
	r, ok := s.resources[token]
	if !ok {
		return nil, fmt.Errorf("%s: the %s provider (launchplan %s) does not implement resource type %s",
			urn, s.p.Name, s.p.Version, token)
	}
	return r, nil
}

func (s *Server) request(urn, typ, id string, timeout float64) *Request {
	s.mu.Lock()
	meta := s.meta
	s.mu.Unlock()
	u := resource.URN(urn)
	name := ""
	if u.IsValid() {
		name = u.Name()
	}
	return &Request{URN: urn, Name: name, Token: typ, ID: id, Meta: meta, log: s.log,
		Timeout: time.Duration(timeout * float64(time.Second))}
}

func (s *Server) callContext(ctx context.Context, req *Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	if req.Timeout > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, req.Timeout)
		return ctx, func() { c2(); stop(); cancel() }
	}
	return ctx, func() { stop(); cancel() }
}

func applyDefaults(props []*Property, m resource.PropertyMap, prefix string) []Failure {
	var failures []Failure
	for _, p := range props {
		k := resource.PropertyKey(p.Name)
		if v, ok := m[k]; ok && !v.IsNull() {
			continue
		}
		set := false
		for _, env := range p.DefaultEnv {
			if val, ok := os.LookupEnv(env); ok && val != "" {
				pv := resource.NewStringProperty(val)
				if d, err := decodeStringly(p, pv); err == nil {
					pv = d
				}
				if p.Secret {
					pv = resource.MakeSecret(pv)
				}
				m[k], set = pv, true
				break
			}
		}
		if !set && p.Default != nil {
			m[k], set = ToValue(p.Default), true
		}
		if !set && p.Required {
			failures = append(failures, Failure{p.Name, fmt.Sprintf("missing required property '%s%s'", prefix, p.Name)})
		}
	}
	return failures
}

func (s *Server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	r, err := s.resource(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	name := resource.URN(req.GetUrn()).Name()
	var failures []Failure
	for _, k := range sortedKeys(news) {
		p := findProp(r.Properties, k)
		if p == nil || !p.Input {
			if strings.HasPrefix(k, "__") {
				continue
			}
			failures = append(failures, Failure{k, fmt.Sprintf("%s %q: unknown property %q (the %s SDK has no such input)", r.Token, name, k, s.p.Name)})
			continue
		}
		if reason := checkKind(p, plainValue(news[resource.PropertyKey(k)])); reason != "" {
			failures = append(failures, Failure{k, fmt.Sprintf("%s %q: property %s: %s", r.Token, name, k, reason)})
		}
	}
	olds, err := unmarshal(req.GetOlds(), "check.olds")
	if err != nil {
		return nil, err
	}
	for _, p := range r.Properties {
		k := resource.PropertyKey(p.Name)
		if v, ok := news[k]; p.AutoName <= 0 || (ok && !v.IsNull()) {
			continue
		}
		if old, ok := olds[k]; ok && !old.IsNull() {
			news[k] = old
			continue
		}
		if name != "" {
			auto, err := resource.NewUniqueName(req.GetRandomSeed(), name+"-", 7, p.AutoName, nil)
			if err != nil {
				return nil, fmt.Errorf("%s %q: cannot generate a %s: %w", r.Token, name, p.Name, err)
			}
			news[k] = resource.NewStringProperty(auto)
		}
	}
	for _, f := range applyDefaults(r.Properties, news, "") {
		f.Reason = fmt.Sprintf("%s %q: %s", r.Token, name, f.Reason)
		failures = append(failures, f)
	}
	if r.Validate != nil && len(failures) == 0 {
		failures = append(failures, r.Validate(Plain(news))...)
	}
	inputs, err := marshal(news, "check.inputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: rpcFailures(failures)}, nil
}

func rpcFailures(fs []Failure) []*pulumirpc.CheckFailure {
	out := make([]*pulumirpc.CheckFailure, 0, len(fs))
	for _, f := range fs {
		out = append(out, &pulumirpc.CheckFailure{Property: f.Property, Reason: f.Reason})
	}
	return out
}

func diffResponse(d *DiffResult, deleteBeforeReplace bool) *pulumirpc.DiffResponse {
	resp := &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: d.Detailed, Diffs: d.Changed, Replaces: d.Replaces}
	if d.HasChanges() {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	if len(d.Replaces) > 0 {
		resp.DeleteBeforeReplace = deleteBeforeReplace
	}
	return resp
}

func (s *Server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	r, err := s.resource(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "diff.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "diff.news")
	if err != nil {
		return nil, err
	}
	dbr := r.DeleteBeforeReplace
	if r.DeleteBeforeReplaceIf != nil && !dbr {
		dbr = r.DeleteBeforeReplaceIf(Plain(olds), Plain(news))
	}
	return diffResponse(Diff(r.Properties, olds, news), dbr), nil
}

// finish builds the state from a lifecycle function's plain outputs: inputs
// it did not set are copied, declared and inherited secrets are wrapped.
func finish(r *Resource, outputs Props, inputs resource.PropertyMap) resource.PropertyMap {
	return finishWith(r, outputs, inputs, true)
}

func finishWith(r *Resource, outputs Props, inputs resource.PropertyMap, copyInputs bool) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range outputs {
		out[k] = plainValue(v)
	}
	for _, p := range r.Properties {
		if !copyInputs {
			break
		}
		k := resource.PropertyKey(p.Name)
		if p.Input {
			if _, ok := out[k]; !ok {
				if v, ok := inputs[k]; ok {
					out[k] = plainValue(v)
				}
			}
		}
	}
	for k, v := range out {
		if v.IsNull() {
			delete(out, k)
			continue
		}
		p := findProp(r.Properties, string(k))
		secret := p != nil && p.Secret
		if in, ok := inputs[k]; ok && containsSecrets(in) {
			secret = true
		}
		if secret {
			out[k] = resource.MakeSecret(v)
		}
	}
	return out
}

// previewOutputs are the outputs shown during preview: inputs, old values of
// output-only properties (update) or unknowns for computed ones.
func previewOutputs(r *Resource, olds, news resource.PropertyMap, update bool) resource.PropertyMap {
	out := Props{}
	changed := map[string]bool{}
	if update {
		for _, name := range Diff(r.Properties, olds, news).Changed {
			changed[name] = true
		}
	}
	for _, p := range r.Properties {
		k := resource.PropertyKey(p.Name)
		nv, inNews := news[k]
		switch {
		case p.Input && inNews && !nv.IsNull():
			out[k] = nv
		case update && olds[k].IsNull():
			if !p.Input || p.Computed {
				// stays unset unless something it depends on changes
				if dependsChanged(p, changed) {
					out[k] = unknown()
				}
			}
		case update:
			if !p.Input || p.Computed {
				if dependsChanged(p, changed) {
					out[k] = unknown()
				} else {
					out[k] = olds[k]
				}
			}
		default: // create
			if !p.Input || p.Computed {
				out[k] = unknown()
			}
		}
	}
	return finish(r, out, news)
}

func dependsChanged(p *Property, changed map[string]bool) bool {
	for _, d := range p.DependsOn {
		if changed[d] {
			return true
		}
	}
	return false
}

func (s *Server) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	r, err := s.resource(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetProperties(), "create.news")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(previewOutputs(r, nil, news, false), "create.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.CreateResponse{Properties: props}, nil
	}
	rq := s.request(req.GetUrn(), r.Token, "", req.GetTimeout())
	cctx, cancel := s.callContext(ctx, rq)
	defer cancel()
	id, outs, err := r.Create(cctx, rq, Plain(news))
	if err != nil {
		var partial *PartialError
		if errors.As(err, &partial) {
			id, outs = partial.ID, partial.Outputs
		}
		if id == "" {
			return nil, err
		}
		props, merr := marshal(finish(r, outs, news), "create.partial")
		if merr != nil {
			return nil, err
		}
		return nil, initError(id, props, req.GetProperties(), err)
	}
	if id == "" {
		return nil, fmt.Errorf("%s: create returned no id (a bug in the %s provider)", req.GetUrn(), s.p.Name)
	}
	props, err := marshal(finish(r, outs, news), "create.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func initError(id string, props, inputs *structpb.Struct, err error) error {
	return rpcerror.WithDetails(rpcerror.New(codes.Unknown, err.Error()),
		&pulumirpc.ErrorResourceInitFailed{Id: id, Properties: props, Inputs: inputs, Reasons: []string{err.Error()}})
}

// readInputs derives the inputs to record after a Read.
func readInputs(r *Resource, outputs resource.PropertyMap, oldInputs resource.PropertyMap, importing bool) resource.PropertyMap {
	in := resource.PropertyMap{}
	for _, p := range r.Properties {
		if !p.Input {
			continue
		}
		k := resource.PropertyKey(p.Name)
		v, ok := outputs[k]
		if !ok || v.IsNull() {
			continue
		}
		switch {
		case importing:
			if !p.Computed || p.ImportComputed || p.Required {
				in[k] = v
			}
		default:
			if old, had := oldInputs[k]; had && !old.IsNull() {
				in[k] = v
			}
		}
	}
	return in
}

func (s *Server) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	r, err := s.resource(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetProperties(), "read.state")
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal(req.GetInputs(), "read.inputs")
	if err != nil {
		return nil, err
	}
	importing := len(state) == 0
	rq := s.request(req.GetUrn(), r.Token, req.GetId(), 0)
	cctx, cancel := s.callContext(ctx, rq)
	defer cancel()
	id, outs, err := r.Read(cctx, rq, req.GetId(), Plain(state), Plain(oldInputs))
	if err != nil {
		return nil, err
	}
	if id == "" {
		return &pulumirpc.ReadResponse{}, nil // gone
	}
	// Secretness: what was secret in state or inputs stays secret.
	secretsFrom := resource.PropertyMap{}
	for k, v := range state {
		secretsFrom[k] = v
	}
	for k, v := range oldInputs {
		if containsSecrets(v) {
			secretsFrom[k] = v
		}
	}
	outputs := finishWith(r, outs, secretsFrom, false)
	inputs := readInputs(r, outputs, oldInputs, importing)
	props, err := marshal(outputs, "read.outputs")
	if err != nil {
		return nil, err
	}
	ins, err := marshal(inputs, "read.newinputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: id, Properties: props, Inputs: ins}, nil
}

func (s *Server) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	r, err := s.resource(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal(req.GetOldInputs(), "update.oldinputs")
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := marshal(previewOutputs(r, olds, news, true), "update.preview")
		if err != nil {
			return nil, err
		}
		return &pulumirpc.UpdateResponse{Properties: props}, nil
	}
	if r.Update == nil {
		return nil, fmt.Errorf("%s: %s cannot be updated in place (a bug in the %s provider: every change should replace it)",
			req.GetUrn(), r.Token, s.p.Name)
	}
	rq := s.request(req.GetUrn(), r.Token, req.GetId(), req.GetTimeout())
	cctx, cancel := s.callContext(ctx, rq)
	defer cancel()
	outs, err := r.Update(cctx, rq, Plain(olds), Plain(oldInputs), Plain(news))
	if err != nil {
		var partial *PartialError
		if errors.As(err, &partial) && partial.Outputs != nil {
			props, merr := marshal(finish(r, partial.Outputs, news), "update.partial")
			if merr == nil {
				return nil, initError(req.GetId(), props, req.GetNews(), err)
			}
		}
		return nil, err
	}
	props, err := marshal(finish(r, outs, news), "update.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *Server) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	r, err := s.resource(req.GetUrn(), req.GetType())
	if err != nil {
		return nil, err
	}
	if r.Delete == nil {
		return &emptypb.Empty{}, nil
	}
	state, err := unmarshal(req.GetProperties(), "delete.state")
	if err != nil {
		return nil, err
	}
	rq := s.request(req.GetUrn(), r.Token, req.GetId(), req.GetTimeout())
	cctx, cancel := s.callContext(ctx, rq)
	defer cancel()
	if err := r.Delete(cctx, rq, Plain(state)); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *Server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, rpcerror.Newf(codes.Unimplemented,
		"function %s is not implemented by launchplan's %s provider %s (only the resources launchplan uses are)",
		req.GetTok(), s.p.Name, s.p.Version)
}

// ---------------------------------------------------------------- logging ----

type logger struct {
	host *provider.HostClient
}

func (l *logger) send(sev diag.Severity, urn, msg string, ephemeral bool) {
	if l == nil || l.host == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if ephemeral {
		_ = l.host.LogStatus(ctx, sev, resource.URN(urn), msg)
	} else {
		_ = l.host.Log(ctx, sev, resource.URN(urn), msg)
	}
}

func (l *logger) info(urn, msg string)   { l.send(diag.Info, urn, msg, false) }
func (l *logger) warn(urn, msg string)   { l.send(diag.Warning, urn, msg, false) }
func (l *logger) status(urn, msg string) { l.send(diag.Info, urn, msg, true) }

// sortedTokens lists the provider's resource tokens.
func (s *Server) sortedTokens() []string {
	out := make([]string, 0, len(s.resources))
	for k := range s.resources {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
