package infra

import (
	"regexp"
	"strings"
)

// Namer makes every resource name from one prefix, "<project>-<stack>" by
// default (the cluster name), so that two stacks in one account never clash
// and a resource's purpose is readable in the AWS console.
type Namer struct {
	Prefix string
}

var unsafeNameChars = regexp.MustCompile(`[^a-z0-9-]+`)

// Name joins the prefix and the parts with "-", lower-cased, with anything
// that is not a letter, digit or "-" replaced by "-". Keys such as zone names
// and node group names make the parts, never list positions, so reordering a
// list does not rename (and replace) resources.
func (n Namer) Name(parts ...string) string {
	all := append([]string{n.Prefix}, parts...)
	name := strings.ToLower(strings.Join(all, "-"))
	name = unsafeNameChars.ReplaceAllString(name, "-")
	return strings.Trim(name, "-")
}

// BaseTags are the AWS tags every resource carries (through the AWS
// provider's defaultTags); the stack's own tags are merged over them, and
// the three keys that identify a resource's owner cannot be overridden.
func BaseTags(cfg *Config) map[string]string {
	tags := map[string]string{}
	for k, v := range cfg.Tags {
		tags[k] = v
	}
	tags["Project"] = cfg.Project
	tags["Environment"] = cfg.Stack
	tags["ManagedBy"] = "pulumi"
	return tags
}

// RequiredTagKeys are the tag keys every taggable AWS resource must carry.
var RequiredTagKeys = []string{"Project", "Environment", "ManagedBy"}
