package manifests

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// FileName is an object's file: its place in apply order first, so a
// directory listing is the order to apply in, then its identity.
func FileName(index int, o Object) string {
	ns := o.Namespace()
	if ns == "" {
		ns = "cluster"
	}
	return fmt.Sprintf("%03d-%s-%s-%s.yaml", index, ns, strings.ToLower(o.Kind()), o.Name())
}

// Write writes each object as one YAML file into dir, the input of
// Kubernetes scanners (Trivy, kube-score, Polaris) and of the API-server
// acceptance test, and the objects' scanner twins into its TwinsDir. dir must not exist, or be an empty directory: the files
// are written into a temporary folder beside it and moved into place only
// when every one is written, so a failure leaves nothing half-written.
func Write(dir string, objs []Object) error {
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("manifests: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("manifests: %s exists and is not a directory; allowed: a new or empty directory", dir)
	default:
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("manifests: %w", err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("manifests: %s is not empty (%d entries); allowed: a new or empty directory, so no stale file is mistaken for the stack's", dir, len(entries))
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("manifests: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+"-")
	if err != nil {
		return fmt.Errorf("manifests: %w", err)
	}
	defer os.RemoveAll(tmp)
	for i, o := range objs {
		if err := writeObject(filepath.Join(tmp, FileName(i, o)), o); err != nil {
			return err
		}
	}
	for i, twin := range ScannerTwins(objs) {
		if i == 0 {
			if err := os.Mkdir(filepath.Join(tmp, TwinsDir), 0o755); err != nil {
				return fmt.Errorf("manifests: %w", err)
			}
		}
		if err := writeObject(twinPath(tmp, i, twin), twin); err != nil {
			return err
		}
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("manifests: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("manifests: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fmt.Errorf("manifests: %w", err)
	}
	return nil
}

func writeObject(path string, o Object) error {
	b, err := yaml.Marshal(map[string]any(o))
	if err != nil {
		return fmt.Errorf("manifests: %s: %w", o, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("manifests: %w", err)
	}
	return nil
}

// Read reads the objects Write wrote, in apply order; not the twins.
func Read(dir string) ([]Object, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	sort.Strings(files)
	var objs []Object
	for _, f := range files {
		o, err := ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, nil
}

// ReadFile reads one object's file.
func ReadFile(path string) (Object, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifests: %w", err)
	}
	var o map[string]any
	if err := yaml.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("manifests: %s: %w", path, err)
	}
	return Object(o), nil
}
