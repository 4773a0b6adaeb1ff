package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// yamlLocator finds key paths in a parsed stack file.
type yamlLocator struct {
	file   string
	config *yaml.Node // the `config:` mapping
	line   int        // the line of `config:`
}

// YAMLError is a stack file that does not parse, with the line YAML names.
type YAMLError struct {
	File    string
	Line    int
	Message string
}

func (e *YAMLError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Message)
}

// goccyPosRE reads the position goccy/go-yaml puts before its messages.
var (
	goccyPosRE = regexp.MustCompile(`^\[(\d+):(\d+)\] (.*)$`)
	innerPosRE = regexp.MustCompile(`\[(\d+):\d+\]`)
)

// ParseYAML parses a stack file, reporting a syntax error (a key written
// twice among them) with the file and the line it is on.
//
// goccy/go-yaml checks the syntax because it reports where a problem is;
// yaml.v3 reports where the enclosing block began, often lines earlier and
// off by one (what the Pulumi CLI shows). yaml.v3 then gives the node tree
// the locator walks, which its API makes simple.
func ParseYAML(file string, data []byte) (*yaml.Node, error) {
	if _, err := goccyparser.ParseBytes(data, 0); err != nil {
		msg := strings.TrimSpace(goccy.FormatError(err, false, false))
		if m := goccyPosRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &YAMLError{File: file, Line: line, Message: fmt.Sprintf("YAML syntax: %s (column %s)", innerPosRE.ReplaceAllString(m[3], "line $1"), m[2])}
		}
		return nil, &YAMLError{File: file, Message: "YAML syntax: " + msg}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &YAMLError{File: file, Message: "YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	return &doc, nil
}

// LocateYAML makes a Locator over a stack file's text.
func LocateYAML(file string, data []byte) (Locator, error) {
	doc, err := ParseYAML(file, data)
	if err != nil {
		return nil, err
	}
	l := &yamlLocator{file: file}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "config" {
				l.line = root.Content[i].Line
				l.config = root.Content[i+1]
			}
		}
	}
	return l, nil
}

var indexRE = regexp.MustCompile(`^(.*?)((?:\[\d+\])*)$`)

// Locate walks a key path ("project:section.a.b[0]") through the file. Keys
// may themselves hold dots (label keys): at each mapping the longest run
// of path parts that names a key wins.
func (l *yamlLocator) Locate(key string) (string, int, string, bool) {
	if l.config == nil || l.config.Kind != yaml.MappingNode {
		return l.file, l.line, "", false
	}
	ns, rest, _ := strings.Cut(key, ":")
	section, path, _ := strings.Cut(rest, ".")
	var parts []string
	if path != "" {
		parts = strings.Split(path, ".")
	}
	// The section, written qualified or (in the project namespace) bare.
	sectionName, sectionIdx := splitIndex(section)
	node, line := (*yaml.Node)(nil), l.line
	for i := 0; i+1 < len(l.config.Content); i += 2 {
		k := l.config.Content[i].Value
		if k == ns+":"+sectionName || (!strings.Contains(k, ":") && k == sectionName) {
			node, line = l.config.Content[i+1], l.config.Content[i].Line
		}
	}
	if node == nil {
		return l.file, line, "", false
	}
	node, line, ok := index(node, line, sectionIdx)
	for ok && len(parts) > 0 {
		node, line, parts, ok = step(node, line, parts)
	}
	if !ok {
		return l.file, line, "", false
	}
	return l.file, line, written(node), true
}

// step consumes the longest run of parts that names a key of the mapping
// (then its indexes), returning the value node and its key's line.
func step(node *yaml.Node, line int, parts []string) (*yaml.Node, int, []string, bool) {
	if node.Kind != yaml.MappingNode {
		return node, line, parts, false
	}
	for n := len(parts); n >= 1; n-- {
		name, idx := splitIndex(strings.Join(parts[:n], "."))
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == name {
				v, l, ok := index(node.Content[i+1], node.Content[i].Line, idx)
				return v, l, parts[n:], ok
			}
		}
	}
	return node, line, parts, false
}

// splitIndex splits "zones[1][2]" into "zones" and [1 2].
func splitIndex(s string) (string, []int) {
	m := indexRE.FindStringSubmatch(s)
	var idx []int
	for _, part := range strings.Split(strings.Trim(m[2], "[]"), "][") {
		if n, err := strconv.Atoi(part); err == nil {
			idx = append(idx, n)
		}
	}
	return m[1], idx
}

func index(node *yaml.Node, line int, idx []int) (*yaml.Node, int, bool) {
	for _, i := range idx {
		if node.Kind != yaml.SequenceNode || i >= len(node.Content) {
			return node, line, false
		}
		node = node.Content[i]
		line = node.Line
	}
	return node, line, true
}

// written is a value as the file writes it: a scalar's text with its
// quotes, a list or mapping in flow style.
func written(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Style {
		case yaml.DoubleQuotedStyle:
			return strconv.Quote(n.Value)
		case yaml.SingleQuotedStyle:
			return "'" + n.Value + "'"
		}
		return n.Value
	case yaml.AliasNode:
		return "*" + n.Value
	}
	flow := *n
	flow.Style = yaml.FlowStyle
	b, err := yaml.Marshal(&flow)
	if err != nil {
		return "..."
	}
	return strings.TrimSpace(string(b))
}
