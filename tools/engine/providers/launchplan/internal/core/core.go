// Package core is the small provider framework shared by launchplan's own
// Pulumi resource plugins (pulumi-resource-heroku, pulumi-resource-postgresql).
// It is a plain gRPC server on pulumirpc.UnimplementedResourceProviderServer
// from github.com/pulumi/pulumi/sdk/v3, started through the SDK's provider
// main; it does the protocol work once so that a provider package only
// declares its schema and writes the API calls.
//
// # How a provider plugs in
//
// A provider package builds one *Provider and its main calls core.Main:
//
//	func main() { core.Main(heroku.Provider(version)) }
//
// Main answers `-version` itself (the SDK's flag set has no such flag) and
// otherwise serves gRPC through provider.Main.
//
// A Provider declares:
//   - Name, Version (GetPluginInfo, GetSchema), Config (the provider's
//     configuration properties, as the pinned SDK's Provider resource and
//     `<name>:<key>` stack config send them) and Types (object types that
//     properties reference with Property.Ref);
//   - Configure(ctx, config Props) (meta any, error): called with the plain
//     (secrets unwrapped, defaults applied, JSON-string values decoded)
//     configuration; whatever it returns is handed to every resource call as
//     Request.Meta (typically an API client);
//   - Resources: one *Resource per type token.
//
// A Resource declares its Token, Properties and lifecycle functions:
//
//	Create(ctx, req, inputs) (id, outputs, error)
//	Read(ctx, req, id, state, inputs) (id, outputs, error)   // id "" = gone
//	Update(ctx, req, state, oldInputs, inputs) (outputs, error)
//	Delete(ctx, req, state) error                           // nil = no-op
//	Validate(inputs) []Failure                               // optional
//
// Lifecycle functions only ever see plain values (Props: no secrets, and no
// unknowns except in Validate, where Props.Known tells). They return plain
// outputs; the core then
//   - copies input properties the function did not set from the inputs,
//   - marks as secret every property declared Secret and every property whose
//     input was secret (so a secret never lands in state in plain text),
//   - during preview (Create/Update with preview=true) never calls the
//     function: outputs are the inputs plus unknowns for computed properties
//     (on update, output-only properties keep their old value unless one of
//     their Property.DependsOn inputs changes),
//   - computes Diff itself from the declarations: per property (and per key of
//     maps, per field of object types) add/update/delete, replace when the
//     property is ForceNew, no diff for an absent Computed input, custom
//     equality with Property.Equal, DeleteBeforeReplace from the Resource;
//   - applies defaults (Property.Default, Property.DefaultEnv) and checks
//     required properties and value types in Check;
//   - for Read (refresh and `pulumi import`) derives the new inputs from the
//     outputs: on refresh the keys the old inputs had, on import every input
//     property the outputs carry (Computed ones only if ImportComputed).
//
// Errors returned by lifecycle functions are shown to the user as they are:
// write them to name the resource (Request.Name/URN are there for that) and
// what to do. A Create that fails after the remote object exists should
// return its id with the error (PartialError) so the engine records it.
//
// GetSchema is generated from the same declarations (see schema.go), so the
// schema a plugin serves and the behaviour it implements cannot disagree.
package core

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Kind is a property's schema type.
type Kind string

const (
	String Kind = "string"
	Bool   Kind = "boolean"
	Int    Kind = "integer"
	Number Kind = "number"
	Array  Kind = "array"  // Items is the element
	Map    Kind = "map"    // Items is the element (schema: object + additionalProperties)
	Object Kind = "object" // Ref names a declared ObjectType
)

// Property declares one property of a resource, of an object type or of the
// provider configuration. Wire names are the SDK's (camelCase).
type Property struct {
	Name        string
	Kind        Kind
	Items       *Property // element of Array/Map (Name unused)
	Ref         string    // token of an ObjectType for Kind Object
	Description string

	Input    bool // an input (argument) of the resource
	Required bool // a required input
	Computed bool // optional input the provider fills when absent: an absent input never diffs
	Secret   bool // always secret in state and outputs
	ForceNew bool // a change replaces the resource

	// Default is applied by Check when the input is absent (a Go value:
	// string, bool, int, float64). DefaultEnv lists environment variables
	// tried first, in order.
	Default    any
	DefaultEnv []string
	// HideDefault: Check applies Default but the schema does not show it
	// (a bridged Terraform default: the SDK itself applies none).
	HideDefault bool

	// Equal, when set, decides whether an old and a new plain value are the
	// same (e.g. case-insensitive sizes). Both are never null when called.
	Equal func(old, new resource.PropertyValue) bool

	// DependsOn lists input names: during an update preview this output-only
	// property becomes unknown when any of them changes.
	DependsOn []string

	// ImportComputed: on `pulumi import` the read value of this Computed
	// input is returned as an input too.
	ImportComputed bool

	// AutoName > 0 makes Check fill an absent string input as the bridged
	// providers' autonaming does: the old value on update, else
	// "<resource name>-<7 random hex>" (from the engine's random seed, so
	// previews and updates agree), at most AutoName characters.
	AutoName int
}

// ObjectType is a named object type (schema "types" entry).
type ObjectType struct {
	Token       string
	Description string
	Properties  []*Property
}

// Request carries what a lifecycle function knows about the call.
type Request struct {
	URN     string
	Name    string // the resource's name in the program (from the URN)
	Token   string
	ID      string
	Timeout time.Duration // from customTimeouts; 0 when not given
	Meta    any           // what Provider.Configure returned
	log     *logger
}

// Infof writes an info diagnostic attached to the resource (shown by the CLI).
// Never pass secret values.
func (r *Request) Infof(format string, args ...any) {
	if r != nil && r.log != nil {
		r.log.info(r.URN, fmt.Sprintf(format, args...))
	}
}

// Statusf writes an ephemeral status line for the resource (e.g. while polling).
func (r *Request) Statusf(format string, args ...any) {
	if r != nil && r.log != nil {
		r.log.status(r.URN, fmt.Sprintf(format, args...))
	}
}

// Warnf writes a warning diagnostic attached to the resource.
func (r *Request) Warnf(format string, args ...any) {
	if r != nil && r.log != nil {
		r.log.warn(r.URN, fmt.Sprintf(format, args...))
	}
}

// Failure is a Check failure on one property.
type Failure struct {
	Property string
	Reason   string
}

// Resource declares a resource type and its lifecycle.
type Resource struct {
	Token               string
	Description         string
	Properties          []*Property
	DeleteBeforeReplace bool
	// DeleteBeforeReplaceIf decides per change (plain old state, new
	// inputs) when a replacement must delete first, e.g. because the new
	// object would collide with the old one on a unique name.
	DeleteBeforeReplaceIf func(olds, news Props) bool

	Validate func(inputs Props) []Failure
	Create   func(ctx context.Context, req *Request, inputs Props) (id string, outputs Props, err error)
	// Read answers the resource's current outputs, or id "" when it no longer
	// exists. On import, state and inputs are empty and id is what the user gave.
	Read   func(ctx context.Context, req *Request, id string, state, inputs Props) (newID string, outputs Props, err error)
	Update func(ctx context.Context, req *Request, state, oldInputs, inputs Props) (outputs Props, err error)
	Delete func(ctx context.Context, req *Request, state Props) error
}

// Provider declares a whole plugin.
type Provider struct {
	Name        string // package name, e.g. "heroku"
	Version     string // e.g. "1.0.4+launchplan"
	DisplayName string
	Description string
	Homepage    string
	Publisher   string
	Repository  string
	// PluginDownloadURL is written into the schema (the pinned SDK's value).
	PluginDownloadURL string

	Config    []*Property
	Types     []*ObjectType
	Resources []*Resource

	// Configure receives the plain configuration and returns the value given
	// to resource calls as Request.Meta.
	Configure func(ctx context.Context, config Props) (any, error)
	// ValidateConfig adds CheckConfig failures (optional).
	ValidateConfig func(config Props) []Failure
}

// PartialError is returned by Create when the remote object was created but
// a later step failed: the engine records the object (so a retry does not
// duplicate it) and reports Err.
type PartialError struct {
	ID      string
	Outputs Props
	Err     error
}

func (e *PartialError) Error() string { return e.Err.Error() }
func (e *PartialError) Unwrap() error { return e.Err }
