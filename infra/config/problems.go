package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Problem is one bad config value: its full key path as a stack file spells
// it ("scrolluniversity:cluster.nodeGroups.workload.maxSize", "aws:region"),
// the value shown as written, and what is allowed.
type Problem struct {
	Key     string
	Value   string
	Allowed string
	// Raw is the value as the program received it (JSON), shown when the
	// stack file cannot say how it was written.
	Raw string
	// File and Line locate it in the stack file, when known (Locate).
	File string
	Line int
}

func (p Problem) String() string {
	if p.Value == "" {
		p.Value = p.Raw
	}
	if hidden := invisibles(p.Value); hidden != "" {
		p.Value += " (" + hidden + ")"
	}
	if p.File != "" && p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s = %s: %s", p.File, p.Line, p.Key, p.Value, p.Allowed)
	}
	return fmt.Sprintf("config %s = %s: %s", p.Key, p.Value, p.Allowed)
}

// Problems is every problem of a stack's config, in the order of the stack
// file when located. It is the error Parse and Load return: nothing is
// registered while there is one.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		lines = append(lines, p.String())
	}
	return strings.Join(lines, "\n")
}

// Locator finds where a key path is written: the file, the line, and the
// value as written there (ok false when the key is not in the file: then
// the line is that of the closest enclosing key that is).
type Locator interface {
	Locate(key string) (file string, line int, written string, ok bool)
}

// Locate places every problem in the stack file and sorts them by line.
// A problem's value becomes the value as written in the file when the
// problem shows the whole value of a key (not a derived summary).
func (ps Problems) Locate(l Locator) Problems {
	if l == nil {
		return ps
	}
	out := make(Problems, len(ps))
	for i, p := range ps {
		file, line, written, ok := l.Locate(p.Key)
		p.File, p.Line = file, line
		if ok && p.Value == "" {
			p.Value = written
		}
		out[i] = p
	}
	sortProblems(out)
	return out
}

func sortProblems(ps Problems) {
	// Insertion sort keeps equal lines in the order validation found them.
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Line < ps[j-1].Line; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// problems collects every configuration problem so that one run reports all
// of them; each names the full config key, the bad value and what is allowed.
type problems struct {
	project string
	list    Problems
}

// add records a problem. Keys of other namespaces (aws:region) are given
// whole; the project's own relative to its namespace.
func (p *problems) add(key string, value any, allowed string, args ...any) {
	p.addShown(key, show(value), fmt.Sprintf(allowed, args...))
}

// addRaw records a problem with a decoded value: shown as the stack file
// writes it where the file is known, else as received.
func (p *problems) addRaw(key string, v any, allowed string) {
	raw, err := json.Marshal(v)
	if err != nil {
		raw = []byte(fmt.Sprint(v))
	}
	p.addShown(key, "", allowed)
	p.list[len(p.list)-1].Raw = string(raw)
}

// addShown records a problem whose value is already rendered ("" to show
// it as the stack file writes it).
func (p *problems) addShown(key, shown, allowed string) {
	if !strings.Contains(key, ":") {
		key = p.project + ":" + key
	}
	p.list = append(p.list, Problem{Key: key, Value: shown, Allowed: allowed})
}

// has is whether a problem is already recorded at key or below it: a
// check of a value derived from key stays quiet then, so that the cause is
// reported and not what follows from it.
func (p *problems) has(key string) bool {
	full := key
	if !strings.Contains(key, ":") {
		full = p.project + ":" + key
	}
	for _, q := range p.list {
		if q.Key == full || strings.HasPrefix(q.Key, full+".") || strings.HasPrefix(q.Key, full+"[") {
			return true
		}
	}
	return false
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list
}

// summary is a value shown as it is, not quoted: several fields at once
// ("minSize=4 desiredSize=3"), or an empty list.
type summary string

// show renders a value as YAML would: strings quoted, lists in brackets.
func show(v any) string {
	switch x := v.(type) {
	case summary:
		return string(x)
	case string:
		return strconv.Quote(x)
	case []string:
		quoted := make([]string, len(x))
		for i, s := range x {
			quoted[i] = s
		}
		return "[" + strings.Join(quoted, ", ") + "]"
	}
	return fmt.Sprintf("%v", v)
}

// runeNames are the characters a terminal shows as a blank, or not at
// all, that a stack file picks up from a paste.
var runeNames = map[rune]string{
	'\t': "a tab", '\u00a0': "a no-break space", '\u200b': "a zero-width space", '\u200c': "a zero-width non-joiner",
	'\u200d': "a zero-width joiner", '\ufeff': "a byte order mark", '\u2028': "a line separator", '\u3000': "an ideographic space",
}

// invisibles names the characters of a shown value a reader cannot see
// ("a tab at character 16"), and a leading or trailing space; "" when
// there are none.
func invisibles(shown string) string {
	v := shown
	if u, err := strconv.Unquote(shown); err == nil {
		v = u
	}
	var found []string
	i := 0
	for _, r := range v {
		i++
		name, ok := runeNames[r]
		if !ok && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || (unicode.IsSpace(r) && r != ' ')) {
			name, ok = fmt.Sprintf("U+%04X", r), true
		}
		if ok {
			found = append(found, fmt.Sprintf("%s at character %d", name, i))
		}
		if len(found) == 3 {
			break
		}
	}
	if v != "" && (v[0] == ' ' || v[len(v)-1] == ' ') {
		found = append(found, "a leading or trailing space")
	}
	if len(found) == 0 {
		return ""
	}
	return "contains " + strings.Join(found, ", ")
}
