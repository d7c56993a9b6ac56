//go:build tools

// Package tools pins Trivy, the scanner whose embedded checks the scanner
// bridge tests hold the stacks to.
package tools

import _ "github.com/aquasecurity/trivy/cmd/trivy"
