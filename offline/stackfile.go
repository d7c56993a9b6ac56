package offline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is the part of Pulumi.yaml the offline runner reads.
type Project struct {
	Name   string                `yaml:"name"`
	Config map[string]ConfigDecl `yaml:"config"`
	// Dir is the folder holding Pulumi.yaml and the stack files.
	Dir string `yaml:"-"`
}

// ConfigDecl is one project configuration key declared in Pulumi.yaml.
type ConfigDecl struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	Secret      bool   `yaml:"secret"`
	Default     any    `yaml:"default"`
}

// StackConfig is a stack's configuration as the engine hands it to a
// program: fully qualified keys, scalars as text, objects as JSON.
type StackConfig struct {
	Values map[string]string
	// Secrets are the keys whose values are secret. Under the mock runtime
	// their values are placeholders: `secure:` values are never decrypted.
	Secrets []string
}

// LoadProjectIn reads dir/Pulumi.yaml, or, with dir empty, the Pulumi.yaml
// found above the working directory.
func LoadProjectIn(dir string) (*Project, error) {
	if dir == "" {
		found, err := FindProjectDir()
		if err != nil {
			return nil, err
		}
		dir = found
	}
	return LoadProject(dir)
}

// LoadProject reads dir/Pulumi.yaml.
func LoadProject(dir string) (*Project, error) {
	path := filepath.Join(dir, "Pulumi.yaml")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read project: %w", err)
	}
	var p Project
	if err := yaml.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("parse %s: no project name", path)
	}
	p.Dir = dir
	return &p, nil
}

// FindProjectDir walks up from the working directory to the folder holding
// Pulumi.yaml, so tests in any package find the project.
func FindProjectDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find project: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find project: no Pulumi.yaml above the working directory")
		}
		dir = parent
	}
}

// Stacks lists the stacks that have a Pulumi.<stack>.yaml beside Pulumi.yaml.
func (p *Project) Stacks() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(p.Dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list stacks: %w", err)
	}
	var stacks []string
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		stacks = append(stacks, name)
	}
	sort.Strings(stacks)
	return stacks, nil
}

// PlaceholderSecret stands in for every secret value under the mock runtime:
// `secure:` values are never decrypted, and a required secret the stack
// file lacks is satisfied by it. It is a valid value for every secret key
// the program reads.
const PlaceholderSecret = "offline-placeholder-secret"

// LoadStackConfig reads Pulumi.<stack>.yaml as the Pulumi CLI would: keys
// without a namespace belong to the project, project keys must be declared
// in Pulumi.yaml, and declared defaults fill the keys the stack leaves out.
// Declared secret keys the stack file lacks get the placeholder secret when
// placeholders is true: committed stack files carry no secrets, and each
// organisation sets its own.
func (p *Project) LoadStackConfig(stack string, placeholders bool) (*StackConfig, error) {
	file := "Pulumi." + stack + ".yaml"
	raw, err := os.ReadFile(filepath.Join(p.Dir, file))
	if os.IsNotExist(err) {
		known, _ := p.Stacks()
		return nil, fmt.Errorf("stack %q: no %s beside Pulumi.yaml; stacks: %s", stack, file, strings.Join(known, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("stack %q: %w", stack, err)
	}
	var doc struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("stack %q: parse %s: %w", stack, file, err)
	}

	cfg := &StackConfig{Values: map[string]string{}}
	for rawKey, node := range doc.Config {
		k := p.qualify(rawKey)
		if ns, name, _ := strings.Cut(k, ":"); ns == p.Name {
			if _, declared := p.Config[name]; !declared {
				return nil, fmt.Errorf("stack %q: %s: config key %q is not declared in Pulumi.yaml; declared keys: %s",
					stack, file, k, strings.Join(p.declaredKeys(), ", "))
			}
		}
		value, secret, err := configValue(&node)
		if err != nil {
			return nil, fmt.Errorf("stack %q: %s: config key %q: %w", stack, file, k, err)
		}
		cfg.Values[k] = value
		if secret {
			cfg.Secrets = append(cfg.Secrets, k)
		}
	}
	for name, decl := range p.Config {
		k := p.Name + ":" + name
		if _, set := cfg.Values[k]; set {
			continue
		}
		if decl.Secret && placeholders {
			cfg.Values[k] = PlaceholderSecret
			cfg.Secrets = append(cfg.Secrets, k)
			continue
		}
		if decl.Default == nil {
			continue
		}
		value, err := scalarOrJSON(decl.Default)
		if err != nil {
			return nil, fmt.Errorf("project file: default of %q: %w", name, err)
		}
		cfg.Values[k] = value
	}
	sort.Strings(cfg.Secrets)
	return cfg, nil
}

func (p *Project) qualify(k string) string {
	if strings.Contains(k, ":") {
		return k
	}
	return p.Name + ":" + k
}

func (p *Project) declaredKeys() []string {
	keys := make([]string, 0, len(p.Config))
	for k := range p.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// configValue turns a stack file value into what the engine hands the
// program. A `secure:` value becomes a placeholder, marked secret.
func configValue(node *yaml.Node) (string, bool, error) {
	var v any
	if err := node.Decode(&v); err != nil {
		return "", false, err
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if _, secure := m["secure"]; secure {
			return PlaceholderSecret, true, nil
		}
	}
	s, err := scalarOrJSON(v)
	return s, false, err
}

func scalarOrJSON(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case map[string]any, []any:
		b, err := json.Marshal(t)
		if err != nil {
			return "", err
		}
		return string(b), nil
	default:
		return fmt.Sprint(t), nil
	}
}
