package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Decoding a section walks its value (JSON, as Pulumi hands structured
// config to a program) against the Go type it fills, instead of
// encoding/json's strict decoder: that one stops at the first problem and
// speaks of Go struct fields and types. This one reports every unknown key
// (with the nearest known one) and every wrong type, in the stack file's
// words, and keeps the defaults of everything the stack does not set.
//
// A []string field may carry a `what:"CIDRs"` tag naming its items in
// messages ("want a list of CIDRs").

// decodeSection decodes one section's JSON into target (a pointer).
func decodeSection(p *problems, key, raw string, target any) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		p.addShown(key, strconv.Quote(raw), "want a mapping of settings (structured config)")
		return
	}
	decodeValue(p, key, v, reflect.ValueOf(target).Elem(), "")
}

func decodeValue(p *problems, key string, v any, target reflect.Value, what string) {
	if v == nil {
		return // an empty key in YAML keeps the default
	}
	switch target.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			p.addRaw(key, v, "want a mapping with keys "+strings.Join(fieldNames(target.Type()), ", "))
			return
		}
		fields := map[string]int{}
		for i := range target.NumField() {
			if name := jsonName(target.Type().Field(i)); name != "" {
				fields[name] = i
			}
		}
		for _, k := range sortedKeys(m) {
			i, ok := fields[k]
			if !ok {
				p.addRaw(key+"."+k, m[k], unknownKey(k, fieldNames(target.Type())))
				continue
			}
			f := target.Type().Field(i)
			decodeValue(p, key+"."+k, m[k], target.Field(i), f.Tag.Get("what"))
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			p.addRaw(key, v, "want a mapping of names to "+describe(target.Type().Elem(), ""))
			return
		}
		if target.IsNil() {
			target.Set(reflect.MakeMap(target.Type()))
		}
		for _, k := range sortedKeys(m) {
			elem := reflect.New(target.Type().Elem()).Elem()
			if old := target.MapIndex(reflect.ValueOf(k)); old.IsValid() {
				elem.Set(old)
			}
			decodeValue(p, key+"."+k, m[k], elem, "")
			target.SetMapIndex(reflect.ValueOf(k), elem)
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			p.addRaw(key, v, "want a list of "+plural(target.Type().Elem(), what)+", such as [a, b]")
			return
		}
		out := reflect.MakeSlice(target.Type(), len(l), len(l))
		for i, e := range l {
			decodeValue(p, fmt.Sprintf("%s[%d]", key, i), e, out.Index(i), "")
		}
		target.Set(out)
	case reflect.String:
		switch x := v.(type) {
		case string:
			target.SetString(x)
		case json.Number:
			p.addRaw(key, v, "want text, and YAML reads this as a number (1.30 becomes 1.3): put it in quotes")
		default:
			p.addRaw(key, v, "want text")
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			p.addRaw(key, v, "want a whole number")
			return
		}
		target.SetInt(i)
	case reflect.Float64:
		n, ok := v.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			p.addRaw(key, v, "want a number")
			return
		}
		target.SetFloat(f)
	case reflect.Bool:
		b, ok := v.(bool)
		if !ok {
			p.addRaw(key, v, "want true or false")
			return
		}
		target.SetBool(b)
	default:
		p.addRaw(key, v, fmt.Sprintf("cannot be set from a stack file (%s)", target.Kind()))
	}
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func fieldNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// describe names what a value of type t is, in YAML words.
func describe(t reflect.Type, what string) string {
	switch t.Kind() {
	case reflect.Struct:
		return "mappings"
	case reflect.Slice:
		return "lists of " + plural(t.Elem(), what)
	case reflect.Map:
		return "mappings"
	case reflect.Int:
		return "whole numbers"
	case reflect.Float64:
		return "numbers"
	case reflect.Bool:
		return "true or false"
	}
	return "text values"
}

func plural(t reflect.Type, what string) string {
	if what != "" {
		return what
	}
	return describe(t, "")
}

// unknownKey says a key is not one the program reads, suggesting the
// nearest known key when one is close.
func unknownKey(k string, known []string) string {
	if best := Nearest(k, known); best != "" {
		return fmt.Sprintf("unknown key; did you mean %s?", best)
	}
	return "unknown key; known keys are " + strings.Join(known, ", ")
}

// Nearest is the known word closest to k by edit distance (case
// insensitive), or "" when none is within a third of k's length.
func Nearest(k string, known []string) string {
	best, bestDist := "", len(k)/3+1
	for _, c := range known {
		if d := editDistance(strings.ToLower(k), strings.ToLower(c)); d < bestDist || (d == bestDist && best != "" && c < best) {
			best, bestDist = c, d
		}
	}
	if best != "" && editDistance(strings.ToLower(k), strings.ToLower(best)) > len(k)/3 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance of two strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev = cur
	}
	return prev[len(b)]
}
