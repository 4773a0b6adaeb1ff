package synth

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// A stack output made from plain values is not tied to the run, so the
// engine does not wait for its callbacks. Run must still return its value:
// reading it from an ApplyT callback lost it whenever that callback was
// still pending when the run ended (the production outputs file lost
// securityHeaders now and then when runs overlapped). The sleep makes the
// late callback certain.
func TestRunAwaitsOutputsNotTiedToTheRun(t *testing.T) {
	stack := &Stack{Project: "p", Name: "s", Config: map[string]string{"aws:region": "us-east-1"}}
	res, err := RunProgram(stack, func(ctx *pulumi.Context) (map[string]pulumi.Input, error) {
		late := pulumi.ToOutput(pulumi.String("v")).ApplyT(func(v any) string {
			time.Sleep(200 * time.Millisecond)
			return v.(string)
		})
		return map[string]pulumi.Input{
			"late":   late,
			"plain":  pulumi.ToStringMap(map[string]string{"a": "b"}),
			"secret": pulumi.ToSecret(pulumi.String("hidden")),
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Outputs["late"]; got.Value != "v" || got.Secret {
		t.Errorf("late output: want \"v\", not secret; got %#v", got)
	}
	if got, ok := res.Outputs["plain"].Value.(map[string]string); !ok || got["a"] != "b" {
		t.Errorf("plain output: want map[a:b], got %#v", res.Outputs["plain"].Value)
	}
	if got := res.Outputs["secret"]; !got.Secret || got.Value != "hidden" {
		t.Errorf("secret output: want the value and the secret flag, got %#v", got)
	}
	if out := Outputs(res); out["secret"] != Redacted {
		t.Errorf("outputs.json must redact the secret, got %v", out["secret"])
	}
}
