// Package deploy drives a stack through Pulumi's Automation API with the
// program run in-process: one binary, built once, previews and deploys every
// stack of the project's own Pulumi.yaml and stack files. It adds what a
// pipeline needs on top: image overrides, gates on stateful resources, a
// production destroy guard, drift detection, and summaries as JSON and as a
// pull-request comment.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/graph"
)

// Options say which stack to drive and how.
type Options struct {
	// Dir holds Pulumi.yaml and the stack files.
	Dir string
	// Project is the project's name (Pulumi.yaml's name).
	Project string
	Stack   string
	// Program is the Pulumi program, run in-process.
	Program pulumi.RunFunc
	// PulumiRoot, when set, is a folder whose bin/pulumi is the CLI to use;
	// otherwise the pulumi on PATH.
	PulumiRoot string
	// Env are extra variables for the CLI (PULUMI_BACKEND_URL, passphrase).
	Env map[string]string
	// Images sets services' images before running: service → reference.
	Images map[string]string
	// AllowReplace are URNs of stateful resources the gate lets be
	// replaced or deleted.
	AllowReplace []string
	// IsStateful says which resource types the gate guards; nil means
	// graph.IsStateful.
	IsStateful func(typ string) bool
	// Progress receives, for people, a line when each resource step starts
	// and one when it ends, a heartbeat line naming the steps still
	// running, and the engine's warnings and errors whole.
	Progress io.Writer
	// Heartbeat is how often progress names the running steps; 0 means
	// DefaultHeartbeat, a negative value none.
	Heartbeat time.Duration
	// DeployedImagesOutput names the stack output (service → image) that
	// records what each service runs.
	DeployedImagesOutput string
	// KeepDeployedImages: before running, a service whose image neither
	// Images nor the stack file sets keeps the image it runs (written into
	// the working copy's stack file, as Images are).
	KeepDeployedImages bool
	// Create makes the stack when the backend has none of that name;
	// otherwise a missing stack is refused, so that a mistyped --stack
	// never stands up a whole new environment.
	Create bool
}

// Errors the CLI maps to exit statuses.
var (
	// ErrGate: the preview would replace or delete a stateful resource.
	ErrGate = errors.New("refused: the change would replace or delete a stateful resource")
	// ErrDrift: --expect-no-changes found changes.
	ErrDrift = errors.New("drift: the stack differs from its program")
	// ErrNoStack: the backend has no stack of that name and Create is off.
	ErrNoStack = errors.New("no such stack")
	// ErrProductionDestroy: destroy of a production stack without the flag.
	ErrProductionDestroy = errors.New("refused: destroying a production stack needs --i-understand-production-is-destroyed")
)

// Driver runs operations on one stack.
type Driver struct {
	opts  Options
	stack auto.Stack
}

// CheckCLI finds the Pulumi CLI or says, in one line, what is missing.
func CheckCLI(root string) (string, error) {
	if root != "" {
		path := filepath.Join(root, "bin", "pulumi")
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("the Pulumi CLI is missing: no %s (run `make tools`)", path)
		}
		return path, nil
	}
	path, err := exec.LookPath("pulumi")
	if err != nil {
		return "", errors.New("the Pulumi CLI is not installed: no `pulumi` on PATH (install it from pulumi.com, or run `make tools` and use --pulumi-root .tools)")
	}
	return path, nil
}

// Open selects the stack in the project folder, creating it only when
// opts.Create says so.
func Open(ctx context.Context, opts Options) (*Driver, error) {
	if _, err := CheckCLI(opts.PulumiRoot); err != nil {
		return nil, err
	}
	wsOpts := []auto.LocalWorkspaceOption{auto.WorkDir(opts.Dir), auto.EnvVars(opts.Env)}
	if opts.PulumiRoot != "" {
		cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: opts.PulumiRoot, SkipVersionCheck: true})
		if err != nil {
			return nil, fmt.Errorf("pulumi CLI: %w", err)
		}
		wsOpts = append(wsOpts, auto.Pulumi(cmd))
	}
	ws, err := auto.NewLocalWorkspace(ctx, append(wsOpts, auto.Program(opts.Program))...)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", opts.Stack, firstLine(err))
	}
	existing, err := stackNames(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", opts.Stack, firstLine(err))
	}
	var stack auto.Stack
	switch {
	case slices.Contains(existing, opts.Stack):
		stack, err = auto.SelectStack(ctx, opts.Stack, ws)
	case opts.Create:
		stack, err = auto.NewStack(ctx, opts.Stack, ws)
	default:
		list := strings.Join(existing, ", ")
		if list == "" {
			list = "none"
		}
		return nil, fmt.Errorf("%w: %q is not a stack of project %s in this backend (stacks: %s); create it with --create or `pulumi stack init %s`",
			ErrNoStack, opts.Stack, opts.Project, list, opts.Stack)
	}
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", opts.Stack, firstLine(err))
	}
	d := &Driver{opts: opts, stack: stack}
	if opts.KeepDeployedImages {
		if err := d.keepDeployedImages(ctx); err != nil {
			return nil, err
		}
	}
	if err := d.setImages(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// stackNames are the project's stacks in the backend, sorted, by their
// short names ("dev", not "organization/project/dev").
func stackNames(ctx context.Context, ws auto.Workspace) ([]string, error) {
	summaries, err := ws.ListStacks(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(summaries))
	for _, s := range summaries {
		names = append(names, s.Name[strings.LastIndex(s.Name, "/")+1:])
	}
	slices.Sort(names)
	return names, nil
}

// DeployedImages are the images the stack's last update deployed, read
// from its DeployedImagesOutput: what the stack actually runs.
func (d *Driver) DeployedImages(ctx context.Context) (map[string]string, error) {
	images := map[string]string{}
	if d.opts.DeployedImagesOutput == "" {
		return images, nil
	}
	outs, err := d.stack.Outputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("outputs %s: %w", d.opts.Stack, firstLine(err))
	}
	deployed, _ := outs[d.opts.DeployedImagesOutput].Value.(map[string]any)
	for svc, ref := range deployed {
		if s, ok := ref.(string); ok && s != "" {
			images[svc] = s
		}
	}
	return images, nil
}

// keepDeployedImages carries the images the stack runs into this run's
// config for the services whose image neither --image nor the stack file
// sets: an image deployed by `up --image` or `promote` is not reverted by
// the next plain `up`, and the drift check does not see it as drift.
func (d *Driver) keepDeployedImages(ctx context.Context) error {
	deployed, err := d.DeployedImages(ctx)
	if err != nil {
		return err
	}
	svcs := make([]string, 0, len(deployed))
	for svc := range deployed {
		svcs = append(svcs, svc)
	}
	sort.Strings(svcs)
	for _, svc := range svcs {
		if _, explicit := d.opts.Images[svc]; explicit {
			continue
		}
		if _, err := d.stack.GetConfigWithOptions(ctx, "images."+svc, &auto.ConfigOptions{Path: true}); err == nil {
			continue // the stack file pins it: a reviewed change wins
		}
		err := d.stack.SetConfigWithOptions(ctx, "images."+svc, auto.ConfigValue{Value: deployed[svc]}, &auto.ConfigOptions{Path: true})
		if err != nil {
			return fmt.Errorf("keep the deployed image of %s: %w", svc, firstLine(err))
		}
	}
	return nil
}

// setImages writes --image overrides into the stack's config, as
// `pulumi config set --path images.<service>` would.
func (d *Driver) setImages(ctx context.Context) error {
	names := make([]string, 0, len(d.opts.Images))
	for n := range d.opts.Images {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, svc := range names {
		err := d.stack.SetConfigWithOptions(ctx, "images."+svc, auto.ConfigValue{Value: d.opts.Images[svc]}, &auto.ConfigOptions{Path: true})
		if err != nil {
			return fmt.Errorf("set image of %s: %w", svc, firstLine(err))
		}
	}
	return nil
}

// Preview previews the stack's update.
func (d *Driver) Preview(ctx context.Context) (*Summary, error) {
	rec := d.recorder("preview", 0)
	_, err := d.stack.Preview(ctx, optpreview.EventStreams(rec.channel()))
	rec.wait()
	if err != nil {
		rec.summary.Fail(err)
		return rec.summary, fmt.Errorf("preview %s: %w", d.opts.Stack, firstLine(err))
	}
	return rec.summary, nil
}

// Up previews, refuses when a stateful resource would be replaced or
// deleted without being allowed, then updates.
func (d *Driver) Up(ctx context.Context) (*Summary, error) {
	preview, err := d.Preview(ctx)
	if err != nil {
		return preview, err
	}
	if blocked := d.Blocked(preview); len(blocked) > 0 {
		preview.Blocked = blocked
		return preview, ErrGate
	}
	rec := d.recorder("up", preview.Changes())
	_, err = d.stack.Up(ctx, optup.EventStreams(rec.channel()))
	rec.wait()
	if err != nil {
		rec.summary.Fail(err)
		return rec.summary, fmt.Errorf("up %s: %w", d.opts.Stack, firstLine(err))
	}
	return rec.summary, nil
}

// Refresh reads the stack's resources back from the cloud.
func (d *Driver) Refresh(ctx context.Context) (*Summary, error) {
	rec := d.recorder("refresh", 0)
	_, err := d.stack.Refresh(ctx, optrefresh.EventStreams(rec.channel()))
	rec.wait()
	if err != nil {
		rec.summary.Fail(err)
		return rec.summary, fmt.Errorf("refresh %s: %w", d.opts.Stack, firstLine(err))
	}
	return rec.summary, nil
}

// DetectDrift previews a refresh (does the cloud still match the state?)
// then previews the program (does the state match the program?); any
// change is drift. It writes nothing, so the read-only preview role can
// run it.
func (d *Driver) DetectDrift(ctx context.Context) (*Summary, error) {
	rec := d.recorder("refresh-preview", 0)
	_, err := d.stack.PreviewRefresh(ctx, optrefresh.EventStreams(rec.channel()))
	rec.wait()
	if err != nil {
		rec.summary.Fail(err)
		return rec.summary, fmt.Errorf("refresh preview %s: %w", d.opts.Stack, firstLine(err))
	}
	if rec.summary.Changes() > 0 {
		return rec.summary, ErrDrift
	}
	s, err := d.Preview(ctx)
	if err != nil {
		return s, err
	}
	if s.Changes() > 0 {
		return s, ErrDrift
	}
	return s, nil
}

// Destroy deletes the stack's resources; production needs confirmed.
func (d *Driver) Destroy(ctx context.Context, production, confirmed bool) (*Summary, error) {
	if production && !confirmed {
		return nil, ErrProductionDestroy
	}
	rec := d.recorder("destroy", 0)
	_, err := d.stack.Destroy(ctx, optdestroy.EventStreams(rec.channel()))
	rec.wait()
	if err != nil {
		rec.summary.Fail(err)
		return rec.summary, fmt.Errorf("destroy %s: %w", d.opts.Stack, firstLine(err))
	}
	return rec.summary, nil
}

// Outputs are the stack's outputs, secrets masked.
func (d *Driver) Outputs(ctx context.Context) (map[string]any, error) {
	outs, err := d.stack.Outputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("outputs %s: %w", d.opts.Stack, firstLine(err))
	}
	plain := map[string]any{}
	for k, v := range outs {
		if v.Secret {
			plain[k] = graph.Secret
			continue
		}
		plain[k] = v.Value
	}
	return plain, nil
}

// Blocked lists the steps the gate refuses: a replace or delete of a
// stateful resource whose URN is not allowed.
func (d *Driver) Blocked(s *Summary) []Step {
	stateful := d.opts.IsStateful
	if stateful == nil {
		stateful = graph.IsStateful
	}
	var out []Step
	for _, st := range s.Steps {
		if st.Destructive() && stateful(st.Type) && !slices.Contains(d.opts.AllowReplace, st.URN) {
			out = append(out, st)
		}
	}
	return out
}

// recorder collects an operation's engine events into a summary and
// prints a line per step.
type recorder struct {
	summary  *Summary
	progress *progress
	stop     func()
	ch       chan events.EngineEvent
	done     sync.WaitGroup
}

// recorder starts recording an operation expected to take total steps
// (0: unknown), its heartbeat running until wait.
func (d *Driver) recorder(op string, total int) *recorder {
	interval := d.opts.Heartbeat
	if interval == 0 {
		interval = DefaultHeartbeat
	}
	p := newProgress(d.opts.Progress, time.Now, total)
	return &recorder{
		summary:  &Summary{Stack: d.opts.Stack, Operation: op, Counts: map[string]int{}},
		progress: p,
		stop:     p.beat(interval),
	}
}

func (r *recorder) channel() chan<- events.EngineEvent {
	r.ch = make(chan events.EngineEvent)
	r.done.Add(1)
	go func() {
		defer r.done.Done()
		for e := range r.ch {
			r.summary.Record(e.EngineEvent)
			r.progress.event(e.EngineEvent)
		}
	}()
	return r.ch
}

// wait returns once the engine has closed the stream and every event is
// in, and stops the heartbeat.
func (r *recorder) wait() {
	if r.ch != nil {
		r.done.Wait()
	}
	r.stop()
}

// firstLine keeps the CLI's first meaningful line: pipelines want the
// reason, not a stack trace.
func firstLine(err error) error {
	msg := err.Error()
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "error:") {
			return errors.New(strings.TrimSpace(strings.TrimPrefix(line, "error:")))
		}
	}
	if i := strings.Index(msg, "\n"); i > 0 {
		return errors.New(msg[:i])
	}
	return err
}
