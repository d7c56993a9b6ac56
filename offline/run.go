// Package offline runs a Pulumi program on the mock runtime against a stack's
// real configuration and records every resource it registers. It is the one
// recorder behind the render command, the golden files, the URN guard, the
// policy checks, the validators and every component test: no cloud account,
// no Pulumi CLI, no backend.
package offline

import (
	"context"
	"fmt"
	"maps"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"

	"github.com/personalization/platform/graph"
	"github.com/personalization/platform/stacks"
)

// Options say which stack to run and how.
type Options struct {
	// Dir holds Pulumi.yaml and the stack files; empty means the project
	// found above the working directory.
	Dir string
	// Stack names the stack file, Pulumi.<Stack>.yaml.
	Stack string
	// Config overrides or adds fully qualified keys after the stack file is
	// read, as `pulumi config set` would.
	Config map[string]string
	// Secrets marks override keys as secret.
	Secrets []string
	// NoSecretPlaceholders leaves required secrets the stack file lacks
	// unset, as a real engine would, instead of filling in placeholders.
	NoSecretPlaceholders bool
	// AWS is what the AWS account holds for the program's lookups.
	AWS AccountState
}

// Run runs program for a stack on the mock runtime and returns the recorded
// graph. A program error (a profile that fails validation, say) is returned
// as is, with whatever was recorded before it in the graph.
func Run(program pulumi.RunFunc, opts Options) (*graph.Graph, error) {
	project, values, secrets, err := load(opts)
	if err != nil {
		return nil, err
	}

	rec := &recorder{project: project.Name, stack: opts.Stack, region: values["aws:region"], account: opts.AWS}
	g := &graph.Graph{Project: project.Name, Stack: opts.Stack}
	var programErr error
	runErr := pulumi.RunErr(func(ctx *pulumi.Context) error {
		if err := program(ctx); err != nil {
			programErr = err
			return err
		}
		outputs, err := awaitExports(ctx)
		g.Outputs = outputs
		return err
	}, pulumi.WithMocks(project.Name, opts.Stack, rec), withConfig(values, secrets))

	rec.mu.Lock()
	g.Resources = rec.resources
	rec.mu.Unlock()
	g.Sort()
	switch {
	case programErr != nil:
		// The program's own message: the runtime's wrapping adds nothing a
		// user of the render needs.
		return g, programErr
	case runErr != nil:
		return g, fmt.Errorf("stack %q: %w", opts.Stack, runErr)
	}
	return g, nil
}

// withConfig hands the program its configuration directly, not through the
// process environment, so that stacks can run in parallel in one process.
func withConfig(values map[string]string, secrets []string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		info.Config = values
		info.ConfigSecretKeys = secrets
	}
}

// awaitExports resolves the stack's exports and renders them like inputs.
func awaitExports(ctx *pulumi.Context) (map[string]any, error) {
	exports := ctx.GetCurrentExportMap()
	names := make([]string, 0, len(exports))
	for name := range exports {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make(map[string]any, len(exports))
	for _, name := range names {
		res, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(exports[name]))
		if err != nil {
			return nil, fmt.Errorf("export %q: %w", name, err)
		}
		switch {
		case res.Secret:
			out[name] = graph.Secret
		case !res.Known:
			out[name] = graph.Unknown
		default:
			out[name] = plain(res.Value)
		}
	}
	return out, nil
}

// plain turns an awaited Go value into JSON-able values.
func plain(v any) any {
	switch t := v.(type) {
	case []string:
		out := make([]any, len(t))
		for i, s := range t {
			out[i] = s
		}
		return out
	case pulumi.ID:
		return string(t)
	case pulumi.URN:
		return string(t)
	default:
		return t
	}
}

// Profile reads a stack's profile from its stack file as the program would,
// without running the program.
func Profile(opts Options) (*stacks.Profile, error) {
	src, err := source(opts)
	if err != nil {
		return nil, err
	}
	return stacks.Parse(opts.Stack, src)
}

// BootstrapProfile is the bootstrap project's profile of a stack (opts.Dir
// is the bootstrap folder), as infra.Bootstrap would read it.
func BootstrapProfile(opts Options) (*stacks.Bootstrap, error) {
	src, err := source(opts)
	if err != nil {
		return nil, err
	}
	return stacks.ParseBootstrap(opts.Stack, src)
}

// source is the stack's configuration as the program reads it.
func source(opts Options) (configSource, error) {
	_, values, secretKeys, err := load(opts)
	if err != nil {
		return configSource{}, err
	}
	secrets := map[string]bool{}
	for _, k := range secretKeys {
		secrets[k] = true
	}
	return configSource{values: values, secrets: secrets}, nil
}

// load reads the project and the stack's configuration with the options'
// overrides, as the engine would hand them to the program.
func load(opts Options) (*Project, map[string]string, []string, error) {
	dir := opts.Dir
	if dir == "" {
		found, err := FindProjectDir()
		if err != nil {
			return nil, nil, nil, err
		}
		dir = found
	}
	project, err := LoadProject(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg, err := project.LoadStackConfig(opts.Stack, !opts.NoSecretPlaceholders)
	if err != nil {
		return nil, nil, nil, err
	}
	values := maps.Clone(cfg.Values)
	maps.Copy(values, opts.Config)
	secrets := append(append([]string(nil), cfg.Secrets...), opts.Secrets...)
	return project, values, secrets, nil
}

type configSource struct {
	values  map[string]string
	secrets map[string]bool
}

func (c configSource) Get(k string) (string, bool) { v, ok := c.values[k]; return v, ok }
func (c configSource) IsSecret(k string) bool      { return c.secrets[k] }
