package content

import (
	"fmt"
	"regexp"
	"strings"
)

// The sensitive-data filter is defined once, here, and drives both the
// Logstash pipeline (RedactionFilter renders it as Logstash filters) and
// the tests (Redact applies the same rules in Go to sample events). The
// patterns use only syntax that Go's RE2 and Logstash's Ruby (Onigmo)
// regular expressions read the same way: no look-around, no possessive
// quantifiers, quotes written as \x22 and \x27 so that the pattern fits in
// a Logstash string without escapes.

// RemovedFields are dropped from every event wherever JSON parsing put
// them: credentials a log line should never carry.
var RemovedFields = []string{
	"[app][password]", "[app][token]", "[app][access_token]", "[app][refresh_token]", "[app][secret]",
	"[app][authorization]", "[app][cookie]", "[app][set_cookie]",
	"[app][headers][authorization]", "[app][headers][cookie]", "[app][headers][set-cookie]",
	"[app][req][headers][authorization]", "[app][req][headers][cookie]",
	"[app][res][headers][set-cookie]",
}

// Pattern is one redaction applied to free-text fields.
type Pattern struct {
	// Name says what it removes.
	Name string
	// Regexp matches what is removed; groups numbered from 1.
	Regexp string
	// Replacement is written with \1-style group references, as Ruby's
	// gsub (and so Logstash's) takes them.
	Replacement string
}

// Patterns are applied in order to each of TextFields.
var Patterns = []Pattern{
	{"bearer and basic credentials", `(?i)\b(bearer|basic) [A-Za-z0-9._~+/=-]+`, `\1 [REDACTED]`},
	{"credential assignments (password=..., \"token\": \"...\")", `(?i)\b(password|passwd|pwd|secret|token|api_?key|access_token|refresh_token|authorization|cookie)([\x22\x27]?\s*[:=]\s*[\x22\x27]?)[^\s\x22\x27&,;]+`, `\1\2[REDACTED]`},
	{"card numbers (15 or 16 digits starting 3-6, optional separators)", `\b[3-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{3,4}\b`, `[CARD]`},
	{"email addresses in free text", `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, `[EMAIL]`},
}

// TextFields are the free-text fields the patterns scrub. Fields meant to
// hold an address (user.email) are left alone.
var TextFields = []string{"message", "[app][msg]", "[app][url]", "[app][err][message]", "[error][message]"}

// goReplacement turns \1 into ${1} for Go's regexp.
var rubyGroup = regexp.MustCompile(`\\(\d)`)

// Redact applies the patterns to one text value, as the pipeline does.
func Redact(text string) string {
	for _, p := range Patterns {
		text = regexp.MustCompile(p.Regexp).ReplaceAllString(text, rubyGroup.ReplaceAllString(p.Replacement, `$${$1}`))
	}
	return text
}

// RedactEvent applies the whole filter to an event (field paths in
// Logstash's [a][b] form): the removed fields go, the text fields are
// scrubbed.
func RedactEvent(event map[string]any) {
	for _, f := range RemovedFields {
		removePath(event, fieldPath(f))
	}
	for _, f := range TextFields {
		path := fieldPath(f)
		if s, ok := getPath(event, path).(string); ok {
			setPath(event, path, Redact(s))
		}
	}
}

func fieldPath(f string) []string {
	if !strings.HasPrefix(f, "[") {
		return []string{f}
	}
	return strings.Split(strings.Trim(f, "[]"), "][")
}

func getPath(m map[string]any, path []string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func setPath(m map[string]any, path []string, v any) {
	for _, k := range path[:len(path)-1] {
		m = m[k].(map[string]any)
	}
	m[path[len(path)-1]] = v
}

func removePath(m map[string]any, path []string) {
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			return
		}
		m = next
	}
	delete(m, path[len(path)-1])
}

// RedactionFilter is the Logstash filter section the rules above become.
func RedactionFilter() (string, error) {
	var b strings.Builder
	b.WriteString("  # Sensitive data, generated from components/logging/content/redaction.go.\n")
	b.WriteString("  mutate {\n    remove_field => [")
	for i, f := range RemovedFields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", f)
	}
	b.WriteString("]\n  }\n")
	for _, p := range Patterns {
		if strings.ContainsAny(p.Regexp+p.Replacement, `'`) {
			return "", fmt.Errorf("redaction %q: a quote would end the Logstash string; write it as \\x27", p.Name)
		}
		if _, err := regexp.Compile(p.Regexp); err != nil {
			return "", fmt.Errorf("redaction %q: %w", p.Name, err)
		}
		fmt.Fprintf(&b, "  # %s\n  mutate {\n    gsub => [\n", p.Name)
		for i, f := range TextFields {
			sep := ","
			if i == len(TextFields)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "      '%s', '%s', '%s'%s\n", f, p.Regexp, p.Replacement, sep)
		}
		b.WriteString("    ]\n  }\n")
	}
	return b.String(), nil
}
