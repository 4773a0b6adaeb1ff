package content

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The sensitive-data filter is defined once, here, and drives both the
// Logstash pipeline (RedactionFilter renders it as a ruby filter) and the
// tests (RedactEvent applies the same rules in Go to sample events, and a
// test runs the generated Ruby over the same events). It reaches every
// string of an event at any depth, not chosen fields. The patterns use
// only syntax that Go's RE2 and Ruby's Onigmo read the same way: no
// look-around, no possessive quantifiers, quotes written as \x22 and \x27.

// SecretKeys matches (whole, any case) the keys whose values are
// credentials wherever they sit in an event: their value, whatever its
// type, becomes "[REDACTED]". camelCase and snake_case alike
// (refreshToken, refresh_token, x-api-key).
const SecretKeys = `(?i)^(?:passw(?:or)?d|pwd|secret|token|(?:access|refresh|id|session|auth)[-_]?token|client[-_]?secret|(?:x-)?api[-_]?key|(?:proxy-)?authorization|cookie|set-cookie|session[-_]?id|credentials?|private[-_]?key)$`

// Pattern is one redaction applied to every string of an event.
type Pattern struct {
	// Name says what it removes.
	Name string
	// Regexp matches what is removed; groups numbered from 1.
	Regexp string
	// Replacement is written with \1-style group references, as Ruby's
	// gsub takes them.
	Replacement string
	// Luhn replaces a match only when its digits pass the Luhn check
	// (card numbers; other long numbers are left).
	Luhn bool
	// Keep leaves a match alone when this expression finds something in
	// it (an address that is no one's, such as noreply@).
	Keep string
	// SkipKeys are keys whose values this pattern leaves alone (an email
	// address where the event means to hold one: user.email).
	SkipKeys []string
}

// Patterns are applied in order to every string of an event. They are
// ordered so that a specific format is replaced before a general one sees
// it (a JWT before a bearer token, a key pair before an access key ID).
var Patterns = []Pattern{
	{Name: "credentials in URLs (scheme://user:password@host)", Regexp: `(://[^:/\s@]*:)[^@/\s]+@`, Replacement: `\1***@`},
	{Name: "JSON Web Tokens", Regexp: `\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+`, Replacement: `[JWT]`},
	{Name: "OpenAI and Anthropic API keys (sk-, sk-proj-, sk-ant-)", Regexp: `\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{16,}`, Replacement: `[REDACTED]`},
	{Name: "Stripe secret and restricted keys, webhook secrets", Regexp: `\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|\bwhsec_[A-Za-z0-9]{10,}`, Replacement: `[REDACTED]`},
	{Name: "AWS access key pairs (ID, then the 40-character secret)", Regexp: `\b(?:AKIA|ASIA)[0-9A-Z]{16}([\s/:,;=\x22\x27]+)[A-Za-z0-9/+]{40}\b`, Replacement: `[REDACTED]\1[REDACTED]`},
	{Name: "AWS access key IDs", Regexp: `\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`, Replacement: `[REDACTED]`},
	{Name: "Authorization header values, any scheme", Regexp: `(?i)(authorization\\?[\x22\x27]?\s*[:=]\s*\\?[\x22\x27]?)[^\x22\x27\\\r\n,;}]+`, Replacement: `\1[REDACTED]`},
	{Name: "bearer tokens in text (16 characters or more: not prose)", Regexp: `(?i)\b(bearer) [A-Za-z0-9._~+/=-]{16,}`, Replacement: `\1 [REDACTED]`},
	{Name: "credential assignments (password=..., \"clientSecret\": \"...\", x-api-key: ..., quoted, escaped or bare)",
		Regexp:      `(?i)((?:^|[\x22\x27\s{,&?;(])[\w.-]*(?:passw(?:or)?d|pwd|secret|token|api[-_]?key|authorization|cookie|session[-_]?id|credentials?|private[-_]?key)\\?[\x22\x27]?\s*[:=]\s*)(?:\x22[^\x22]*\x22|\x27[^\x27]*\x27|\\\x22(?:[^\x22\\]|\\[^\x22])*\\\x22|[^\s\x22\x27&,;}\\]+)`,
		Replacement: `\1[REDACTED]`},
	{Name: "one-time codes and signatures in query strings", Regexp: `(?i)([?&](?:code|state|otp|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&\s\x22\x27]+`, Replacement: `\1[REDACTED]`},
	{Name: "card numbers (13 to 19 digits starting 3-6, separators allowed, Luhn-checked)", Regexp: `\b[3-6](?:[ -]?\d){12,18}\b`, Replacement: `[CARD]`, Luhn: true},
	{Name: "email addresses", Regexp: `[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`, Replacement: `[EMAIL]`, Keep: `(?i)^(?:no-?reply|do-?not-?reply)@`, SkipKeys: []string{"email"}},
}

// rubyGroup is a \1-style group reference.
var rubyGroup = regexp.MustCompile(`\\(\d)`)

type compiled struct {
	Pattern
	re, keep *regexp.Regexp
}

// redactor is the definitions compiled, for one walk of an event.
type redactor struct {
	patterns  []compiled
	secretKey *regexp.Regexp
}

func newRedactor() redactor {
	r := redactor{patterns: make([]compiled, len(Patterns)), secretKey: regexp.MustCompile(SecretKeys)}
	for i, p := range Patterns {
		r.patterns[i] = compiled{Pattern: p, re: regexp.MustCompile(p.Regexp)}
		if p.Keep != "" {
			r.patterns[i].keep = regexp.MustCompile(p.Keep)
		}
	}
	return r
}

// luhn reports whether the digits of s pass the Luhn check.
func luhn(s string) bool {
	sum, double, n := 0, false, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum, double, n = sum+d, !double, n+1
	}
	return n > 0 && sum%10 == 0
}

// Redact applies the patterns to one string, as the pipeline does.
func Redact(text string) string { return newRedactor().text("", text) }

// text applies the patterns to a value under key ("" for none). Each
// match's groups are the ones found in place, as Ruby's gsub block sees
// them in $~.
func (r redactor) text(key, text string) string {
	for _, p := range r.patterns {
		if slices.Contains(p.SkipKeys, key) {
			continue
		}
		var b strings.Builder
		last := 0
		for _, m := range p.re.FindAllStringSubmatchIndex(text, -1) {
			b.WriteString(text[last:m[0]])
			match := text[m[0]:m[1]]
			if (p.Luhn && !luhn(match)) || (p.keep != nil && p.keep.MatchString(match)) {
				b.WriteString(match)
			} else {
				b.WriteString(rubyGroup.ReplaceAllStringFunc(p.Replacement, func(ref string) string {
					if i := int(ref[1] - '0'); 2*i+1 < len(m) && m[2*i] >= 0 {
						return text[m[2*i]:m[2*i+1]]
					}
					return ""
				}))
			}
			last = m[1]
		}
		b.WriteString(text[last:])
		text = b.String()
	}
	return text
}

// Redacted is what a secret key's value becomes.
const Redacted = "[REDACTED]"

// entry is the value under key once redacted: a secret key's value
// replaced whole, any other walked.
func (r redactor) entry(key string, v any) any {
	if r.secretKey.MatchString(key) {
		return Redacted
	}
	return r.value(key, v)
}

// value walks a value: strings are scrubbed, maps and lists walked.
func (r redactor) value(key string, v any) any {
	switch x := v.(type) {
	case string:
		return r.text(key, x)
	case map[string]any:
		for k, e := range x {
			x[k] = r.entry(k, e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = r.value(key, e)
		}
		return x
	}
	return v
}

// RedactEvent applies the filter to an event as the pipeline's ruby
// filter does: every string, at any depth, is scrubbed, every secret
// key's value replaced (Logstash's @timestamp and @version are left);
// then, when the backend's JSON was parsed (an "app" object and no
// _jsonparsefailure tag), the raw message is dropped, so that no copy
// escapes the scrubbing of the parsed fields.
func RedactEvent(event map[string]any) {
	r := newRedactor()
	for k, v := range event {
		if k != "@timestamp" && k != "@version" {
			event[k] = r.entry(k, v)
		}
	}
	if _, parsed := event["app"].(map[string]any); parsed && !hasTag(event, "_jsonparsefailure") {
		delete(event, "message")
	}
}

func hasTag(event map[string]any, tag string) bool {
	tags, _ := event["tags"].([]any)
	return slices.Contains(tags, any(tag))
}

// RedactionFilter is the Logstash filter the definitions above become: a
// ruby filter whose init compiles the same expressions and whose code
// walks the event as RedactEvent does, then drops the raw message of a
// parsed line. Ruby reads the expressions with Onigmo (JRuby's Joni in
// Logstash), Go with RE2: they use only syntax both read alike (no
// look-around, no possessive or atomic groups, quotes as \x22 and \x27),
// and a test runs this very code under Ruby over every sample.
func RedactionFilter() (string, error) {
	init, code, err := RubyRedaction()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("  # Sensitive data, generated from components/logging/content/redaction.go.\n")
	fmt.Fprintf(&b, "  ruby {\n    id => \"redaction\"\n    init => '%s'\n    code => '%s'\n  }\n", init, code)
	b.WriteString("  if [app] and \"_jsonparsefailure\" not in [tags] {\n    mutate { remove_field => [\"message\"] }\n  }\n")
	return b.String(), nil
}

// rubyString is s as a Ruby double-quoted literal.
func rubyString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `#`, `\#`).Replace(s) + `"`
}

// RubyRedaction is the ruby filter's init and code. Neither may hold a
// single quote: it would end the Logstash string.
func RubyRedaction() (init, code string, err error) {
	var b strings.Builder
	b.WriteString("\n      @su_secret_key = Regexp.new(" + rubyString(SecretKeys) + ")\n      @su_patterns = [\n")
	for _, p := range Patterns {
		if _, err := regexp.Compile(p.Regexp); err != nil {
			return "", "", fmt.Errorf("redaction %q: %w", p.Name, err)
		}
		keep := "nil"
		if p.Keep != "" {
			keep = "Regexp.new(" + rubyString(p.Keep) + ")"
		}
		skip := make([]string, len(p.SkipKeys))
		for i, k := range p.SkipKeys {
			skip[i] = rubyString(k)
		}
		fmt.Fprintf(&b, "        [Regexp.new(%s), %s, %v, %s, [%s]],\n", rubyString(p.Regexp), rubyString(p.Replacement), p.Luhn, keep, strings.Join(skip, ", "))
	}
	b.WriteString(`      ]
      @su_luhn = lambda do |s|
        digits = s.gsub(/\D/, "").reverse.chars.map(&:to_i)
        sum = digits.each_with_index.sum { |d, i| i.odd? ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d }
        !digits.empty? && sum % 10 == 0
      end
      @su_text = lambda do |key, s|
        @su_patterns.each do |re, repl, luhn, keep, skip|
          next if skip.include?(key)
          s = s.gsub(re) do
            m = $~
            if (luhn && !@su_luhn.call(m[0])) || (keep && keep.match?(m[0]))
              m[0]
            else
              repl.gsub(/\\(\d)/) { m[$1.to_i].to_s }
            end
          end
        end
        s
      end
      @su_entry = lambda do |key, v|
        (key =~ @su_secret_key) ? "[REDACTED]" : @su_walk.call(key, v)
      end
      @su_walk = lambda do |key, v|
        case v
        when String then @su_text.call(key, v)
        when Hash then v.each_with_object({}) { |(k, e), h| h[k] = @su_entry.call(k.to_s, e) }
        when Array then v.map { |e| @su_walk.call(key, e) }
        else v
        end
      end
    `)
	init = b.String()
	code = `
      event.to_hash.each do |k, v|
        next if k == "@timestamp" || k == "@version"
        nv = @su_entry.call(k, v)
        event.set(k, nv) unless nv == v
      end
    `
	if strings.Contains(init+code, "'") {
		return "", "", fmt.Errorf("the generated Ruby holds a single quote, which would end the Logstash string")
	}
	return init, code, nil
}
