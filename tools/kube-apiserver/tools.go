//go:build tools

// Package tools pins kube-apiserver for the real-validator tests: `make
// tools` builds it into .tools/bin from this module, never the program's.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
