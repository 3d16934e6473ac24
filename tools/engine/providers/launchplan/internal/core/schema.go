package core

import (
	"encoding/json"
	"sort"
)

// Package schema generation (the JSON `pulumi package get-schema` prints),
// from the same declarations the server runs on.

type propSpec struct {
	Type                 string         `json:"type,omitempty"`
	Ref                  string         `json:"$ref,omitempty"`
	Items                *propSpec      `json:"items,omitempty"`
	AdditionalProperties *propSpec      `json:"additionalProperties,omitempty"`
	Description          string         `json:"description,omitempty"`
	Secret               bool           `json:"secret,omitempty"`
	Default              any            `json:"default,omitempty"`
	DefaultInfo          map[string]any `json:"defaultInfo,omitempty"`
	WillReplaceOnChanges bool           `json:"willReplaceOnChanges,omitempty"`
}

type objectSpec struct {
	Type        string               `json:"type,omitempty"`
	Description string               `json:"description,omitempty"`
	Properties  map[string]*propSpec `json:"properties,omitempty"`
	Required    []string             `json:"required,omitempty"`
}

type resourceSpec struct {
	objectSpec
	InputProperties map[string]*propSpec `json:"inputProperties,omitempty"`
	RequiredInputs  []string             `json:"requiredInputs,omitempty"`
	StateInputs     *objectSpec          `json:"stateInputs,omitempty"`
}

type packageSpec struct {
	Name              string                   `json:"name"`
	Version           string                   `json:"version,omitempty"`
	DisplayName       string                   `json:"displayName,omitempty"`
	Description       string                   `json:"description,omitempty"`
	Homepage          string                   `json:"homepage,omitempty"`
	Publisher         string                   `json:"publisher,omitempty"`
	Repository        string                   `json:"repository,omitempty"`
	PluginDownloadURL string                   `json:"pluginDownloadURL,omitempty"`
	Meta              map[string]any           `json:"meta,omitempty"`
	Config            map[string]any           `json:"config,omitempty"`
	Types             map[string]*objectSpec   `json:"types,omitempty"`
	Provider          *resourceSpec            `json:"provider,omitempty"`
	Resources         map[string]*resourceSpec `json:"resources,omitempty"`
	Language          map[string]any           `json:"language,omitempty"`
}

func specOf(p *Property, forInput bool) *propSpec {
	s := &propSpec{Description: p.Description, Secret: p.Secret}
	switch p.Kind {
	case Array:
		s.Type = "array"
		s.Items = itemSpec(p.Items)
	case Map:
		s.Type = "object"
		s.AdditionalProperties = itemSpec(p.Items)
	case Object:
		s.Ref = "#/types/" + p.Ref
	default:
		s.Type = string(p.Kind)
	}
	if forInput {
		if p.Default != nil && !p.HideDefault {
			s.Default = p.Default
		}
		if len(p.DefaultEnv) > 0 {
			s.DefaultInfo = map[string]any{"environment": p.DefaultEnv}
		}
		s.WillReplaceOnChanges = p.ForceNew
	}
	return s
}

func itemSpec(p *Property) *propSpec {
	if p == nil {
		return &propSpec{Type: "string"}
	}
	return specOf(p, false)
}

// outputRequired: the SDK types an output as non-optional when the property
// is a required input, optional+computed, or output-only.
func outputRequired(p *Property) bool { return p.Required || p.Computed || !p.Input }

// SchemaJSON renders the provider's package schema.
func SchemaJSON(pr *Provider) ([]byte, error) {
	pkg := packageSpec{
		Name: pr.Name, Version: pr.Version, DisplayName: pr.DisplayName, Description: pr.Description,
		Homepage: pr.Homepage, Publisher: pr.Publisher, Repository: pr.Repository,
		PluginDownloadURL: pr.PluginDownloadURL,
		Meta:              map[string]any{"moduleFormat": "(.*)(?:/[^/]*)"},
		Types:             map[string]*objectSpec{},
		Resources:         map[string]*resourceSpec{},
		Language:          map[string]any{},
	}
	vars := map[string]*propSpec{}
	var requiredConfig []string
	prov := &resourceSpec{objectSpec: objectSpec{Description: "The provider type for the " + pr.Name + " package.",
		Properties: map[string]*propSpec{}}, InputProperties: map[string]*propSpec{}}
	for _, p := range pr.Config {
		vars[p.Name] = specOf(p, true)
		prov.InputProperties[p.Name] = specOf(p, true)
		if p.Kind == String { // the provider resource outputs its string settings
			prov.Properties[p.Name] = specOf(p, false)
		}
		if p.Required {
			requiredConfig = append(requiredConfig, p.Name)
			prov.RequiredInputs = append(prov.RequiredInputs, p.Name)
		}
	}
	pkg.Config = map[string]any{"variables": vars}
	if len(requiredConfig) > 0 {
		pkg.Config["defaults"] = requiredConfig
	}
	pkg.Provider = prov
	for _, t := range pr.Types {
		o := &objectSpec{Type: "object", Description: t.Description, Properties: map[string]*propSpec{}}
		for _, p := range t.Properties {
			o.Properties[p.Name] = specOf(p, true)
			if p.Required {
				o.Required = append(o.Required, p.Name)
			}
		}
		pkg.Types[t.Token] = o
	}
	for _, r := range pr.Resources {
		rs := &resourceSpec{objectSpec: objectSpec{Description: r.Description, Properties: map[string]*propSpec{}},
			InputProperties: map[string]*propSpec{}}
		state := &objectSpec{Description: "Input properties used for looking up and filtering " + r.Token + " resources.",
			Properties: map[string]*propSpec{}}
		for _, p := range r.Properties {
			rs.Properties[p.Name] = specOf(p, false)
			state.Properties[p.Name] = specOf(p, false)
			if outputRequired(p) {
				rs.Required = append(rs.Required, p.Name)
			}
			if p.Input {
				rs.InputProperties[p.Name] = specOf(p, true)
				if p.Required {
					rs.RequiredInputs = append(rs.RequiredInputs, p.Name)
				}
			}
		}
		sort.Strings(rs.Required)
		sort.Strings(rs.RequiredInputs)
		rs.StateInputs = state
		pkg.Resources[r.Token] = rs
	}
	return json.MarshalIndent(pkg, "", "  ")
}
