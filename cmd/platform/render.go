package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/personalization/platform/infra"
	"github.com/personalization/platform/manifests"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/render"
	"github.com/personalization/platform/stacks"
	"github.com/personalization/platform/tfplan"
)

type renderFlags struct {
	fs                 *flag.FlagSet
	stack, format, dir *string
}

func newRenderFlags(stderr io.Writer) *renderFlags {
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &renderFlags{
		fs:     fs,
		stack:  fs.String("stack", "", "stack to render (dev, staging, production, or any Pulumi.<stack>.yaml)"),
		format: fs.String("format", string(render.Tree), fmt.Sprintf("output format: %v", render.Formats())),
		dir:    fs.String("dir", "", "project folder holding Pulumi.yaml (default: found above the working directory)"),
	}
}

// The scanner formats: manifestsFormat writes every Kubernetes object as
// a YAML file into a folder; tfplanFormat writes the AWS resources as a
// Terraform plan in JSON to standard output, for Trivy, checkov and KICS.
const (
	manifestsFormat = "manifests"
	tfplanFormat    = "tfplan"
)

const renderUsage = "usage: platform render --stack NAME [--format tree|json|dot|tfplan] [--dir DIR]\n       platform render --stack NAME --format manifests OUTDIR [--dir DIR]"

// problem says what is wrong with parsed flags, or "".
func (f *renderFlags) problem() string {
	wantArgs := 0
	if *f.format == manifestsFormat {
		wantArgs = 1
	}
	switch {
	case *f.stack == "" || f.fs.NArg() != wantArgs:
		return renderUsage
	case *f.format != manifestsFormat && *f.format != tfplanFormat && !slices.Contains(render.Formats(), render.Format(*f.format)):
		return fmt.Sprintf("--format %q is not a format; allowed: %v, %s, %s", *f.format, render.Formats(), tfplanFormat, manifestsFormat)
	}
	return ""
}

func runRender(args []string, stdout, stderr io.Writer) int {
	f := newRenderFlags(stderr)
	fs, stack, format, dir := f.fs, f.stack, f.format, f.dir
	fs.Usage = func() {
		fmt.Fprintln(stderr, renderUsage)
		fmt.Fprintln(stderr, "\nRuns the stack's program on Pulumi's mock runtime against its real stack file and prints every resource it would create;")
		fmt.Fprintln(stderr, "with --format tfplan, prints its AWS resources as a Terraform plan in JSON, for Trivy, checkov and KICS;")
		fmt.Fprintln(stderr, "with --format manifests, writes every Kubernetes object as a YAML file into OUTDIR (new or empty), for Kubernetes scanners.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *stack == "" {
		fs.Usage()
		return exitUsage
	}
	if msg := f.problem(); msg != "" {
		fmt.Fprintf(stderr, "platform render: %s\n", msg)
		return exitUsage
	}

	program, err := programOf(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "platform render:", err)
		return exitError
	}
	g, err := offline.Run(program, offline.Options{Dir: *dir, Stack: *stack})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	if *format == manifestsFormat {
		objs, err := manifests.FromGraph(g)
		if err == nil {
			err = manifests.Write(fs.Arg(0), objs)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		fmt.Fprintf(stdout, "%d Kubernetes objects of %s written to %s\n", len(objs), *stack, fs.Arg(0))
		return exitOK
	}
	if *format == tfplanFormat {
		// The whole plan is built before a byte is written: a type without
		// a mapping fails with nothing half-written.
		plan, err := tfplan.FromGraph(g)
		var out []byte
		if err == nil {
			out, err = tfplan.Marshal(plan)
		}
		if err == nil {
			_, err = stdout.Write(out)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
		return exitOK
	}
	if err := render.Write(stdout, g, render.Format(*format)); err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	return exitOK
}

// programs are the repository's Pulumi projects' programs, by project name.
var programs = map[string]pulumi.RunFunc{
	stacks.Project:          infra.Program,
	stacks.BootstrapProject: infra.Bootstrap,
}

// programOf is the program of the project in dir (found above the working
// directory when dir is empty).
func programOf(dir string) (pulumi.RunFunc, error) {
	project, err := offline.LoadProjectIn(dir)
	if err != nil {
		return nil, err
	}
	program, ok := programs[project.Name]
	if !ok {
		return nil, fmt.Errorf("%s holds project %q, which has no program here; projects: %s, %s", project.Dir, project.Name, stacks.Project, stacks.BootstrapProject)
	}
	return program, nil
}
