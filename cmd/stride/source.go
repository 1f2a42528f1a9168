package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/sources"
)

// runSource runs "stride source add <name> [--secret S | --token T]
// [--config stride.yaml]": it adds the source to stride.yaml, or updates its
// credential, by editing the YAML node tree, so comments, order and every
// other entry are kept. A new file is created readable by its owner only,
// since it holds secrets.
func runSource(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "stride source: usage: stride source add NAME [--secret S | --token T] [--config stride.yaml]")
		return 2
	}
	args = args[1:]
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintf(stderr, "stride source add: name the source first (one of %s)\n", sources.Names())
		return 2
	}
	name := args[0]
	fs := newFlags("source add", stderr)
	secret := fs.String("secret", "", "the signing secret (github, jira, pagerduty, sonarqube); ${VAR} names an environment variable")
	token := fs.String("token", "", "the shared token (gitlab, alertmanager, argocd, cdevents); ${VAR} names an environment variable")
	path := fs.String("config", "", "configuration file (default $STRIDE_CONFIG, else stride.yaml)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "stride source add: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	conn, ok := sources.Lookup(name)
	cred := conn.Credential
	if !ok {
		fmt.Fprintf(stderr, "stride source add: unknown source %q (want one of %s)\n", name, sources.Names())
		return 2
	}
	value := *secret
	if cred.Flag == "secret" && *token != "" || cred.Flag == "token" && *secret != "" {
		fmt.Fprintf(stderr, "stride source add: %s takes --%s\n", name, cred.Flag)
		return 2
	}
	if cred.Flag == "token" {
		value = *token
	}
	if strings.TrimSpace(value) == "" && cred.Required {
		fmt.Fprintf(stderr, "stride source add: --%s is required: a source without one rejects every delivery\n", cred.Flag)
		return 2
	}
	file := firstNonEmpty(*path, os.Getenv("STRIDE_CONFIG"), "stride.yaml")
	changed, err := addSource(file, name, cred, value)
	if err != nil {
		fmt.Fprintln(stderr, "stride source add:", err)
		return 1
	}
	if !changed {
		fmt.Fprintf(stdout, "%s: sources.%s.%s already holds %s; nothing written\n", file, name, cred.Field, describeSecret(value))
		return 0
	}
	fmt.Fprintf(stdout, "%s: wrote sources.%s.%s = %s\n", file, name, cred.Field, describeSecret(value))
	return 0
}

var envReference = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\}$`)

// describeSecret shows a reference to an environment variable as it is, and
// a literal secret only by its length, so it does not end up in a terminal's
// scrollback or a CI log.
func describeSecret(v string) string {
	if envReference.MatchString(v) {
		return v
	}
	return fmt.Sprintf("a secret of %d characters (not shown)", len(v))
}

// addSource sets the credential of source name in the YAML file at path and
// reports whether the file changed. The result is checked with config.Load
// before it replaces the file, so a file Stride cannot read is never written.
func addSource(path, name string, cred ingest.Credential, value string) (bool, error) {
	body, err := os.ReadFile(path)
	mode := fs.FileMode(0o600)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		body = nil
	case err != nil:
		return false, err
	default:
		// It is about to hold a secret: whatever mode it had, only its
		// owner may read it now.
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm() &^ 0o077
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if doc.Kind == 0 { // an empty or missing file
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return false, fmt.Errorf("%s: the top level is not a mapping", path)
	}
	sources, err := mappingAt(root, "sources")
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	entry, err := mappingAt(sources, name)
	if err != nil {
		return false, fmt.Errorf("%s: sources: %w", path, err)
	}
	changed := false
	if cred.List {
		seq := valueOf(entry, cred.Field)
		switch {
		case seq == nil:
			seq = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
			entry.Content = append(entry.Content, scalar(cred.Field), seq)
		case seq.Kind == yaml.ScalarNode && seq.Tag == "!!null":
			*seq = yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", HeadComment: seq.HeadComment, LineComment: seq.LineComment}
		case seq.Kind != yaml.SequenceNode:
			return false, fmt.Errorf("%s: sources.%s.%s is not a list", path, name, cred.Field)
		}
		// Kept beside the secrets already there: PagerDuty signs with every
		// secret of a subscription while one is rotated.
		if !slices.ContainsFunc(seq.Content, func(n *yaml.Node) bool { return n.Value == value }) {
			seq.Content = append(seq.Content, scalar(value))
			changed = true
		}
	} else {
		v := valueOf(entry, cred.Field)
		switch {
		case v == nil:
			entry.Content = append(entry.Content, scalar(cred.Field), scalar(value))
			changed = true
		case v.Kind != yaml.ScalarNode:
			return false, fmt.Errorf("%s: sources.%s.%s is not a single value", path, name, cred.Field)
		case v.Value != value || v.Tag != "!!str":
			v.Value, v.Tag, v.Style = value, "!!str", 0
			changed = true
		}
	}
	if !changed && body != nil {
		return false, nil
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := enc.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	// Written beside the file and renamed over it, so a failure leaves the
	// old file whole; checked first, so Stride can still read it.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.Write(out.Bytes()); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := config.Check(tmp.Name()); err != nil {
		return false, fmt.Errorf("the edited file would not load, left %s as it was: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, err
	}
	return true, nil
}

// valueOf returns the value of key in mapping m, nil when absent.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// mappingAt returns the mapping under key in m, adding it when absent and
// turning an empty value ("github:" alone) into one.
func mappingAt(m *yaml.Node, key string) (*yaml.Node, error) {
	v := valueOf(m, key)
	switch {
	case v == nil:
		v = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		m.Content = append(m.Content, scalar(key), v)
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: v.HeadComment, LineComment: v.LineComment, FootComment: v.FootComment}
	case v.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("%s is not a mapping", key)
	}
	return v, nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
