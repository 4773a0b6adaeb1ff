package plain

import (
	"reflect"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Secrets are unwrapped by Map and replaced, keeping their shape, by
// RedactedMap; whole numbers become int64.
func TestMapAndRedactedMap(t *testing.T) {
	props := resource.NewPropertyMapFromMap(map[string]any{
		"replicas": 3, "ratio": 0.5, "name": "api",
		"stringData": resource.MakeSecret(resource.NewObjectProperty(resource.NewPropertyMapFromMap(map[string]any{"password": "hunter2"}))),
		"tokens":     resource.MakeSecret(resource.NewArrayProperty([]resource.PropertyValue{resource.NewStringProperty("a"), resource.NewStringProperty("b")})),
	})
	want := map[string]any{"replicas": int64(3), "ratio": 0.5, "name": "api",
		"stringData": map[string]any{"password": "hunter2"}, "tokens": []any{"a", "b"}}
	if got := Map(props); !reflect.DeepEqual(got, want) {
		t.Errorf("Map = %#v, want %#v", got, want)
	}
	want["stringData"] = map[string]any{"password": Redacted}
	want["tokens"] = []any{Redacted, Redacted}
	if got := RedactedMap(props); !reflect.DeepEqual(got, want) {
		t.Errorf("RedactedMap = %#v, want %#v", got, want)
	}
}
