package kit

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
