package core

import (
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// DiffResult is the outcome of comparing old state with new inputs.
type DiffResult struct {
	Detailed map[string]*pulumirpc.PropertyDiff // property path -> kind
	Changed  []string                           // top-level properties that differ
	Replaces []string                           // top-level properties whose change replaces
}

// HasChanges reports whether anything differs.
func (d *DiffResult) HasChanges() bool { return len(d.Changed) > 0 }

// Diff compares the old state (outputs, plain or not) with the new inputs for
// the given input properties. Exported for tests and for providers that want
// to know what changed inside Update.
func Diff(props []*Property, olds, news resource.PropertyMap) *DiffResult {
	d := &DiffResult{Detailed: map[string]*pulumirpc.PropertyDiff{}}
	changed, replaces := map[string]bool{}, map[string]bool{}
	o, n := Plain(olds), Plain(news)
	for _, p := range props {
		if !p.Input {
			continue
		}
		before := len(d.Detailed)
		replace := diffValue(p, o.Value(p.Name), n.Value(p.Name), n.Has(p.Name), resource.PropertyPath{p.Name}, p.ForceNew, d)
		if len(d.Detailed) > before {
			changed[p.Name] = true
			if replace {
				replaces[p.Name] = true
			}
		}
	}
	d.Changed, d.Replaces = sortedSet(changed), sortedSet(replaces)
	return d
}

// ChangedInputs returns the names of input properties whose value differs
// between two input maps (no Computed exemption): what an Update must send.
func ChangedInputs(props []*Property, olds, news Props) map[string]bool {
	out := map[string]bool{}
	for _, p := range props {
		if !p.Input {
			continue
		}
		a, b := olds.Value(p.Name), news.Value(p.Name)
		if !valuesEqual(p, a, b) {
			out[p.Name] = true
		}
	}
	return out
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func kindOf(add, del, replace bool) pulumirpc.PropertyDiff_Kind {
	switch {
	case add && replace:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case add:
		return pulumirpc.PropertyDiff_ADD
	case del && replace:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	case del:
		return pulumirpc.PropertyDiff_DELETE
	case replace:
		return pulumirpc.PropertyDiff_UPDATE_REPLACE
	}
	return pulumirpc.PropertyDiff_UPDATE
}

// diffValue records the differences of one property into d and reports
// whether any recorded difference replaces the resource.
func diffValue(p *Property, old, new resource.PropertyValue, newSet bool, path resource.PropertyPath,
	forceNew bool, d *DiffResult,
) bool {
	record := func(path resource.PropertyPath, add, del, replace bool) bool {
		d.Detailed[path.String()] = &pulumirpc.PropertyDiff{Kind: kindOf(add, del, replace)}
		return replace
	}
	// As in Terraform's SDK, an empty map or list is no value.
	if isEmptyCollection(old) {
		old = resource.NewNullProperty()
	}
	if isEmptyCollection(new) {
		new, newSet = resource.NewNullProperty(), false
	}
	oldSet := !old.IsNull()
	switch {
	case !newSet && p.Computed:
		return false // optional+computed: absent means "keep what the provider has"
	case !newSet && !oldSet:
		return false
	case new.ContainsUnknowns() && !(p.Kind == Map || p.Kind == Object) || new.IsComputed():
		return record(path, false, false, forceNew)
	case !newSet:
		return record(path, false, true, forceNew)
	case !oldSet:
		return record(path, true, false, forceNew)
	}
	switch {
	case p.Kind == Map && old.IsObject() && new.IsObject():
		item := p.Items
		if item == nil {
			item = &Property{Kind: String}
		}
		replace := false
		om, nm := old.ObjectValue(), new.ObjectValue()
		keys := map[string]bool{}
		for k := range om {
			keys[string(k)] = true
		}
		for k := range nm {
			keys[string(k)] = true
		}
		for _, k := range sortedSet(keys) {
			ov, nv := om[resource.PropertyKey(k)], nm[resource.PropertyKey(k)]
			sub := append(append(resource.PropertyPath{}, path...), k)
			switch {
			case nv.ContainsUnknowns():
				replace = record(sub, false, false, forceNew) || replace
			case ov.IsNull() && nv.IsNull():
			case ov.IsNull():
				replace = record(sub, true, false, forceNew) || replace
			case nv.IsNull():
				replace = record(sub, false, true, forceNew) || replace
			case !valuesEqual(item, ov, nv):
				replace = record(sub, false, false, forceNew) || replace
			}
		}
		return replace
	case p.Kind == Object && p.Ref != "" && typeRegistry[p.Ref] != nil && old.IsObject() && new.IsObject():
		if new.ContainsUnknowns() && !new.IsObject() {
			return record(path, false, false, forceNew)
		}
		replace := false
		om, nm := Props(old.ObjectValue()), Props(new.ObjectValue())
		for _, f := range typeRegistry[p.Ref].Properties {
			sub := append(append(resource.PropertyPath{}, path...), f.Name)
			replace = diffValue(f, om.Value(f.Name), nm.Value(f.Name), nm.Has(f.Name), sub, forceNew || f.ForceNew, d) || replace
		}
		return replace
	case new.ContainsUnknowns():
		return record(path, false, false, forceNew)
	case !valuesEqual(p, old, new):
		return record(path, false, false, forceNew)
	}
	return false
}

// valuesEqual compares two plain values with the property's equality.
func valuesEqual(p *Property, a, b resource.PropertyValue) bool {
	a, b = plainValue(a), plainValue(b)
	if a.IsNull() || b.IsNull() {
		return a.IsNull() && b.IsNull()
	}
	if p != nil && p.Equal != nil {
		return p.Equal(a, b)
	}
	if p != nil && p.Kind == Map && a.IsObject() && b.IsObject() {
		// null entries are no entries
		am, bm := dropNulls(a.ObjectValue()), dropNulls(b.ObjectValue())
		return am.DeepEquals(bm)
	}
	return a.DeepEquals(b)
}

func dropNulls(m resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		if !v.IsNull() {
			out[k] = v
		}
	}
	return out
}

func isEmptyCollection(v resource.PropertyValue) bool {
	return (v.IsObject() && len(v.ObjectValue()) == 0) || (v.IsArray() && len(v.ArrayValue()) == 0)
}
