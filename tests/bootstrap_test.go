package tests

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/scrolluniversity/platform/infra/bootstrap"
	"github.com/scrolluniversity/platform/internal/synth"
)

func bootstrapStack(repo string) *synth.Stack {
	return &synth.Stack{Project: "scrolluniversity-bootstrap", Name: "bootstrap", Config: map[string]string{
		"scrolluniversity-bootstrap:repository": repo, "aws:region": "us-east-1",
	}}
}

// The bootstrap program under the mock engine: the preview role trusts only
// the repository's pull requests and writes nothing; the deploy role trusts
// only its environments.
func TestBootstrapRoles(t *testing.T) {
	res, err := synth.RunProgram(bootstrapStack("scrolluniversity/platform"), bootstrap.Program)
	if err != nil {
		t.Fatal(err)
	}
	trustSubjects := func(role string) []string {
		r := one(t, res, typeRole, role).Plain()
		var doc struct {
			Statement []struct {
				Condition map[string]map[string]any
			}
		}
		if err := json.Unmarshal([]byte(r["assumeRolePolicy"].(string)), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Statement) != 1 {
			t.Fatalf("%s: %d trust statements", role, len(doc.Statement))
		}
		c := doc.Statement[0].Condition
		if stringOrList(c["StringEquals"]["token.actions.githubusercontent.com:aud"])[0] != "sts.amazonaws.com" {
			t.Errorf("%s: audience not pinned to STS: %v", role, c)
		}
		return stringOrList(c["StringEquals"]["token.actions.githubusercontent.com:sub"])
	}
	if got := trustSubjects("scrolluniversity-preview"); !slices.Equal(got, []string{"repo:scrolluniversity/platform:pull_request"}) {
		t.Errorf("preview role trusts %v, want the repository's pull requests only", got)
	}
	if got := trustSubjects("scrolluniversity-deploy"); !slices.Equal(got, []string{"repo:scrolluniversity/platform:environment:staging", "repo:scrolluniversity/platform:environment:production"}) {
		t.Errorf("deploy role trusts %v, want the staging and production environments", got)
	}
	// The preview role's own policy reads; its managed policy is ReadOnlyAccess.
	inline := one(t, res, typeRolePolicy, "scrolluniversity-preview-state").Plain()
	var doc struct{ Statement []struct{ Action any } }
	json.Unmarshal([]byte(inline["policy"].(string)), &doc)
	for _, s := range doc.Statement {
		for _, a := range stringOrList(s.Action) {
			verb := a[strings.Index(a, ":")+1:]
			if !strings.HasPrefix(verb, "Get") && !strings.HasPrefix(verb, "List") && verb != "Decrypt" {
				t.Errorf("the preview role may %s", a)
			}
		}
	}
	if got := one(t, res, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "scrolluniversity-preview-read-only").Plain()["policyArn"]; got != bootstrap.ReadOnlyPolicy {
		t.Errorf("preview role's managed policy is %v", got)
	}
	for _, out := range []string{"stateBackendUrl", "secretsProvider", "previewRoleArn", "deployRoleArn"} {
		if _, ok := res.Outputs[out]; !ok {
			t.Errorf("no output %s", out)
		}
	}
	if s, _ := res.Outputs["secretsProvider"].Value.(string); !strings.HasPrefix(s, "awskms://alias/scrolluniversity-pulumi-secrets") {
		t.Errorf("secretsProvider = %v", res.Outputs["secretsProvider"].Value)
	}
}

func TestBootstrapRefusesABadRepository(t *testing.T) {
	res, err := synth.RunProgram(bootstrapStack("platform"), bootstrap.Program)
	if err == nil || !strings.Contains(err.Error(), `repository = "platform"`) {
		t.Fatalf("want an error naming the key and value, got %v", err)
	}
	if len(res.Resources) != 0 {
		t.Errorf("%d resources registered before the config error", len(res.Resources))
	}
}
