package core

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Props is a property map of plain values, keyed by wire name. It is a
// resource.PropertyMap with accessors that never panic.
type Props resource.PropertyMap

// NewProps returns an empty map.
func NewProps() Props { return Props{} }

func (p Props) get(key string) (resource.PropertyValue, bool) {
	if p == nil {
		return resource.PropertyValue{}, false
	}
	v, ok := p[resource.PropertyKey(key)]
	if !ok || v.IsNull() {
		return resource.PropertyValue{}, false
	}
	return v, true
}

// Has reports whether key is present and not null.
func (p Props) Has(key string) bool { _, ok := p.get(key); return ok }

// Known reports whether key is absent or has a fully known value.
func (p Props) Known(key string) bool {
	v, ok := p.get(key)
	return !ok || !v.ContainsUnknowns()
}

// Value returns the raw value of key (null when absent).
func (p Props) Value(key string) resource.PropertyValue {
	v, _ := p.get(key)
	return v
}

// String returns the string at key ("" when absent or not a string).
func (p Props) String(key string) string {
	s, _ := p.OptString(key)
	return s
}

// OptString returns the string at key and whether it is set.
func (p Props) OptString(key string) (string, bool) {
	v, ok := p.get(key)
	if !ok || !v.IsString() {
		return "", false
	}
	return v.StringValue(), true
}

// Bool returns the boolean at key (false when absent).
func (p Props) Bool(key string) bool {
	b, _ := p.OptBool(key)
	return b
}

// OptBool returns the boolean at key and whether it is set.
func (p Props) OptBool(key string) (bool, bool) {
	v, ok := p.get(key)
	if !ok || !v.IsBool() {
		return false, false
	}
	return v.BoolValue(), true
}

// Int returns the number at key as an int (0 when absent).
func (p Props) Int(key string) int {
	i, _ := p.OptInt(key)
	return i
}

// OptInt returns the number at key as an int and whether it is set.
func (p Props) OptInt(key string) (int, bool) {
	v, ok := p.get(key)
	if !ok || !v.IsNumber() {
		return 0, false
	}
	return int(math.Round(v.NumberValue())), true
}

// StringMap returns the map of strings at key (nil when absent).
func (p Props) StringMap(key string) map[string]string {
	v, ok := p.get(key)
	if !ok || !v.IsObject() {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		if e.IsString() {
			out[string(k)] = e.StringValue()
		}
	}
	return out
}

// Strings returns the list of strings at key (nil when absent).
func (p Props) Strings(key string) []string {
	v, ok := p.get(key)
	if !ok || !v.IsArray() {
		return nil
	}
	var out []string
	for _, e := range v.ArrayValue() {
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}
	return out
}

// Object returns the object at key (nil when absent).
func (p Props) Object(key string) Props {
	v, ok := p.get(key)
	if !ok || !v.IsObject() {
		return nil
	}
	return Props(v.ObjectValue())
}

// Set stores a Go value (string, bool, int, float64, []string,
// map[string]string, Props, []any, map[string]any, resource.PropertyValue;
// nil = null) and returns p.
func (p Props) Set(key string, value any) Props {
	p[resource.PropertyKey(key)] = ToValue(value)
	return p
}

// Map returns p as a resource.PropertyMap.
func (p Props) Map() resource.PropertyMap { return resource.PropertyMap(p) }

// Copy returns a shallow copy.
func (p Props) Copy() Props {
	out := Props{}
	for k, v := range p {
		out[k] = v
	}
	return out
}

// ToValue converts a Go value to a PropertyValue.
func ToValue(value any) resource.PropertyValue {
	switch v := value.(type) {
	case nil:
		return resource.NewNullProperty()
	case resource.PropertyValue:
		return v
	case Props:
		return resource.NewObjectProperty(resource.PropertyMap(v))
	case resource.PropertyMap:
		return resource.NewObjectProperty(v)
	case string:
		return resource.NewStringProperty(v)
	case *string:
		if v == nil {
			return resource.NewNullProperty()
		}
		return resource.NewStringProperty(*v)
	case bool:
		return resource.NewBoolProperty(v)
	case *bool:
		if v == nil {
			return resource.NewNullProperty()
		}
		return resource.NewBoolProperty(*v)
	case int:
		return resource.NewNumberProperty(float64(v))
	case *int:
		if v == nil {
			return resource.NewNullProperty()
		}
		return resource.NewNumberProperty(float64(*v))
	case int64:
		return resource.NewNumberProperty(float64(v))
	case float64:
		return resource.NewNumberProperty(v)
	case []string:
		arr := make([]resource.PropertyValue, 0, len(v))
		for _, s := range v {
			arr = append(arr, resource.NewStringProperty(s))
		}
		return resource.NewArrayProperty(arr)
	case map[string]string:
		m := resource.PropertyMap{}
		for k, s := range v {
			m[resource.PropertyKey(k)] = resource.NewStringProperty(s)
		}
		return resource.NewObjectProperty(m)
	default:
		return resource.NewPropertyValue(value)
	}
}

// Plain returns a copy of m with every secret unwrapped (unknowns are kept).
func Plain(m resource.PropertyMap) Props {
	out := Props{}
	for k, v := range m {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plainValue(v.SecretValue().Element)
	case v.IsOutput():
		o := v.OutputValue()
		if !o.Known {
			return resource.MakeComputed(resource.NewStringProperty(""))
		}
		return plainValue(o.Element)
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = plainValue(e)
		}
		return resource.NewArrayProperty(arr)
	case v.IsObject():
		return resource.NewObjectProperty(resource.PropertyMap(Plain(v.ObjectValue())))
	default:
		return v
	}
}

// containsSecrets reports whether v is or holds a secret.
func containsSecrets(v resource.PropertyValue) bool {
	switch {
	case v.IsSecret():
		return true
	case v.IsOutput():
		return v.OutputValue().Secret
	case v.IsArray():
		for _, e := range v.ArrayValue() {
			if containsSecrets(e) {
				return true
			}
		}
	case v.IsObject():
		for _, e := range v.ObjectValue() {
			if containsSecrets(e) {
				return true
			}
		}
	}
	return false
}

// unknown is the value of a computed property not known during preview.
func unknown() resource.PropertyValue { return resource.MakeComputed(resource.NewStringProperty("")) }

// decodeStringly turns a string into the declared kind: the Python SDK sends
// a provider's non-string settings (numbers, booleans, lists, objects) as
// strings ("5432", "true", JSON text).
func decodeStringly(prop *Property, v resource.PropertyValue) (resource.PropertyValue, error) {
	if !v.IsString() || prop.Kind == String {
		return v, nil
	}
	s := strings.TrimSpace(v.StringValue())
	switch prop.Kind {
	case Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return v, fmt.Errorf("expected true or false, got %q", s)
		}
		return resource.NewBoolProperty(b), nil
	case Int, Number:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return v, fmt.Errorf("expected a number, got %q", s)
		}
		return resource.NewNumberProperty(f), nil
	default:
		var raw any
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return v, fmt.Errorf("expected JSON text for a %s: %v", prop.Kind, err)
		}
		out := resource.NewPropertyValue(raw)
		return decodeNested(prop, out), nil
	}
}

// decodeNested decodes stringly values inside objects of declared types.
func decodeNested(prop *Property, v resource.PropertyValue) resource.PropertyValue {
	switch {
	case prop.Kind == Array && v.IsArray() && prop.Items != nil:
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			d, err := decodeStringly(prop.Items, e)
			if err != nil {
				d = e
			}
			arr[i] = decodeNested(prop.Items, d)
		}
		return resource.NewArrayProperty(arr)
	case prop.Kind == Object && v.IsObject() && prop.Ref != "":
		t := typeRegistry[prop.Ref]
		if t == nil {
			return v
		}
		m := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			if f := findProp(t.Properties, string(k)); f != nil {
				if d, err := decodeStringly(f, e); err == nil {
					e = decodeNested(f, d)
				}
			}
			m[k] = e
		}
		return resource.NewObjectProperty(m)
	}
	return v
}

// typeRegistry is filled by Serve with the provider's object types (one
// provider per process).
var typeRegistry = map[string]*ObjectType{}

func findProp(props []*Property, name string) *Property {
	for _, p := range props {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func sortedKeys(m resource.PropertyMap) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	return keys
}

// checkKind reports a type mismatch of a known plain value.
func checkKind(prop *Property, v resource.PropertyValue) string {
	if v.IsNull() || v.ContainsUnknowns() {
		return ""
	}
	want := prop.Kind
	ok := true
	switch want {
	case String:
		ok = v.IsString()
	case Bool:
		ok = v.IsBool()
	case Int:
		ok = v.IsNumber() && v.NumberValue() == math.Trunc(v.NumberValue())
	case Number:
		ok = v.IsNumber()
	case Array:
		ok = v.IsArray()
		if ok && prop.Items != nil {
			for i, e := range v.ArrayValue() {
				if r := checkKind(prop.Items, e); r != "" {
					return fmt.Sprintf("element %d: %s", i, r)
				}
			}
		}
	case Map, Object:
		ok = v.IsObject()
		if ok && want == Map && prop.Items != nil {
			for _, k := range sortedKeys(v.ObjectValue()) {
				if r := checkKind(prop.Items, v.ObjectValue()[resource.PropertyKey(k)]); r != "" {
					return fmt.Sprintf("key %q: %s", k, r)
				}
			}
		}
	}
	if !ok {
		return fmt.Sprintf("expected %s, got %s", kindWord(want), valueWord(v))
	}
	return ""
}

func kindWord(k Kind) string {
	switch k {
	case Int:
		return "a whole number"
	case Number:
		return "a number"
	case Bool:
		return "true or false"
	case Array:
		return "a list"
	case Map:
		return "a map"
	case Object:
		return "an object"
	}
	return "a string"
}

func valueWord(v resource.PropertyValue) string {
	switch {
	case v.IsString():
		return "a string"
	case v.IsNumber():
		return "a number"
	case v.IsBool():
		return "a boolean"
	case v.IsArray():
		return "a list"
	case v.IsObject():
		return "an object"
	}
	return string(v.TypeString())
}
