package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAWSTagsCannotOverrideOwnership(t *testing.T) {
	cfg := Defaults("scrolluniversity", "staging")
	cfg.Tags = map[string]string{"CostCenter": "x", "Environment": "production"}
	tags := cfg.AWSTags()
	want := map[string]string{"CostCenter": "x", "Environment": "staging", "Project": "scrolluniversity", "ManagedBy": "pulumi"}
	if len(tags) != len(want) {
		t.Fatalf("want %v, got %v", want, tags)
	}
	for k, v := range want {
		if tags[k] != v {
			t.Errorf("tag %s: want %q, got %q", k, v, tags[k])
		}
	}
}

func TestKubernetesVersionWindow(t *testing.T) {
	cases := map[string]bool{
		"1.35": true, "1.36": true,
		// 1.34 left EKS standard support on 2026-12-02; 1.37 is not on EKS
		// in the calendar this window was set from.
		"1.34": false, "1.37": false, "1.36.1": false, "v1.36": false, "2.0": false, "": false,
	}
	if MinKubernetesVersion != "1.35" || MaxKubernetesVersion != "1.36" || DefaultKubernetesVersion != MaxKubernetesVersion {
		t.Errorf("window %s-%s, default %s: want 1.35-1.36, default the newest (most standard support left)", MinKubernetesVersion, MaxKubernetesVersion, DefaultKubernetesVersion)
	}
	for v, want := range cases {
		if got := kubernetesVersionSupported(v); got != want {
			t.Errorf("kubernetesVersionSupported(%q): want %v, got %v", v, want, got)
		}
	}
}

// Without a stack file to point into (a program under `pulumi up` run
// elsewhere), a problem still shows the value it got.
func TestProblemsWithoutAFileShowTheValue(t *testing.T) {
	_, err := Parse("scrolluniversity", "x", map[string]string{
		"aws:region":               "us-east-1",
		"scrolluniversity:network": `{"natGateway": "perZone", "flowLogRetentionDays": "many"}`,
	})
	for _, want := range []string{
		`config scrolluniversity:network.natGateway = "perZone": unknown key; did you mean natGateways?`,
		`config scrolluniversity:network.flowLogRetentionDays = "many": want a whole number`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in\n%v", want, err)
		}
	}
}

// Under `pulumi up` the program finds its stack file in the working
// directory and names lines; without the file, problems keep their keys.
func TestLocateInDir(t *testing.T) {
	dir := t.TempDir()
	stack := "config:\n  aws:region: us-east-1\n  scrolluniversity:network:\n    natGateway: single\n"
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.qa.yaml"), []byte(stack), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Parse("scrolluniversity", "qa", map[string]string{"aws:region": "us-east-1", "scrolluniversity:network": `{"natGateway": "single"}`})
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("want Problems, got %v", err)
	}
	want := "Pulumi.qa.yaml:4: scrolluniversity:network.natGateway = single: unknown key; did you mean natGateways?"
	if got := LocateInDir(dir, "qa", ps).Error(); !strings.Contains(got, want) {
		t.Errorf("want %q in\n%s", want, got)
	}
	if got := LocateInDir(t.TempDir(), "qa", ps).Error(); !strings.Contains(got, `config scrolluniversity:network.natGateway = "single": unknown key`) {
		t.Errorf("without a file: got\n%s", got)
	}
}

// Placeholders: each kind is found, with the key, and real values pass.
func TestPlaceholders(t *testing.T) {
	c := Defaults("scrolluniversity", "x")
	c.Cluster.PublicAccessCidrs = []string{"198.51.100.7/32", "52.94.76.0/22"}
	c.Cluster.DeployerRoleArn = "arn:aws:iam::123456789012:role/deploy"
	c.Cluster.AdminRoleArns = []string{"arn:aws:iam::210987654321:role/admins", "arn:aws:iam::123456789012:role/platform-admins"}
	c.App.Route53ZoneId = "Z0123456789STAGINGZONE"
	c.App.AcmeEmail = "ops@example.com"
	c.App.Hostnames = []string{"app.scrolluniversity.app", "beta.test"}
	c.Observability.Receivers.SmtpUsername = "AKIAEXAMPLESTAGING00"
	c.Observability.Receivers.EmailTo = "oncall@scrolluniversity.app"
	got := Placeholders(c).Error()
	for _, want := range []string{
		`scrolluniversity:cluster.publicAccessCidrs[0] = "198.51.100.7/32": inside 198.51.100.0/24, a documentation range`,
		`scrolluniversity:cluster.deployerRoleArn = "arn:aws:iam::123456789012:role/deploy": account 123456789012`,
		`scrolluniversity:cluster.adminRoleArns[1] = "arn:aws:iam::123456789012:role/platform-admins"`,
		`scrolluniversity:app.route53ZoneId = "Z0123456789STAGINGZONE": an example hosted-zone ID`,
		`scrolluniversity:observability.receivers.smtpUsername = "AKIAEXAMPLESTAGING00": an example access key ID`,
		`scrolluniversity:app.acmeEmail = "ops@example.com": example.com is reserved`,
		`scrolluniversity:app.hostnames[1] = "beta.test": test is reserved`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in\n%s", want, got)
		}
	}
	for _, real := range []string{"52.94.76.0/22", "210987654321", "app.scrolluniversity.app", "oncall@scrolluniversity.app"} {
		if strings.Contains(got, real) {
			t.Errorf("a real value was taken for a placeholder: %s in\n%s", real, got)
		}
	}
	if n := len(Placeholders(c)); n != 7 {
		t.Errorf("want 7 placeholders, got %d", n)
	}
}

// The characters a terminal shows as a blank are named, with where they
// stand; a value without any is shown as it is.
func TestInvisibleCharactersAreNamed(t *testing.T) {
	for shown, want := range map[string]string{
		`"app.example.com\t"`:     "contains a tab at character 16",
		"\"a\u00a0b\"":            "contains a no-break space at character 2",
		"\"\u200bapp\"":           "contains a zero-width space at character 1",
		`" app.example.com"`:      "contains a leading or trailing space",
		`"app.example.com"`:       "",
		"minSize=4 desiredSize=3": "",
	} {
		if got := invisibles(shown); got != want {
			t.Errorf("invisibles(%q) = %q, want %q", shown, got, want)
		}
	}
}
