package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/personalization/platform/infra"
	"github.com/personalization/platform/offline"
	"github.com/personalization/platform/policy"
	"github.com/personalization/platform/stacks"
)

func newCheckFlags(stderr io.Writer) *renderFlags {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	return &renderFlags{
		fs:     fs,
		stack:  fs.String("stack", "", "stack to check"),
		format: fs.String("format", "table", "output format: table or json"),
		dir:    fs.String("dir", "", "project folder holding Pulumi.yaml (default: found above the working directory)"),
	}
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	f := newCheckFlags(stderr)
	fs, stack, format, dir := f.fs, f.stack, f.format, f.dir
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: platform check --stack NAME [--format table|json] [--dir DIR]")
		fmt.Fprintln(stderr, "\nHolds the stack's rendered plan to every policy rule; exits 1 on any finding not waived.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *stack == "" || fs.NArg() > 0 || (*format != "table" && *format != "json") {
		fs.Usage()
		return exitUsage
	}
	g, err := offline.Run(infra.Program, offline.Options{Dir: *dir, Stack: *stack})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	profile, err := offline.Profile(offline.Options{Dir: *dir, Stack: *stack})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	report, err := policy.Evaluate(g, profile.Environment == stacks.Production, waivers(profile))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	if *format == "json" {
		if err := jsonEncoder(stdout).Encode(report); err != nil {
			fmt.Fprintln(stderr, err)
			return exitError
		}
	} else {
		writeReport(stdout, report)
	}
	if report.Failed() > 0 {
		return exitError
	}
	return exitOK
}

func waivers(p *stacks.Profile) []policy.Waiver {
	var out []policy.Waiver
	for _, w := range p.Policy.Waivers {
		out = append(out, policy.Waiver{Rule: w.Rule, URN: w.URN, Reason: w.Reason})
	}
	return out
}

func writeReport(w io.Writer, r *policy.Report) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "stack %s: %d rules, %d checks, %d findings (%d not waived)\n", r.Stack, r.Rules, r.Checked, len(r.Findings), r.Failed())
	if len(r.Findings) > 0 {
		fmt.Fprintln(tw, "\nRULE\tSEVERITY\tSTATUS\tRESOURCE\tFINDING")
		for _, f := range r.Findings {
			status := "FAIL"
			if f.Waived {
				status = "waived: " + f.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", f.Rule, f.Severity, status, f.URN, f.Message)
		}
	}
	tw.Flush()
}
