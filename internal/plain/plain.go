// Package plain converts Pulumi property values to plain Go values (maps,
// lists, strings, numbers, booleans), as the policy rules, the mock
// engine's writers and the tests read resources. It depends on the Pulumi
// SDK's resource package alone, so that the policy pack carries neither
// the mock engine nor the program.
package plain

import (
	"fmt"
	"math"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Redacted is what a secret value is written as.
const Redacted = "[secret]"

// redactedShape replaces every value inside a secret with Redacted and
// keeps its shape: an object's keys stay (a Secret's stringData keeps the
// names of its entries, so that a real API server accepts the manifest),
// a list keeps its length.
func redactedShape(v resource.PropertyValue) any {
	switch {
	case v.IsSecret():
		return redactedShape(v.SecretValue().Element)
	case v.IsOutput():
		return redactedShape(v.OutputValue().Element)
	case v.IsObject():
		m := v.ObjectValue()
		out := make(map[string]any, len(m))
		for k, e := range m {
			out[string(k)] = redactedShape(e)
		}
		return out
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			out = append(out, redactedShape(e))
		}
		return out
	}
	return Redacted
}

// Map converts a property map to plain Go values, secrets unwrapped.
func Map(m resource.PropertyMap) map[string]any { return convertMap(m, false) }

// RedactedMap converts a property map to plain Go values with every
// secret replaced by Redacted (keeping its shape).
func RedactedMap(m resource.PropertyMap) map[string]any { return convertMap(m, true) }

func convertMap(m resource.PropertyMap, redact bool) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k == "__defaults" {
			continue
		}
		out[string(k)] = convert(v, redact)
	}
	return out
}

func convert(v resource.PropertyValue, redact bool) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		n := v.NumberValue()
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n)
		}
		return n
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, 0, len(arr))
		for _, e := range arr {
			out = append(out, convert(e, redact))
		}
		return out
	case v.IsObject():
		return convertMap(v.ObjectValue(), redact)
	case v.IsSecret():
		if redact {
			return redactedShape(v.SecretValue().Element)
		}
		return convert(v.SecretValue().Element, redact)
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	case v.IsOutput():
		o := v.OutputValue()
		if o.Secret && redact {
			return redactedShape(o.Element)
		}
		if !o.Known {
			return "[unknown]"
		}
		return convert(o.Element, redact)
	case v.IsComputed():
		return "[unknown]"
	case v.IsAsset(), v.IsArchive():
		return "[asset]"
	}
	return fmt.Sprintf("%v", v)
}
