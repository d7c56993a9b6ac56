// Command platform is the platform's own tool: it renders a stack offline,
// and (as later subcommands land) checks, previews and deploys it through
// the Automation API. Every subcommand runs the same infra.Program.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit statuses, documented in the README.
const (
	exitOK    = 0
	exitError = 1 // the command failed: bad input, bad config, a failed run
	exitUsage = 2 // the command line itself is wrong
)

// command is one subcommand.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"render":  {"print a stack's whole plan offline: no cloud account, no Pulumi CLI", runRender},
		"check":   {"hold a stack's plan to every policy rule; exit 1 on a finding not waived", runCheck},
		"preview": {"preview a stack's update through the Automation API", runDeploy("preview")},
		"up":      {"update a stack, refusing to replace or delete stateful resources", runDeploy("up")},
		"refresh": {"read a stack's resources back from the cloud", runDeploy("refresh")},
		"destroy": {"destroy a stack (production needs --i-understand-production-is-destroyed)", runDeploy("destroy")},
		"outputs": {"print a stack's outputs as JSON, secrets masked", runDeploy("outputs")},
		"promote": {"deploy the images of one stack to another (--from staging --to production)", runDeploy("promote")},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "platform: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return exitUsage
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("usage: platform <command> [flags]\n\ncommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nRun 'platform <command> --help' for a command's flags.\n")
	io.WriteString(w, b.String())
}

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc
}

// validateArgs parses a command line the way the command would, without
// running it: the docs test holds every documented invocation to it.
func validateArgs(args []string) error {
	if len(args) == 0 {
		return errors.New("no command")
	}
	var stderr strings.Builder
	name, rest := args[0], args[1:]
	switch name {
	case "render", "check":
		f := newRenderFlags(&stderr)
		if name == "check" {
			f = newCheckFlags(&stderr)
		}
		if err := f.fs.Parse(rest); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if name == "check" && *f.format != "table" && *f.format != "json" {
			return fmt.Errorf("check: --format %q", *f.format)
		}
		if name == "render" {
			// The manifests format takes its output folder as an argument.
			if msg := f.problem(); msg != "" {
				return errors.New(msg)
			}
			return nil
		}
		if *f.stack == "" || f.fs.NArg() > 0 {
			return fmt.Errorf("%s: --stack is required, no arguments", name)
		}
		return nil
	case "preview", "up", "refresh", "destroy", "outputs", "promote":
		f := newDeployFlags(name, &stderr)
		if err := f.fs.Parse(rest); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		if msg := f.usageProblem(name); msg != "" {
			return fmt.Errorf("%s: %s", name, msg)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", name)
}
