// Package acceptance holds the tests that run the platform's rendered
// artifacts through real servers and engines: every Kubernetes object
// through a real kube-apiserver, every alert through Prometheus's rule
// engine.
package acceptance

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/personalization/platform/internal/kubeapiserver"
	"github.com/personalization/platform/offline"
)

// apiServer is the kube-apiserver this test binary started, shared by its
// tests: starting one costs seconds.
var apiServer *kubeapiserver.Server

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	project, err := offline.FindProjectDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bins, err := kubeapiserver.FindBinaries(project)
	if err != nil {
		// Not a skip: a missing server is a failure that says how to fix it.
		fmt.Fprintln(os.Stderr, "acceptance:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kube-apiserver-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	apiServer, err = kubeapiserver.Start(context.Background(), bins, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "acceptance: start kube-apiserver:", err)
		return 1
	}
	defer apiServer.Stop()
	if err := installCRDs(filepath.Join(project, ".tools", "crds")); err != nil {
		fmt.Fprintln(os.Stderr, "acceptance:", err)
		return 1
	}
	return m.Run()
}

// tool is the path of a binary `make tools` builds into .tools/bin; a
// missing one fails the test, naming the command that builds it.
func tool(t *testing.T, name string) string {
	t.Helper()
	project, err := offline.FindProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(project, ".tools", "bin", name)
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run `make tools`", bin)
	}
	return bin
}
