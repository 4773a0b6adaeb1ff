package stackfiles

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const repoRoot = "../.."

func TestReadsTheShippedStacks(t *testing.T) {
	all, err := Read(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range all {
		names = append(names, s.Stack)
	}
	if !slices.Equal(names, Names(repoRoot)) || len(names) < 2 {
		t.Fatalf("stacks %v, files %v", names, Names(repoRoot))
	}
	for _, s := range all {
		if s.Guarded != (s.PreviewEnvironment == s.Stack+"-preview") || (!s.Guarded && s.PreviewEnvironment != "") {
			t.Errorf("%s: guarded %v, preview environment %q", s.Stack, s.Guarded, s.PreviewEnvironment)
		}
	}
}

// write makes a folder of one stack file.
func write(t *testing.T, name, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi."+name+".yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const good = `config:
  aws:region: eu-west-1
  scrolluniversity:guards: {protect: true}
  scrolluniversity:cluster:
    deployerRoleArn: arn:aws:iam::123456789012:role/scrolluniversity-qa-deploy
    viewerRoleArns:
      - arn:aws:iam::123456789012:role/auditors
      - arn:aws:iam::123456789012:role/scrolluniversity-qa-preview
`

func TestReadOne(t *testing.T) {
	s, err := ReadOne(write(t, "qa", good), "qa")
	if err != nil {
		t.Fatal(err)
	}
	want := Stack{Stack: "qa", Region: "eu-west-1", Guarded: true, DeployRole: "arn:aws:iam::123456789012:role/scrolluniversity-qa-deploy",
		PreviewRole: "arn:aws:iam::123456789012:role/scrolluniversity-qa-preview", PreviewEnvironment: "qa-preview"}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	for _, tc := range []struct{ name, stack, text, want string }{
		{"name", "QA_1", good, `Pulumi.QA_1.yaml: stack name "QA_1": want lower-case letters, digits and dashes`},
		{"region", "qa", strings.Replace(good, "  aws:region: eu-west-1\n", "", 1), "Pulumi.qa.yaml: aws:region is not set"},
		{"deploy role of another stack", "qa", strings.Replace(good, "qa-deploy", "prod-deploy", 1), `Pulumi.qa.yaml: scrolluniversity:cluster.deployerRoleArn = "arn:aws:iam::123456789012:role/scrolluniversity-prod-deploy": want the bootstrap's deploy role of qa`},
		{"no preview role", "qa", strings.Replace(good, "scrolluniversity-qa-preview", "someone", 1), "Pulumi.qa.yaml: scrolluniversity:cluster.viewerRoleArns = [arn:aws:iam::123456789012:role/auditors arn:aws:iam::123456789012:role/someone]: want the bootstrap's preview role of qa"},
		{"YAML", "qa", "config: [", "Pulumi.qa.yaml: yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadOne(write(t, tc.stack, tc.text), tc.stack)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("want an error starting %q, got %v", tc.want, err)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	all := []Stack{{Stack: "production", Guarded: true}, {Stack: "staging"}, {Stack: "dev"}}
	yes, no := true, false
	names := func(ss []Stack, err error) string {
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, s := range ss {
			out = append(out, s.Stack)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		guarded *bool
		only    string
		want    string
	}{
		{nil, "", "production,staging,dev"},
		{&no, "", "staging,dev"},
		{&yes, "", "production"},
		{&no, "production", ""},
		{&yes, "production", "production"},
		{nil, "prod", `stack "prod": no Pulumi.prod.yaml; the stacks are [production staging dev]`},
	} {
		if got := names(Select(all, tc.guarded, tc.only)); got != tc.want {
			t.Errorf("Select(%v, %q): got %q, want %q", tc.guarded, tc.only, got, tc.want)
		}
	}
}

func TestWithoutSecrets(t *testing.T) {
	in := `secretsprovider: awskms://alias/scrolluniversity-staging
encryptedkey: AQICAHh
config:
  aws:region: us-east-1
  scrolluniversity:openaiApiKey:
    secure: v1:abc
  # the cluster
  scrolluniversity:cluster:
    version: "1.34"
    note:
      secure: not-a-secret-a-nested-setting-named-secure
`
	out, dropped, err := WithoutSecrets("Pulumi.staging.yaml", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if !slices.Equal(dropped, []string{"scrolluniversity:openaiApiKey"}) {
		t.Errorf("dropped %v, want the one encrypted top-level value", dropped)
	}
	for _, gone := range []string{"secretsprovider", "encryptedkey", "openaiApiKey", "v1:abc"} {
		if strings.Contains(text, gone) {
			t.Errorf("%q is still in\n%s", gone, text)
		}
	}
	// What is not a secret stays, comments included; a nested key named
	// secure is a setting, not a ciphertext the CLI wrote.
	for _, kept := range []string{"aws:region: us-east-1", "  # the cluster\n  scrolluniversity:cluster:\n    version: \"1.34\"", "secure: not-a-secret"} {
		if !strings.Contains(text, kept) {
			t.Errorf("%q is missing from\n%s", kept, text)
		}
	}
	if _, _, err := WithoutSecrets("Pulumi.bad.yaml", []byte("- a list\n")); err == nil || !strings.Contains(err.Error(), "Pulumi.bad.yaml: not a mapping") {
		t.Errorf("a file that is not a mapping: %v", err)
	}
}
