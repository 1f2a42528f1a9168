package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandEnv replaces each ${NAME} in the scalar values under n (never in
// keys) with the environment variable NAME. at is n's place in the file,
// "sources.github" for example, so an error says which setting refers to
// the variable. env looks a variable up.
func expandEnv(n *yaml.Node, at string, env func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := expandEnv(n.Content[i+1], join(at, n.Content[i].Value), env); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if err := expandEnv(item, fmt.Sprintf("%s[%d]", at, i), env); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		v, err := expandValue(n.Value, env)
		if err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		// A variable's value is a string, whatever it looks like: a
		// password "0x1F" or "null" is kept as written.
		n.Value, n.Tag = v, "!!str"
	}
	return nil
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandValue expands the ${NAME} references of one value. A reference
// that is not closed or not a variable name is an error rather than text
// kept as it is, since it is almost surely a typo of one.
func expandValue(s string, env func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return "", fmt.Errorf("%q: ${ is not closed by }", s)
		}
		name := rest[:j]
		if !envName.MatchString(name) {
			return "", fmt.Errorf("${%s} does not name an environment variable", name)
		}
		v, ok := env(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(v)
		s = rest[j+1:]
	}
}

// decodeStrict decodes n into out after checking that every key under n is
// a setting out has, so a misspelt setting is an error with its line rather
// than a setting silently left at its default.
func decodeStrict(n *yaml.Node, out any, at string) error {
	if err := checkKnown(n, reflect.TypeOf(out), at); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		if at != "" {
			return fmt.Errorf("%s: %w", at, err)
		}
		return err
	}
	return nil
}

// checkKnown walks n beside the Go type t it will be decoded into and
// reports the first mapping key that names no field.
func checkKnown(n *yaml.Node, t reflect.Type, at string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // a type error, which Decode reports
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				known := make([]string, 0, len(fields))
				for name := range fields {
					known = append(known, name)
				}
				slices.Sort(known)
				return fmt.Errorf("line %d: %s: unknown setting (known: %s)", k.Line, join(at, k.Value), strings.Join(known, ", "))
			}
			if err := checkKnown(n.Content[i+1], ft, join(at, k.Value)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				if err := checkKnown(item, t.Elem(), fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := checkKnown(n.Content[i+1], t.Elem(), join(at, n.Content[i].Value)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}
