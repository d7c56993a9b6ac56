package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/offline"
)

// The real-engine tests drive a real Pulumi CLI (built by `make tools` into
// .tools/bin from github.com/pulumi/pulumi/pkg/v3, the SDK's version) with a
// file:// backend and a passphrase secrets provider, on inline programs made
// of component resources only: no provider plugin can be had here.

type store struct{ pulumi.ResourceState }

// program registers a "database" component (the type the gate treats as
// stateful here) with a table inside, and, when extra is set, one more
// component.
func program(withDatabase, extra bool) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if withDatabase {
			db := &store{}
			if err := ctx.RegisterComponentResource("test:store:Database", "db", db); err != nil {
				return err
			}
			table := &store{}
			if err := ctx.RegisterComponentResource("test:store:Table", "users", table, pulumi.Parent(db)); err != nil {
				return err
			}
		}
		if extra {
			cache := &store{}
			if err := ctx.RegisterComponentResource("test:store:Cache", "cache", cache); err != nil {
				return err
			}
		}
		ctx.Export("answer", pulumi.Int(42))
		ctx.Export("token", pulumi.ToSecret(pulumi.String("s3cr3t")))
		return nil
	}
}

func testStateful(typ string) bool { return typ == "test:store:Database" }

func engine(t *testing.T, stack string, prog pulumi.RunFunc, allow ...string) (*Driver, string) {
	t.Helper()
	root, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	tools := filepath.Join(root, ".tools")
	if _, err := CheckCLI(tools); err != nil {
		t.Fatalf("%v", err)
	}
	dir := t.TempDir()
	backend := t.TempDir()
	for name, content := range map[string]string{
		"Pulumi.yaml":               "name: enginetest\nruntime: go\n",
		"Pulumi." + stack + ".yaml": "config:\n  enginetest:greeting: hello\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var progress strings.Builder
	d, err := Open(context.Background(), Options{
		Dir: dir, Project: "enginetest", Stack: stack, Program: prog, PulumiRoot: tools,
		Env: map[string]string{
			"PULUMI_BACKEND_URL":                          "file://" + backend,
			"PULUMI_CONFIG_PASSPHRASE":                    "engine-test-passphrase",
			"PULUMI_HOME":                                 filepath.Join(backend, ".pulumi-home"),
			"PULUMI_SKIP_UPDATE_CHECK":                    "true",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		},
		AllowReplace: allow, IsStateful: testStateful, Progress: &progress, Create: true,
		DeployedImagesOutput: "deployedImages", KeepDeployedImages: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, backend
}

// reopen runs another program against the same stack and backend (the
// workspace is shared: the last program set is the one that runs).
func reopen(t *testing.T, d *Driver, prog pulumi.RunFunc, allow ...string) *Driver {
	t.Helper()
	ws := d.stack.Workspace()
	ws.SetProgram(prog)
	opts := d.opts
	opts.Program, opts.AllowReplace = prog, allow
	return &Driver{opts: opts, stack: d.stack}
}

func TestRealEngineWorkflow(t *testing.T) {
	ctx := context.Background()
	d, _ := engine(t, "staging", program(true, false))

	preview, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if preview.Counts["create"] < 2 {
		t.Errorf("first preview creates %v, want the database and its table", preview.Counts)
	}
	if _, err := d.Up(ctx); err != nil {
		t.Fatal(err)
	}
	// People see each step start and end, with its duration.
	progress := d.opts.Progress.(*strings.Builder).String()
	for _, want := range []string{"start   create   urn:pulumi:staging::enginetest::test:store:Database::db", "done    create   urn:pulumi:staging::enginetest::test:store:Database::db ("} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	outs, err := d.Outputs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if outs["answer"] != float64(42) || outs["token"] != "[secret]" {
		t.Errorf("outputs %v", outs)
	}
	again, err := d.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes() != 0 {
		t.Errorf("second preview changes %v, want none", again.Counts)
	}

	// Drift: the program changed and was not applied.
	drifted := reopen(t, d, program(true, true))
	if _, err := drifted.DetectDrift(ctx); !errors.Is(err, ErrDrift) {
		t.Errorf("drift check answered %v, want ErrDrift", err)
	}
	if _, err := reopen(t, d, program(true, false)).DetectDrift(ctx); err != nil {
		t.Errorf("no-drift check answered %v", err)
	}

	// The gate: a program that deletes the database is refused…
	gone := reopen(t, d, program(false, false))
	s, err := gone.Up(ctx)
	if !errors.Is(err, ErrGate) {
		t.Fatalf("deleting the database answered %v, want ErrGate", err)
	}
	if len(s.Blocked) != 1 || s.Blocked[0].Type != "test:store:Database" || !strings.Contains(s.Markdown(), "**Refused:**") {
		t.Errorf("blocked %+v", s.Blocked)
	}
	if still, _ := reopen(t, d, program(true, false)).Preview(ctx); still.Changes() != 0 {
		t.Errorf("the refused update changed the stack: %v", still.Counts)
	}
	// …unless its URN is allowed.
	dbURN := s.Blocked[0].URN
	if _, err := reopen(t, d, program(false, false), dbURN).Up(ctx); err != nil {
		t.Fatalf("allowed deletion failed: %v", err)
	}
}

func TestRealEngineRefusesToDestroyProduction(t *testing.T) {
	ctx := context.Background()
	d, _ := engine(t, "production", program(true, false))
	if _, err := d.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Destroy(ctx, true, false); !errors.Is(err, ErrProductionDestroy) {
		t.Fatalf("destroy answered %v, want ErrProductionDestroy", err)
	}
	outs, err := d.Outputs(ctx)
	if err != nil || outs["answer"] != float64(42) {
		t.Errorf("the stack is gone after a refused destroy: %v %v", outs, err)
	}
	s, err := d.Destroy(ctx, true, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Counts["delete"] < 2 {
		t.Errorf("confirmed destroy deleted %v", s.Counts)
	}
}

// TestMistypedStackIsRefused: without Create, a stack the backend does not
// have is refused, naming the stacks it has, and nothing is created; with
// Create it is made.
func TestMistypedStackIsRefused(t *testing.T) {
	ctx := context.Background()
	d, _ := engine(t, "staging", program(false, false))
	opts := d.opts
	opts.Stack, opts.Create = "stagign", false
	_, err := Open(ctx, opts)
	if !errors.Is(err, ErrNoStack) || !strings.Contains(err.Error(), `"stagign"`) || !strings.Contains(err.Error(), "stacks: staging") ||
		!strings.Contains(err.Error(), "--create") {
		t.Fatalf("a mistyped stack: %v", err)
	}
	names, err := stackNames(ctx, d.stack.Workspace())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, " ") != "staging" {
		t.Errorf("stacks after the refusal: %v", names)
	}
	if _, err := Open(ctx, opts); err == nil || !errors.Is(err, ErrNoStack) {
		t.Errorf("a second try was not refused too: %v", err)
	}
	opts.Create = true
	if _, err := Open(ctx, opts); err != nil {
		t.Fatalf("--create: %v", err)
	}
	if names, _ = stackNames(ctx, d.stack.Workspace()); strings.Join(names, " ") != "stagign staging" {
		t.Errorf("stacks after --create: %v", names)
	}
}

// TestFailingProgramPreviewReportsFailure: on the real engine, a program
// that fails makes a preview that fails, carrying the program's message
// whole in JSON and Markdown; never "No changes".
func TestFailingProgramPreviewReportsFailure(t *testing.T) {
	ctx := context.Background()
	failing := func(*pulumi.Context) error {
		return errors.New("stack \"staging\": config cluster.version = \"1.21\": is not a supported Kubernetes version")
	}
	d, _ := engine(t, "staging", failing)
	s, err := d.Preview(ctx)
	if err == nil {
		t.Fatal("the preview of a failing program succeeded")
	}
	if s == nil || !s.Failed {
		t.Fatalf("summary %+v does not say it failed", s)
	}
	md := s.Markdown()
	if !strings.Contains(md, "**failed**") || !strings.Contains(md, "is not a supported Kubernetes version") || strings.Contains(md, "No changes") {
		t.Errorf("markdown:\n%s", md)
	}
	raw, err := s.JSON()
	if err != nil || !strings.Contains(string(raw), `"failed": true`) || !strings.Contains(string(raw), "is not a supported Kubernetes version") {
		t.Errorf("JSON %s %v", raw, err)
	}
}

// imagesProgram exports the images its config sets, as infra.Program's
// deployedImages output does.
func imagesProgram(ctx *pulumi.Context) error {
	images := map[string]string{}
	if raw, ok := ctx.GetConfig("enginetest:images"); ok {
		if err := json.Unmarshal([]byte(raw), &images); err != nil {
			return err
		}
	}
	ctx.Export("deployedImages", pulumi.ToStringMap(images))
	return nil
}

// nextRun is the driver a later pipeline run opens: a fresh checkout of
// the committed files (stackFile as the stack's file) against the same
// backend.
func nextRun(t *testing.T, d *Driver, stackFile string, images map[string]string) *Driver {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"Pulumi.yaml": "name: enginetest\nruntime: go\n", "Pulumi." + d.opts.Stack + ".yaml": stackFile,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := d.opts
	opts.Dir, opts.Images, opts.Program, opts.Create = dir, images, imagesProgram, false
	next, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

// TestDeployedImagesLast: an image deployed with --image stays deployed
// through the next plain up from a fresh checkout (and is no drift); a
// stack file that pins an image wins; DeployedImages reads what the stack
// runs, which is what promote deploys.
func TestDeployedImagesLast(t *testing.T) {
	ctx := context.Background()
	const committed = "config:\n  enginetest:greeting: hello\n"
	d, _ := engine(t, "staging", imagesProgram)
	deployed := func(d *Driver) map[string]string {
		t.Helper()
		images, err := d.DeployedImages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return images
	}

	withImage := nextRun(t, d, committed, map[string]string{"api": "2.0.0"})
	if _, err := withImage.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := deployed(withImage); got["api"] != "2.0.0" {
		t.Fatalf("after up --image: %v", got)
	}

	plain := nextRun(t, d, committed, nil)
	if _, err := plain.DetectDrift(ctx); err != nil {
		t.Errorf("the deployed image reads as drift: %v", err)
	}
	if _, err := plain.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := deployed(plain); got["api"] != "2.0.0" {
		t.Errorf("a plain up reverted the image: %v", got)
	}

	pinned := nextRun(t, d, committed+"  enginetest:images:\n    api: 3.0.0\n", nil)
	if _, err := pinned.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := deployed(pinned); got["api"] != "3.0.0" {
		t.Errorf("the stack file's pin did not win: %v", got)
	}
}
