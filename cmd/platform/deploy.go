package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/personalization/platform/deploy"
	"github.com/personalization/platform/infra"
	"github.com/personalization/platform/offline"
)

// Exit statuses of the deploy commands beyond the common ones.
const (
	exitDrift = 3 // --expect-no-changes found changes
	exitGate  = 4 // a stateful resource would be replaced or deleted
)

// listFlag is a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type deployFlags struct {
	fs              *flag.FlagSet
	stack, from, to string
	dir, root       string
	markdown        string
	json, yes       bool
	expectNoChanges bool
	confirmProdKill bool
	images          listFlag
	allowReplace    listFlag
	create          bool
}

func newDeployFlags(name string, stderr io.Writer) *deployFlags {
	f := &deployFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	if name == "promote" {
		f.fs.StringVar(&f.from, "from", "", "stack whose images are promoted")
		f.fs.StringVar(&f.to, "to", "", "stack the images are deployed to")
	} else {
		f.fs.StringVar(&f.stack, "stack", "", "stack to operate on")
	}
	f.fs.StringVar(&f.dir, "dir", "", "project folder holding Pulumi.yaml (default: found above the working directory)")
	f.fs.StringVar(&f.root, "pulumi-root", "", "folder whose bin/pulumi is the CLI to use (default: pulumi on PATH)")
	f.fs.BoolVar(&f.json, "json", false, "print the result as JSON on stdout")
	f.fs.StringVar(&f.markdown, "markdown", "", "write the result as a pull-request comment to FILE")
	f.fs.Var(&f.images, "image", "SERVICE=REF: deploy this image of a service (repeatable)")
	if name == "preview" || name == "up" {
		f.fs.BoolVar(&f.create, "create", false, "create the stack if the backend has none of that name (otherwise a missing stack is refused)")
	}
	switch name {
	case "up", "promote":
		f.fs.BoolVar(&f.yes, "yes", false, "update without asking (required: the tool never prompts)")
		f.fs.Var(&f.allowReplace, "allow-replace", "URN of a stateful resource the update may replace or delete (repeatable)")
	case "preview":
		f.fs.BoolVar(&f.expectNoChanges, "expect-no-changes", false, "refresh, then preview; exit 3 if anything would change (drift)")
	case "destroy":
		f.fs.BoolVar(&f.yes, "yes", false, "destroy without asking (required)")
		f.fs.BoolVar(&f.confirmProdKill, "i-understand-production-is-destroyed", false, "allow destroying a production stack")
	}
	return f
}

func runDeploy(name string) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		f := newDeployFlags(name, stderr)
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK
			}
			return exitUsage
		}
		if msg := f.usageProblem(name); msg != "" {
			fmt.Fprintf(stderr, "platform %s: %s\n", name, msg)
			return exitUsage
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		code, err := f.run(ctx, name, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "platform %s: %v\n", name, err)
		}
		return code
	}
}

func (f *deployFlags) usageProblem(name string) string {
	switch {
	case f.fs.NArg() > 0:
		return "unexpected arguments " + strings.Join(f.fs.Args(), " ")
	case name == "promote" && (f.from == "" || f.to == ""):
		return "--from and --to are required"
	case name == "promote" && f.from == f.to:
		return fmt.Sprintf("--from and --to are both %q: promote copies one stack's images to another", f.from)
	case name != "promote" && f.stack == "":
		return "--stack is required"
	case (name == "up" || name == "promote" || name == "destroy") && !f.yes:
		return "--yes is required: the tool never prompts"
	}
	for _, img := range f.images {
		if svc, ref, ok := strings.Cut(img, "="); !ok || svc == "" || ref == "" {
			return fmt.Sprintf("--image %q is not SERVICE=REF", img)
		}
	}
	return ""
}

func (f *deployFlags) run(ctx context.Context, name string, stdout, stderr io.Writer) (int, error) {
	project, err := offline.LoadProjectIn(f.dir)
	if err != nil {
		return exitError, err
	}
	dir := project.Dir
	target := f.stack
	if name == "promote" {
		target = f.to
	}
	if err := checkImageServices(dir, target, f.images); err != nil {
		return exitError, err
	}
	if _, err := deploy.CheckCLI(f.root); err != nil {
		return exitError, err
	}
	if err := checkAWSCredentials(ctx); err != nil {
		return exitError, err
	}
	stack := f.stack
	images := map[string]string{}
	if name == "promote" {
		stack = f.to
		if images, err = deployedImages(ctx, deploy.Options{Dir: dir, Project: project.Name, Stack: f.from, Program: infra.Program,
			PulumiRoot: f.root, DeployedImagesOutput: infra.DeployedImagesOutput}); err != nil {
			return exitError, err
		}
	}
	for _, img := range f.images {
		svc, ref, _ := strings.Cut(img, "=")
		images[svc] = ref
	}
	d, err := deploy.Open(ctx, deploy.Options{
		Dir: dir, Project: project.Name, Stack: stack, Program: infra.Program, PulumiRoot: f.root,
		Images: images, AllowReplace: f.allowReplace, Progress: stderr, Create: f.create,
		DeployedImagesOutput: infra.DeployedImagesOutput, KeepDeployedImages: true,
	})
	if err != nil {
		return exitError, err
	}
	var summary *deploy.Summary
	switch name {
	case "preview":
		if f.expectNoChanges {
			summary, err = d.DetectDrift(ctx)
		} else {
			summary, err = d.Preview(ctx)
		}
	case "up", "promote":
		summary, err = d.Up(ctx)
	case "refresh":
		summary, err = d.Refresh(ctx)
	case "destroy":
		summary, err = d.Destroy(ctx, isProduction(dir, project.Name, stack), f.confirmProdKill)
	case "outputs":
		outs, oerr := d.Outputs(ctx)
		if oerr != nil {
			return exitError, oerr
		}
		return exitOK, printJSON(stdout, outs)
	}
	if werr := f.report(summary, stdout); werr != nil && err == nil {
		err = werr
	}
	switch {
	case errors.Is(err, deploy.ErrGate):
		for _, st := range summary.Blocked {
			fmt.Fprintf(stderr, "refused: %s %s (allow with --allow-replace %s)\n", st.Op, st.URN, st.URN)
		}
		return exitGate, err
	case errors.Is(err, deploy.ErrDrift):
		return exitDrift, err
	case err != nil:
		return exitError, err
	}
	return exitOK, nil
}

func (f *deployFlags) report(s *deploy.Summary, stdout io.Writer) error {
	if s == nil {
		return nil
	}
	if f.markdown != "" {
		if err := os.WriteFile(f.markdown, []byte(s.Markdown()), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", f.markdown, err)
		}
	}
	if f.json {
		b, err := s.JSON()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, string(b))
		return err
	}
	fmt.Fprintf(stdout, "%s %s: %d changes %v\n", s.Operation, s.Stack, s.Changes(), s.Counts)
	return nil
}

// checkImageServices refuses, before anything runs, an --image for a
// service the stack's workload set does not define.
func checkImageServices(dir, stack string, images []string) error {
	if len(images) == 0 {
		return nil
	}
	profile, err := offline.Profile(offline.Options{Dir: dir, Stack: stack})
	if err != nil {
		return err
	}
	services := make([]string, 0, len(profile.Workloads))
	for svc := range profile.Workloads {
		services = append(services, svc)
	}
	sort.Strings(services)
	for _, img := range images {
		svc, _, _ := strings.Cut(img, "=")
		if _, ok := profile.Workloads[svc]; !ok {
			return fmt.Errorf("--image %s: stack %s defines no service %q; its services: %s", img, stack, svc, strings.Join(services, ", "))
		}
	}
	return nil
}

// deployedImages are the images the promoted stack actually runs, read
// from its last update's outputs, never from its committed file alone.
func deployedImages(ctx context.Context, source deploy.Options) (map[string]string, error) {
	src, err := deploy.Open(ctx, source)
	if err != nil {
		return nil, fmt.Errorf("promote: %w", err)
	}
	images, err := src.DeployedImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("promote: %w", err)
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("promote: stack %s runs no images yet (its %s output is empty): deploy it first", source.Stack, source.DeployedImagesOutput)
	}
	return images, nil
}

// isProduction says whether a stack is production: by name, or by its
// environment key.
func isProduction(dir, project, stack string) bool {
	if stack == "production" {
		return true
	}
	raw, err := os.ReadFile(filepath.Join(dir, "Pulumi."+stack+".yaml"))
	if err != nil {
		return false
	}
	var doc struct {
		Config map[string]any `yaml:"config"`
	}
	if yaml.Unmarshal(raw, &doc) != nil {
		return false
	}
	return doc.Config["environment"] == "production" || doc.Config[project+":environment"] == "production"
}

func printJSON(w io.Writer, v any) error {
	enc := jsonEncoder(w)
	return enc.Encode(v)
}
